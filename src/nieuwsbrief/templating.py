"""The one way nieuwsbrief reads and renders editable templates (docs/guarantees.md).

An edited template is code that runs on every build, so every template goes through the same
walls: a sandboxed Jinja environment (no attribute tricks, no mutation), a loader that reads
only regular files of bounded size whose real path is inside their folder (the project's
``templates/`` first, the package's defaults behind where a stage allows them), a bound on the
output of one render, on the size of one ``*`` or ``**`` and on the loop iterations of one
render, and a link filter for the HTML that goes on the web.
"""

from __future__ import annotations

import contextvars
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from types import BuiltinMethodType
from typing import TYPE_CHECKING, Any

from nieuwsbrief.errors import BuildError, template_error

if TYPE_CHECKING:
    import jinja2

# The project's folder of editable templates (and the default copies' folder in the skeleton).
TEMPLATES_DIR = "templates"

MAX_TEMPLATE_OUTPUT = 5_000_000  # characters one render may produce
MAX_TEMPLATE_VALUE = 1_000_000  # items or characters one * or ** may produce
MAX_TEMPLATE_BYTES = 1_000_000  # size of one template file
MAX_LOOP_ITERATIONS = 1_000_000  # iterations of all loops of one render together
MAX_NUMBER_BITS = 100_000  # size of one number a * or ** may make (about 30,000 digits)


class TemplateOutside(Exception):
    """A template (or the folder) whose real path is outside its templates folder."""


class TemplateRefused(Exception):
    """A template file that is not a regular file, or too large; the message says which."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(name)
        self.name = name
        self.problem = problem


class LoopLimit(Exception):
    """One render ran more loop iterations than ``MAX_LOOP_ITERATIONS``."""


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_LOOP_ITERATIONS


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "nieuwsbrief_loop_budget", default=None
)


def _outside(path: Path, folder: Path) -> bool:
    return not path.resolve().is_relative_to(folder.resolve())


def read_template_file(folder: Path, name: str) -> bytes | None:
    """Read ``folder/name`` with the loader's checks; None when there is no such file.

    Raises ``TemplateOutside`` for a real path outside ``folder`` (read nothing) and
    ``TemplateRefused`` for a FIFO, device, folder or a file over ``MAX_TEMPLATE_BYTES``.
    """
    from jinja2.loaders import split_template_path

    pieces = split_template_path(name)  # TemplateNotFound for '..' before any check
    path = folder.joinpath(*pieces)
    if not os.path.lexists(path):
        return None
    if _outside(path, folder):
        raise TemplateOutside(name)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise TemplateRefused(name, f"cannot be read ({exc.strerror})") from None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise TemplateRefused(name, "is not a regular file; make it a plain text file")
        data = handle.read(MAX_TEMPLATE_BYTES + 1)
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateRefused(
            name, f"is larger than {MAX_TEMPLATE_BYTES:,} bytes; a template is a short text file"
        )
    return data


def _wrap_loops(template: Any) -> Any:
    """Make every ``{% for %}`` of a parsed template count its iterations (``count_loop``)."""
    from jinja2 import nodes

    for loop in template.find_all(nodes.For):
        loop.iter = nodes.Call(
            nodes.EnvironmentAttribute("count_loop"), [loop.iter], [], None, None
        ).set_lineno(loop.lineno)
    return template


# --- Bounds on the size of one value -------------------------------------------------------
# The output bound is checked on what a render writes; a value a template makes and keeps (in
# a namespace, a macro's argument, a {% set %} block) is never written, and one call such as
# "x".center(10**9) allocates its whole result at once. So every operation that can make a
# value much longer than its inputs (~, +, *, %, str.format, the padding and joining methods
# and filters) first works out how long the result would be, and refuses before it allocates.

_END = object()


def _too_long(what: str) -> OverflowError:
    return OverflowError(f"{what} makes a value longer than {MAX_TEMPLATE_VALUE:,} characters")


def _bound(size: int, what: str) -> None:
    if size > MAX_TEMPLATE_VALUE:
        raise _too_long(what)


def _text_length(value: object, limit: int = MAX_TEMPLATE_VALUE) -> int:
    """Estimate ``len(str(value))`` from above, without making the text.

    Containers are walked (a list holding one long string a million times is short to hold and
    huge to print), and the walk stops once the count passes ``limit``. Quotes, escapes and
    separators of ``repr`` are counted within a small factor, which is all a bound needs.
    """
    from collections.abc import ItemsView, KeysView, Mapping, ValuesView

    from jinja2.utils import Namespace

    if isinstance(value, str):
        return len(value)
    total = 0
    stack: list[Iterator[object]] = [iter((value,))]
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
            continue
        if isinstance(item, str):
            total += len(item) + 4
        elif isinstance(item, bytes):
            total += 4 * len(item) + 4
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 4  # log10(2) < 1/3: digits, from above
        elif isinstance(item, Namespace):
            total += 16
            stack.append(iter(item._Namespace__attrs.items()))
        elif isinstance(item, Mapping):
            total += 4
            stack.append(iter(item.items()))
        elif isinstance(item, list | tuple | set | frozenset | KeysView | ValuesView | ItemsView):
            total += 4
            stack.append(iter(item))
        else:  # a number, None, a date, an article: short, and not made by the template
            total += 64
        if total > limit:
            break
    return total


def _check_concat(parts: tuple[Any, ...]) -> tuple[Any, ...]:
    """Refuse a ``~`` whose result would be too long; return the parts to join."""
    total = 0
    for part in parts:
        total += len(part) if isinstance(part, str) else _text_length(part)
    _bound(total, "~")
    return parts


def _check_output(value: Any) -> Any:
    """Refuse to print a container whose text is longer than a render may write."""
    if not isinstance(value, str | int | float) and (
        _text_length(value, MAX_TEMPLATE_OUTPUT) > MAX_TEMPLATE_OUTPUT
    ):
        raise OverflowError(f"printing a value makes more than {MAX_TEMPLATE_OUTPUT:,} characters")
    return value


# A %-conversion: key, flags, width, precision, length modifier, type (printf-style).
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)", re.DOTALL)
_DIGITS = re.compile(r"\d+")


def _width(digits: str, what: str) -> int:
    if len(digits) > 7 or int(digits) > MAX_TEMPLATE_VALUE:
        raise _too_long(what)
    return int(digits)


def _check_percent(template: Any, values: Any) -> None:
    """Refuse ``template % values`` (and the ``format`` filter) whose result would be too long."""
    if isinstance(template, bytes):  # b"%9d" % 1 pads as a str does
        template = template.decode("latin-1")
    if not isinstance(template, str):
        return
    given = values if isinstance(values, tuple) else (values,)
    conversions, widest, star = 0, 0, False
    for match in _PERCENT.finditer(template):
        if match[3] == "%":
            continue
        conversions += 1
        for number in (match[1], match[2]):
            if number == "*":
                star = True
            elif number:
                widest = max(widest, _width(number, "%"))
    if star:  # the width comes from the values
        widest = max([widest, *(abs(v) for v in given if isinstance(v, int))])
        _bound(widest, "%")
    if conversions:
        longest = max((_text_length(v) for v in given), default=0)
        _bound(len(template) + conversions * (longest + widest), "%")


def _number_in(value: object) -> int:
    """Return the width ``value`` gives as a nested format field ('{0:>{1}}'), or 0."""
    if isinstance(value, int):
        return abs(value)
    if isinstance(value, str) and value.strip().isdigit():  # "2900000000" is a width too
        return MAX_TEMPLATE_VALUE + 1 if len(value.strip()) > 7 else int(value)
    return 0


def _check_str_format(template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Refuse ``str.format``/``format_map`` whose result would be too long."""
    from string import Formatter

    try:
        fields = [spec for _, name, spec, _ in Formatter().parse(template) if name is not None]
    except ValueError:
        return  # malformed: the call itself says so
    if not fields:
        return
    given = [*args, *kwargs.values()]
    widest = 0
    for spec in fields:
        for digits in _DIGITS.findall(spec or ""):
            widest = max(widest, _width(digits, "format"))
        if spec and "{" in spec:  # a nested field: the width comes from the values
            widest = max([widest, *(_number_in(v) for v in given)])
            _bound(widest, "format")
    longest = max((_text_length(v) for v in given), default=0)
    _bound(len(template) + len(fields) * (longest + widest), "format")


def _count(text: str | bytes, old: Any) -> int:
    if isinstance(old, type(text)):
        return text.count(old) if old else len(text) + 1  # type: ignore[arg-type]
    return 0


def _check_replace(text: Any, old: Any, new: Any, count: Any = -1, what: str = "replace") -> None:
    if not isinstance(text, str | bytes):
        return
    times = _count(text, old)
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    grows = _text_length(new) - (len(old) if isinstance(old, str | bytes) else 0)
    _bound(len(text) + times * max(grows, 0), what)


def _check_text_method(text: str | bytes, name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Refuse a str (or bytes) method call whose result would be too long; return its args.

    ``join`` gets its items as a list, so a one-time iterator is not used up by the check.
    """
    if name in ("center", "ljust", "rjust", "zfill") and args and isinstance(args[0], int):
        _bound(args[0], name)
    elif name == "expandtabs":
        size = args[0] if args and isinstance(args[0], int) else 8
        _bound(len(text) + _count(text, "\t" if isinstance(text, str) else b"\t") * size, name)
    elif name == "replace" and len(args) >= 2:
        _check_replace(text, *args[:3])
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((_text_length(v) for v in args[0].values()), default=1)
        _bound(len(text) * max(longest, 1), name)
    elif name == "join" and args:
        items = list(args[0])
        _bound(
            sum(len(i) for i in items if isinstance(i, str | bytes))
            + len(text) * max(len(items) - 1, 0),
            "join",
        )
        return (items, *args[1:])
    return args


def _bounded_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """Return the filters that can make a long value, each checking its result's size first."""
    import functools
    import itertools

    from jinja2 import pass_environment, pass_eval_context
    from jinja2.filters import make_attrgetter
    from jinja2.utils import _PassArg

    def checked(name: str, check: Callable[..., None]) -> Any:
        original = filters[name]
        passes = _PassArg.from_obj(original) is not None  # its first argument is Jinja's

        @functools.wraps(original)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            check(*(args[1:] if passes else args), **kwargs)
            return original(*args, **kwargs)

        return bounded

    def text(value: Any, *args: Any, what: str = "the filter", **kwargs: Any) -> None:
        if not isinstance(value, str):
            _bound(_text_length(value), what)

    def text_of(name: str) -> Callable[..., None]:
        return lambda value, *args, **kwargs: text(value, what=name)

    def center(value: Any, width: Any = 80) -> None:
        text(value)
        if isinstance(width, int):
            _bound(width, "center")

    def indent(s: Any, width: Any = 4, first: bool = False, blank: bool = False) -> None:
        text(s)
        if isinstance(width, int):
            _bound(width, "indent")
        size = width if isinstance(width, int) else _text_length(width)
        lines = s.count("\n") + 1 if isinstance(s, str) else 1
        _bound(_text_length(s) + lines * size, "indent")

    def wordwrap(
        s: Any,
        width: Any = 79,
        break_long_words: bool = True,
        wrapstring: Any = None,
        break_on_hyphens: bool = True,
    ) -> None:
        text(s)
        extra = _text_length(wrapstring or "\n") - 1  # a break of one character replaces one
        if extra > 0 and isinstance(s, str):
            # Two lines after each other hold more than `width` characters (else the second
            # line's first word would have fitted on the first): at most 2 len/width breaks.
            breaks = 2 * len(s) // max(width if isinstance(width, int) else 1, 1)
            _bound(len(s) + (breaks + s.count("\n") + 1) * extra, "wordwrap")

    def replace(s: Any, old: Any, new: Any, count: Any = None) -> None:
        text(s)
        _check_replace(str(s), str(old), new, -1 if count is None else count)

    def urlize(
        value: Any,
        trim_url_limit: Any = None,
        nofollow: bool = False,
        target: Any = None,
        rel: Any = None,
        extra_schemes: Any = None,
    ) -> None:
        text(value)
        extra = _text_length(target or "") + _text_length(rel or "")
        _bound((_text_length(value) + 1) // 2 * extra, "urlize")

    def tojson(value: Any, indent: Any = None) -> None:
        size = _text_length(value)
        _bound(size, "tojson")
        step = indent if isinstance(indent, int) else _text_length(indent or "")
        _bound(size * max(step, 1), "tojson")

    def batch(value: Any, linecount: Any, fill_with: Any = None) -> None:
        if fill_with is not None and isinstance(linecount, int):
            _bound(linecount, "batch")

    def slice_(value: Any, slices: Any, fill_with: Any = None) -> None:
        if isinstance(slices, int):
            _bound(slices, "slice")

    def format_(value: Any, *args: Any, **kwargs: Any) -> None:
        _check_percent(str(value) if not isinstance(value, str) else value, kwargs or args)

    join_original = filters["join"]

    @pass_eval_context
    def join(eval_ctx: Any, value: Any, d: Any = "", attribute: Any = None) -> Any:
        if attribute is not None:
            value = map(make_attrgetter(eval_ctx.environment, attribute), value)
        items = list(value)
        _bound(
            sum(_text_length(i) for i in items) + _text_length(d) * max(len(items) - 1, 0),
            "join",
        )
        return join_original(eval_ctx, items, d)

    sum_original = filters["sum"]

    @pass_environment
    def sum_(environment: Any, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
        if attribute is not None:
            iterable = map(make_attrgetter(environment, attribute), iterable)
        items = list(iterable)
        kind = type(start)
        if kind in (list, tuple) and all(type(i) is kind for i in items):
            _bound(len(start) + sum(len(i) for i in items), "sum")
            return kind(itertools.chain(start, *items))  # sum() would copy once per item
        return sum_original(environment, items, start=start)

    bounded: dict[str, Any] = {
        name: checked(name, text_of(name))
        for name in (
            "string",
            "pprint",
            "escape",
            "e",
            "forceescape",
            "safe",
            "upper",
            "lower",
            "capitalize",
            "title",
            "trim",
            "striptags",
            "truncate",
            "wordcount",
            "urlencode",
            "xmlattr",
        )
        if name in filters
    }
    bounded.update(
        center=checked("center", center),
        indent=checked("indent", indent),
        wordwrap=checked("wordwrap", wordwrap),
        replace=checked("replace", replace),
        urlize=checked("urlize", urlize),
        tojson=checked("tojson", tojson),
        batch=checked("batch", batch),
        slice=checked("slice", slice_),
        format=checked("format", format_),
        join=functools.update_wrapper(join, join_original),
        sum=functools.update_wrapper(sum_, sum_original),
    )
    return bounded


@cache
def _environment(folders: tuple[Path, ...], autoescape: bool) -> jinja2.Environment:
    import jinja2
    from jinja2 import nodes
    from jinja2.compiler import CodeGenerator
    from jinja2.runtime import LoopContext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Loader(jinja2.BaseLoader):
        """The first folder holding the template wins; see ``read_template_file``."""

        def get_source(
            self, environment: jinja2.Environment, template: str
        ) -> tuple[str, str, Callable[[], bool]]:
            for folder in folders:
                data = read_template_file(folder, template)
                if data is None:
                    continue
                path = folder / template
                try:
                    mtime = path.stat().st_mtime
                except OSError:
                    mtime = -1.0

                def uptodate(path: Path = path, mtime: float = mtime) -> bool:
                    try:
                        return path.stat().st_mtime == mtime
                    except OSError:
                        return False

                return data.decode("utf-8"), str(path), uptodate
            raise jinja2.TemplateNotFound(template)

    class Concat(CodeGenerator):
        """Compile ``a ~ b`` so the parts are checked (``_check_concat``) before the join."""

        def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:
            if frame.eval_ctx.volatile:
                func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
            elif frame.eval_ctx.autoescape:
                func_name = "markup_join"
            else:
                func_name = "str_join"
            self.write(f"{func_name}(environment.check_concat((")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write(")))")

    class Sandbox(ImmutableSandboxedEnvironment):
        """No attribute tricks, no mutation, bounded range(), loops and values (see _bound)."""

        intercepted_binops = frozenset({"*", "**", "+", "%"})
        code_generator_class = Concat
        check_concat = staticmethod(_check_concat)

        def _parse(self, source: str, name: str | None, filename: str | None) -> Any:
            return _wrap_loops(super()._parse(source, name, filename))

        def count_loop(self, iterable: Iterable[Any]) -> Iterator[Any]:
            budget = _BUDGET.get() or _Budget()
            for item in iterable:
                budget.left -= 1
                if budget.left < 0:
                    raise LoopLimit()
                yield item

        def concat(self, parts: Iterable[str]) -> str:
            """Join what a macro, a {% set %} block or a {% filter %} block wrote, bounded."""
            kept: list[str] = []
            size = 0
            for part in parts:
                size += len(part)
                if size > MAX_TEMPLATE_VALUE:
                    raise _too_long("a macro or {% set %} block")
                kept.append(part)
            return "".join(kept)

        def call(self, context: Any, obj: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(obj, LoopContext) and args:  # loop(children) of a recursive loop
                args = (self.count_loop(args[0]), *args[1:])
            elif isinstance(obj, BuiltinMethodType) and isinstance(obj.__self__, str | bytes):
                args = _check_text_method(obj.__self__, obj.__name__, args)
            return super().call(context, obj, *args, **kwargs)

        def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
            wrapper = super().wrap_str_format(value)
            if wrapper is None:
                return None
            template: str = value.__self__
            by_map = value.__name__ == "format_map"

            def bounded(*args: Any, **kwargs: Any) -> str:
                if by_map and len(args) == 1 and isinstance(args[0], Mapping):
                    _check_str_format(template, (), args[0])
                else:
                    _check_str_format(template, args, kwargs)
                return wrapper(*args, **kwargs)

            return bounded

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            ints = isinstance(left, int) and isinstance(right, int)
            numbers = isinstance(left, int | float) and isinstance(right, int | float)
            if operator == "**" and numbers and abs(right) > 64 and abs(left) > 1:
                raise OverflowError("** makes a number too big for a template")
            if ints and (
                (operator == "*" and left.bit_length() + right.bit_length() > MAX_NUMBER_BITS)
                or (operator == "**" and left.bit_length() * max(right, 0) > MAX_NUMBER_BITS)
            ):  # a number squared over and over in a loop grows without end too
                raise OverflowError(f"{operator} makes a number too big for a template")
            if operator == "+" and not numbers:
                if hasattr(left, "__len__") and hasattr(right, "__len__"):
                    _bound(len(left) + len(right), "+")
            elif operator == "%" and isinstance(left, str | bytes):
                _check_percent(left, right)
            for one, other in ((left, right), (right, left)):
                if (
                    operator == "*"
                    and hasattr(one, "__len__")
                    and isinstance(other, int)
                    and len(one) * other > MAX_TEMPLATE_VALUE
                ):
                    raise _too_long("*")
            return super().call_binop(context, operator, left, right)

    environment = Sandbox(
        loader=Loader(),
        # Off only for text (the digest's text/plain part), where HTML escaping corrupts it.
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        finalize=_check_output,
    )
    environment.filters.update(_bounded_filters(environment.filters))
    # lipsum(n) has no bound on time; nothing nieuwsbrief renders needs placeholder text.
    environment.globals.pop("lipsum", None)
    return environment


def _folders(templates: Path, defaults: bool) -> tuple[Path, ...]:
    if not defaults:
        return (templates,)
    return (templates, skeleton_dir() / TEMPLATES_DIR)


# The folder skeleton_dir found: where the package lives does not change while it runs, and
# the look-up (resolve, two stats) cost 0.4 ms on each of thousands of renders and notices.
_SKELETON: list[Path] = []


def skeleton_dir() -> Path:
    """Return the folder holding the default schedule.yaml and templates.

    A wheel carries them inside the package (see pyproject.toml); an editable install or a
    source checkout uses the repository's own top-level files.
    """
    from nieuwsbrief.config import SETTINGS_FILE
    from nieuwsbrief.errors import NieuwsbriefError

    if _SKELETON:
        return _SKELETON[0]
    packaged = Path(__file__).parent / "skeleton"
    checkout = Path(__file__).resolve().parents[2]
    for candidate in (packaged, checkout):
        if (candidate / SETTINGS_FILE).is_file() and (candidate / TEMPLATES_DIR).is_dir():
            _SKELETON.append(candidate)
            return candidate
    raise NieuwsbriefError(
        f"the default project files are missing from {packaged}; reinstall nieuwsbrief"
    )


def _check_folder(templates: Path) -> None:
    if templates.exists() and _outside(templates, templates.parent):
        raise BuildError(
            f"{templates}: is a link to a folder outside the project; "
            "make it a real folder ('nieuwsbrief init' writes the defaults)"
        )


def _refusal(exc: TemplateOutside | TemplateRefused, templates: Path) -> BuildError:
    if isinstance(exc, TemplateRefused):
        return BuildError(f"{templates / exc.name}: {exc.problem}")
    return BuildError(
        f"{templates / str(exc)}: template is a link to a file outside the templates folder; "
        "replace the link by a real file there"
    )


def render(
    templates: Path,
    name: str,
    context: Mapping[str, Any],
    *,
    html: bool,
    defaults: bool = False,
    missing: str = "run 'nieuwsbrief init' to get the defaults",
) -> str:
    """Render template ``name`` of the folder ``templates``; any problem is one clean error.

    With ``defaults`` the package's own template is used where the project has none;
    ``missing`` is the fix named when neither has it.
    """
    _check_folder(templates)
    environment = _environment(_folders(templates, defaults), html)
    return _render_in(environment, templates, name, context, missing)


def _render_in(
    environment: jinja2.Environment,
    templates: Path,
    name: str,
    context: Mapping[str, Any],
    missing: str,
) -> str:
    import jinja2

    token = _BUDGET.set(_Budget())
    try:
        template = environment.get_template(name)
        parts: list[str] = []
        size = 0
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > MAX_TEMPLATE_OUTPUT:
                raise BuildError(
                    f"{templates / name}: makes more than {MAX_TEMPLATE_OUTPUT:,} characters; "
                    "remove the loop or value that repeats without end"
                )
            parts.append(chunk)
        return "".join(parts)
    except BuildError:
        raise
    except LoopLimit:
        raise BuildError(
            f"{templates / name}: runs more than {MAX_LOOP_ITERATIONS:,} loop steps; "
            "remove the loop that repeats without end"
        ) from None
    except (TemplateOutside, TemplateRefused) as exc:
        raise _refusal(exc, templates) from None
    except jinja2.TemplateNotFound as exc:
        if exc.name != name:  # an {% include %} of a template that is not there
            raise template_error(exc, templates / name) from None
        raise BuildError(f"{templates / name}: template not found; {missing}") from None
    except Exception as exc:  # a syntax error, or any error while rendering: name file and line
        raise template_error(exc, templates / name) from None
    finally:
        _BUDGET.reset(token)


def render_template(templates: Path, name: str, context: Mapping[str, Any], *, html: bool) -> str:
    """Render one of the project's own templates (no package default behind it)."""
    return render(templates, name, context, html=html)


_WEB_MISSING = "reinstall nieuwsbrief"


def render_web(project_dir: Path, name: str, context: Mapping[str, Any]) -> str:
    """Render an HTML page or fragment for the website (lists, the crisis notice).

    The project's template, else the package's; links filtered as on every web page.
    """
    templates = project_dir / TEMPLATES_DIR
    html = render(templates, name, context, html=True, defaults=True, missing=_WEB_MISSING)
    return filter_links(html, templates / name)


class WebRenderer:
    """Render one web template many times in one build, as ``render_web`` does each time.

    A build renders thousands of lists from one template: the templates folder is checked
    and the template (with what it includes) read and compiled once, on the first render,
    instead of checking the folder and stat-ing every template file on every render. The
    walls are those of ``render_web``: the same sandbox class, loader, output, value and
    loop bounds, and link filter. Use one per build: a template edited during it is not
    read again (``render_web``, used by long-running previews, does read it again).
    """

    def __init__(self, project_dir: Path, name: str) -> None:
        self.templates = project_dir / TEMPLATES_DIR
        self.name = name
        self._environment: jinja2.Environment | None = None

    def render(self, context: Mapping[str, Any]) -> str:
        """Return what ``render_web(project_dir, name, context)`` returns."""
        if self._environment is None:
            _check_folder(self.templates)
            shared = _environment(_folders(self.templates, True), True)
            # Its own template cache, never checked for changes: every template is loaded
            # through the same Loader (its checks) once, and compiled for this environment,
            # so an {% include %} is looked up here too.
            self._environment = shared.overlay(auto_reload=False, cache_size=64)
        html = _render_in(self._environment, self.templates, self.name, context, _WEB_MISSING)
        return filter_links(html, self.templates / self.name)


def read_static(templates: Path, name: str) -> bytes:
    """Read a template that is copied as it is (``feed.xsl``), the package's one behind.

    The same checks as for rendered templates: no link out of the folder, only a regular file
    of at most ``MAX_TEMPLATE_BYTES``.
    """
    _check_folder(templates)
    try:
        for folder in _folders(templates, True):
            data = read_template_file(folder, name)
            if data is not None:
                return data
    except (TemplateOutside, TemplateRefused) as exc:
        raise _refusal(exc, templates) from None
    raise BuildError(f"{templates / name}: template not found; reinstall nieuwsbrief")


# --- Links in HTML that goes on the web ----------------------------------------------------

# Attributes a browser follows or loads as a URL.
URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "action",
        "formaction",
        "poster",
        "background",
        "cite",
        "longdesc",
        "lowsrc",
        "dynsrc",
        "data",
        "codebase",
        "manifest",
        "icon",
        "ping",
        "xlink:href",
        "srcset",
    }
)
WEB_SCHEMES = frozenset({"http", "https", "mailto", "tel", "sms"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_IGNORED = re.compile(r"[\t\n\r]")  # browsers drop these anywhere in a URL


def safe_web_url(value: str) -> bool:
    """Tell whether a browser following ``value`` stays on http(s), mailto, tel, sms or relative."""
    url = _IGNORED.sub("", value).strip("".join(map(chr, range(33))))
    match = _SCHEME.match(url)
    return match is None or match[1].lower() in WEB_SCHEMES


def _safe_attribute(name: str, value: str | None) -> bool:
    if value is None or name not in URL_ATTRIBUTES:
        return True
    if name == "srcset" or name == "ping":
        return all(safe_web_url(part.strip().split(" ")[0]) for part in value.split(","))
    return safe_web_url(value)


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fixes: list[tuple[str, str]] = []

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if all(_safe_attribute(name, value) for name, value in attrs):
            return
        from markupsafe import escape

        raw = self.get_starttag_text() or ""
        kept = "".join(
            f" {name}" if value is None else f' {name}="{escape(value)}"'
            for name, value in attrs
            if _safe_attribute(name, value)
        )
        if raw:
            self.fixes.append((raw, f"<{tag}{kept}{' /' if closed else ''}>"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, True)


# Every place a URL attribute can stand, found as html.parser finds attribute values (its
# attrfind pattern), anywhere in the page: a superset of what the parser reports.
# The look-ahead for a name's first letter changes no match (every name starts with one);
# it makes the scan of the many positions where no name starts a third faster.
_URL_VALUE = re.compile(
    "(?=[" + "".join(sorted({name[0] for name in URL_ATTRIBUTES})) + "])"
    r"""(?<=[\s/'"])(?:"""  # attrfind's own look-behind: a name starts after these
    + "|".join(sorted(map(re.escape, URL_ATTRIBUTES), key=len, reverse=True))
    + r""")\s*=+\s*('[^']*'|"[^"]*"|(?!['"])[^>\s]*)""",
    re.IGNORECASE,
)


_PLAIN = ("https://", "http://", "mailto:", "/")
_NAME_LONGEST = max(map(len, URL_ATTRIBUTES))
_NAME_BOUNDARY = frozenset("/'\"")


def _url_values(page: str) -> Iterator[re.Match[str]]:
    """Yield what ``_URL_VALUE.finditer(page)`` yields, trying it only where a match can start.

    The pattern tried at every position of a page cost 0.2 ms per list (a build renders
    thousands). Every match is a name, spaces, then its first ``=``: found with str.find,
    stepping back over the spaces and the name's characters (at most the longest name's
    length) gives the one place a match ending its name there can start, and the pattern
    itself, matched at that place, decides (tests/test_cold_paths.py compares). Names that
    are plainly none of the URL attributes (class, style) are not tried.
    """
    starts: set[int] = set()
    equals = page.find("=")
    while equals >= 0:
        if equals and page[equals - 1] != "=":
            end = equals
            while end and page[end - 1].isspace():
                end -= 1
            start = end
            while (
                start
                and end - start <= _NAME_LONGEST
                and not page[start - 1].isspace()
                and page[start - 1] not in _NAME_BOUNDARY
            ):
                start -= 1
            name = page[start:end]
            # An ASCII name is one of them exactly when its lower case is; other text (a
            # long s, a Kelvin sign) is left to the pattern's own case rules.
            if start < end and (name.lower() in URL_ATTRIBUTES or not name.isascii()):
                starts.add(start)
        equals = page.find("=", equals + 1)
    done = 0
    for start in sorted(starts):
        if start < done:
            continue
        match = _URL_VALUE.match(page, start)
        if match is not None:
            done = match.end()
            yield match


def _plainly_safe(page: str) -> bool:
    """Tell whether every URL attribute value of the page is safe, without parsing it.

    Fast (a build writes thousands of list pages); a page with any doubtful value goes to
    the parser, which rewrites only the tags that need it.
    """
    import html

    for match in _url_values(page):
        raw = match[1][1:-1] if match[1][:1] in "'\"" else match[1]
        if raw.startswith(_PLAIN) and "," not in raw and "&" not in raw:
            continue  # most links: nothing to decode, the scheme is plain to see
        value = html.unescape(raw)
        if not safe_web_url(value) or not all(
            safe_web_url(part.strip().split(" ")[0]) for part in value.split(",")
        ):
            return False
    return True


def filter_links(html: str, where: Path | str) -> str:
    """Drop every URL attribute of ``html`` that leads elsewhere than a web page, mail or phone.

    Only the tags with such an attribute are rewritten (without it); all other bytes stay as
    they are, so a page without bad links is returned unchanged. ``where`` names the page.
    """
    for _ in range(8):  # each pass removes attributes, so this ends; 8 covers tags in tags
        if _plainly_safe(html):
            return html
        finder = _Finder()
        finder.feed(html)
        finder.close()
        if not finder.fixes:
            return html
        for raw, fixed in finder.fixes:
            html = html.replace(raw, fixed)
    raise BuildError(f"{where}: holds links that cannot be made safe; check the template")
