"""The small set of exceptions the library raises; the CLI turns them into messages.

Messages are output too: ``quote`` is the one way a user's value enters a message. It shows
the value short (``QUOTE_LIMIT`` characters) with every character a reader cannot see
written as an escape (``\\x1b``, ``\\u200b``), and ``InputError`` escapes every part of its
message the same way, so a file name, key or value can never move the cursor, clear the
screen, add a line or hide a character (a tag that reads "slaap" but is "sla\\u200bap").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path
from zoneinfo import ZoneInfo

QUOTE_LIMIT = 60
# Dates outside these years are typing errors, and near year 1 or 9999 time zone arithmetic
# overflows. Here, not in articles.py, so the CLI reads --now without importing the loader.
MIN_YEAR, MAX_YEAR = 1970, 9000
PART_LIMIT = 400
# Characters that draw nothing although Unicode counts them as letters, marks or symbols
# (str.isprintable() says True): the Default_Ignorable_Code_Point ones (Hangul fillers,
# combining grapheme joiner, Khmer inherent vowels, Mongolian and other variation selectors)
# and the braille blank. Every other invisible character is caught by its category.
_BLANK = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u2800\u3164\ufe00-\ufe0f\uffa0"
    "\U000e0100-\U000e01ef]"
)
# Written with a backslash inside a quoted value, so the quote's end and the escapes are
# never ambiguous.
_QUOTE_SPECIALS = frozenset("\\'")


def is_hidden(char: str) -> bool:
    """Tell whether a reader cannot see ``char`` (or cannot tell it from a space).

    ``str.isprintable()`` is False exactly for the categories Cc, Cf, Cs, Co, Cn, Zl, Zp and
    Zs other than the ASCII space (CPython derives it from the same Unicode tables as
    ``unicodedata.category``); ``_BLANK`` adds the printable characters that draw nothing.
    """
    return not char.isprintable() or _BLANK.match(char) is not None


def escape_char(char: str) -> str:
    r"""Return the escape that shows ``char``: ``\x1b``, ``\xff``, ``\u200b`` or ``\U000e0041``.

    ``\x00`` to ``\x7f`` is an ASCII character; ``\x80`` to ``\xff`` is a byte that is not
    UTF-8, as a file name read from the disk carries it (U+DC80 to U+DCFF, Python's
    surrogateescape); every other character is its code point, so no two escapes are alike.
    """
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _not_nfc(text: str) -> bool:
    """Tell whether ``text`` differs from its NFC form, which looks the same to a reader.

    "cafe" + U+0301 looks like "café" but is another value (another slug, another file).
    """
    return not text.isascii() and not unicodedata.is_normalized("NFC", text)


def _plain(text: str, specials: frozenset[str] = frozenset()) -> bool:
    """Tell whether ``text`` shows as it is: nothing hidden, nothing to escape (the fast path)."""
    return (
        text.isprintable()
        and _BLANK.search(text) is None
        and not _not_nfc(text)
        and not any(char in text for char in specials)
    )


def _pieces(text: str, specials: frozenset[str] = frozenset()) -> list[str]:
    """Return ``text`` as pieces: each character as it is, or the escape that shows it.

    In a text that is not in NFC the combining marks are escaped too, to tell it apart.
    """
    marks = _not_nfc(text)
    pieces = []
    for char in text:
        if is_hidden(char) or (marks and unicodedata.category(char)[0] == "M"):
            pieces.append(escape_char(char))
        elif char in specials:
            pieces.append("\\" + char)
        else:
            pieces.append(char)
    return pieces


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    r"""Return a message with every character a reader cannot see written as an escape.

    For a whole message (its values already went through :func:`quote`): control, format
    and separator characters become escapes such as ``\x1b`` or ``\u200b``; a backslash
    stays as it is. With ``keep_newlines``, ``\n`` stays a line break (for messages of
    several lines).
    """
    if keep_newlines:
        return "\n".join(escape_controls(line) for line in text.split("\n"))
    if _plain(text):
        return text
    return "".join(_pieces(text))


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    r"""Return a user's value for a message: quoted, short, every invisible character escaped.

    The result is plain printable text: ``'`` and ``\`` inside are written ``\'`` and
    ``\\``, so two different values that fit the limit never look the same. ``limit``
    counts the characters shown, escapes included; a longer value is cut and ends in "…".
    """
    text = value if isinstance(value, str) else str(value)
    if _plain(text[: limit + 1], _QUOTE_SPECIALS):
        return "'" + text[:limit] + ("…'" if len(text) > limit else "'")
    shown: list[str] = []
    size = 0
    for piece in _pieces(text[: limit + 1], _QUOTE_SPECIALS):
        if size + len(piece) > limit:
            return "'" + "".join(shown) + "…'"
        shown.append(piece)
        size += len(piece)
    return "'" + "".join(shown) + "'"


def local_time(moment: dt.datetime, zone: ZoneInfo) -> str:
    """Return a moment for a message: local time with its offset, to the second."""
    return moment.astimezone(zone).isoformat(timespec="seconds")


def _part(text: str) -> str:
    cut = text[:PART_LIMIT] + "…" if len(text) > PART_LIMIT else text
    return escape_controls(cut)


class NieuwsbriefError(Exception):
    """Base class for every error a user can fix: bad input, a failed build."""


class ArgumentError(NieuwsbriefError):
    """An argument of a library call that cannot be used, named as the library names it.

    ``argument`` is the parameter's name (``digest_week``, ``to``); the command line maps
    it to its option (``--digest-week``), so library messages never speak of options.
    """

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(f"{argument}: {problem}")
        self.argument = argument
        self.problem = problem


class InputError(NieuwsbriefError):
    """A file the user wrote is wrong; name the file, the field and the fix."""

    def __init__(
        self, path: Path | str, problem: str, *, field: str | None = None, fix: str | None = None
    ) -> None:
        self.path = Path(path)
        self.field = field
        self.problem = problem
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        where = escape_controls(str(self.path))
        if self.field is not None:
            where += f": field {quote(self.field)}"
        message = f"{where}: {_part(self.problem)}"
        if self.fix:
            message += f" ({_part(self.fix)})"
        return message


class ConfigError(InputError):
    """schedule.yaml is missing or invalid."""


class InvalidSettings(ConfigError):
    """schedule.yaml has one or more problems; holds every one, one line each."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.path, first.problem, field=first.field, fix=first.fix)

    def __str__(self) -> str:
        return "\n".join(ConfigError.__str__(error) for error in self.errors)


class ArticleError(InputError):
    """An article file is invalid; ``also`` holds the file's further problems, if any."""

    also: tuple[ArticleError, ...] = ()


class BuildError(NieuwsbriefError):
    """The build could not finish (a lock is held, the output folder is unusable, ...)."""


class TemplateError(BuildError):
    """A template cannot be compiled or rendered; names the template file and line."""

    def __init__(self, template: str, line: int | None, problem: str) -> None:
        self.template = template
        self.line = line
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.template}:{self.line}" if self.line else self.template
        return escape_controls(f"{where}: template error: {_part(self.problem)}")


def template_error(exc: BaseException, template: Path) -> TemplateError:
    """Return an error naming the template file and line where compiling or rendering failed.

    Jinja compiles templates to Python code whose frames carry the template's file name and
    line, so the innermost such frame of the traceback is where the editor should look; a
    syntax error knows its own file and line, also in an included template.
    """
    import traceback

    where, line = str(template), None
    filename = getattr(exc, "filename", None)
    lineno = getattr(exc, "lineno", None)
    if isinstance(filename, str) and isinstance(lineno, int):
        where, line = filename, lineno
    else:
        folder = template.parent.resolve()
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            try:
                inside = Path(frame.filename).resolve().is_relative_to(folder)
            except (OSError, ValueError):
                inside = False
            if inside:
                where, line = frame.filename, frame.lineno
                break
    kind = {
        "RecursionError": "includes or calls itself without end",
        "TemplateNotFound": "includes a template that is not in templates/",
        "UndefinedError": "uses an unknown variable",
        "TemplateSyntaxError": "syntax error",
        "MemoryError": "needs more memory than this machine has",
    }.get(type(exc).__name__, f"cannot be rendered ({type(exc).__name__})")
    detail = str(getattr(exc, "message", None) or exc).split("\n")[0]
    if not detail and isinstance(exc, MemoryError):
        detail = "make the values it builds smaller"
    return TemplateError(where, line, f"{kind}: {detail[:200]}")
