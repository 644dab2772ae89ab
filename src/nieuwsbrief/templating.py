"""The editable templates: where they live, and a sandboxed Jinja that renders them safely."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nieuwsbrief.errors import BuildError, template_error

if TYPE_CHECKING:
    import jinja2

# The project's folder of editable templates (and the default copies' folder in the skeleton).
TEMPLATES_DIR = "templates"

# Limits on what a template may make: an edited template is code that runs on every build.
MAX_TEMPLATE_OUTPUT = 5_000_000  # characters one render may produce
MAX_TEMPLATE_VALUE = 1_000_000  # items or characters one * or ** may produce


def _outside(path: Path, folder: Path) -> bool:
    return not path.resolve().is_relative_to(folder.resolve())


@cache
def _environment(templates: Path, autoescape: bool) -> jinja2.Environment:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Loader(jinja2.FileSystemLoader):
        """Load only files whose real path is inside the templates folder (no symlinks out)."""

        def get_source(
            self, environment: jinja2.Environment, template: str
        ) -> tuple[str, str, Callable[[], bool]]:
            from jinja2.loaders import split_template_path

            split_template_path(template)  # TemplateNotFound for '..' before any check
            if _outside(templates / template, templates):
                raise TemplateOutside(template)
            return super().get_source(environment, template)

    class Sandbox(ImmutableSandboxedEnvironment):
        """No attribute tricks, no mutation, bounded range(), * and ** of bounded size."""

        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            numbers = isinstance(left, int | float) and isinstance(right, int | float)
            if operator == "**" and numbers and abs(right) > 64 and abs(left) > 1:
                raise OverflowError("** makes a number too big for a template")
            for one, other in ((left, right), (right, left)):
                if (
                    operator == "*"
                    and hasattr(one, "__len__")
                    and isinstance(other, int)
                    and len(one) * other > MAX_TEMPLATE_VALUE
                ):
                    raise OverflowError(
                        f"* makes a value longer than {MAX_TEMPLATE_VALUE:,} characters"
                    )
            return super().call_binop(context, operator, left, right)

    environment = Sandbox(
        loader=Loader(templates),
        # Off only for the text/plain part, where HTML escaping would corrupt the text.
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    # lipsum(n) has no bound on time; nothing in a digest needs placeholder text.
    environment.globals.pop("lipsum", None)
    return environment


class TemplateOutside(Exception):
    """A template (or the folder) whose real path is outside the project's templates folder."""


def render_template(templates: Path, name: str, context: Mapping[str, Any], *, html: bool) -> str:
    """Render one of the editable templates; a broken template is a clear build error."""
    import jinja2

    if templates.exists() and _outside(templates, templates.parent):
        raise BuildError(
            f"{templates}: is a link to a folder outside the project; "
            "make it a real folder ('nieuwsbrief init' writes the defaults)"
        )
    try:
        template = _environment(templates, html).get_template(name)
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
    except TemplateOutside as exc:
        raise BuildError(
            f"{templates / str(exc)}: template is a link to a file outside the templates folder; "
            "replace the link by a real file there"
        ) from None
    except jinja2.TemplateNotFound as exc:
        if exc.name != name:  # an {% include %} of a template that is not there
            raise template_error(exc, templates / name) from None
        raise BuildError(
            f"{templates / name}: template not found; run 'nieuwsbrief init' to get the defaults"
        ) from None
    except Exception as exc:  # a syntax error, or any error while rendering: name file and line
        raise template_error(exc, templates / name) from None


