"""The small set of exceptions the library raises; the CLI turns them into messages.

Messages are output too: ``quote`` shows a user's value short (``QUOTE_LIMIT`` characters)
with control characters escaped, and ``InputError`` escapes every part of its message, so a
file name, key or value can never move the cursor, clear the screen or add a line.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

QUOTE_LIMIT = 60
# Dates outside these years are typing errors, and near year 1 or 9999 time zone arithmetic
# overflows. Here, not in articles.py, so the CLI reads --now without importing the loader.
MIN_YEAR, MAX_YEAR = 1970, 9000
PART_LIMIT = 400
# C0 and C1 controls, DEL, line and paragraph separators, and the invisible direction and
# byte-order marks that can make a terminal line read differently from what it holds.
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    r"""Return ``text`` with every control character written as an escape such as ``\x1b``.

    With ``keep_newlines``, ``\n`` stays a line break (for messages of several lines).
    """
    if keep_newlines:
        return "\n".join(_CONTROL.sub(_escape_one, line) for line in text.split("\n"))
    return _CONTROL.sub(_escape_one, text)


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """Return a user's value for a message: quoted, at most ``limit`` characters, escaped."""
    text = value if isinstance(value, str) else str(value)
    cut = text[:limit] + "…" if len(text) > limit else text
    return "'" + escape_controls(cut) + "'"


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
