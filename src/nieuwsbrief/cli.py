"""The ``nieuwsbrief`` command line: parse options, call the library, report the outcome."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from nieuwsbrief import __version__
from nieuwsbrief.errors import NieuwsbriefError

EXIT_ERROR = 1
F = TypeVar("F", bound=Callable[..., Any])


class NowParam(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.2 stubs
    """An ISO 8601 date-time; without an offset it is read in the site's time zone."""

    name = "ISO-8601"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            return dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 date-time such as 2025-11-24T09:00:00+01:00")


def _resolve_now(now: dt.datetime | None) -> dt.datetime:
    """Return --now, or the current moment; the library reads a bare --now in the site's zone."""
    return now if now is not None else dt.datetime.now(dt.UTC)


def _iso_week(value: str | None) -> str | None:
    if value is None:
        return None
    from nieuwsbrief.schedule import parse_iso_week

    try:
        parse_iso_week(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _address(value: str) -> str:
    from nieuwsbrief.send import check_address

    try:
        return check_address(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@contextmanager
def _library_errors() -> Iterator[None]:
    """Turn the library's errors into a clean message and exit code 1."""
    try:
        yield
    except NieuwsbriefError as error:
        exception = click.ClickException(str(error))
        exception.exit_code = EXIT_ERROR  # type: ignore[misc]
        raise exception from None


def _verbosity(ctx: click.Context, quiet: bool, verbose: bool) -> int:
    parent = ctx.find_root().meta.get("nieuwsbrief.verbosity", 1)
    level = 0 if quiet else 2 if verbose else parent
    ctx.meta["nieuwsbrief.verbosity"] = level
    return int(level)


def say(message: str, level: int = 1, *, err: bool = False) -> None:
    """Print ``message`` when the verbosity (0 quiet, 1 normal, 2 verbose) allows it."""
    ctx = click.get_current_context()
    if ctx.meta.get("nieuwsbrief.verbosity", 1) >= level:
        click.echo(message, err=err)


def verbosity_options(function: F) -> F:
    """Add --quiet and --verbose to a command."""

    def store(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        if value:
            ctx.meta["nieuwsbrief.verbosity"] = 0 if param.name == "quiet" else 2
        return value

    function = click.option(
        "--verbose", "-v", is_flag=True, expose_value=False, callback=store, help="Say more."
    )(function)
    return click.option(
        "--quiet",
        "-q",
        is_flag=True,
        expose_value=False,
        callback=store,
        help="Print only errors and warnings.",
    )(function)


project_option = click.option(
    "--project",
    "-p",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Folder holding schedule.yaml, articles/ and templates/.",
)
out_option = click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("public"),
    show_default=True,
    help="Folder of the feeds and digests; a build changes only files it wrote there.",
)
now_option = click.option(
    "--now",
    type=NowParam(),
    default=None,
    help="Act as if it were this moment (ISO 8601); makes output reproducible.",
)
week_option = click.option(
    "--digest-week",
    metavar="YYYY-Www",
    default=None,
    callback=lambda ctx, param, value: _iso_week(value),
    help="The digest of this ISO week instead of the one of the latest send moment.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nieuwsbrief")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and warnings.")
@click.option("--verbose", "-v", is_flag=True, help="Say more.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: bool) -> None:
    """Turn dated Markdown articles into feeds and a weekly email digest.

    \b
    Example:
        nieuwsbrief build --out public --now 2025-11-24T09:00:00+01:00
    """
    _verbosity(ctx, quiet, verbose)


@cli.command()
@project_option
@out_option
@now_option
@week_option
@click.option(
    "--no-cache",
    is_flag=True,
    help="Parse every article again instead of reusing .nieuwsbrief-cache/.",
)
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Publish feeds without items even when the feeds in --out have items.",
)
@verbosity_options
def build(
    project: Path,
    out: Path,
    now: dt.datetime | None,
    digest_week: str | None,
    no_cache: bool,
    allow_empty: bool,
) -> None:
    """Build the RSS, Atom and JSON feeds and the weekly digest.

    The digest is the one of the latest send moment at or before --now (see
    'nieuwsbrief schedule'); earlier weeks' digests in --out are kept.

    \b
    Example:
        nieuwsbrief build --out public --now 2025-11-24T09:00:00+01:00
    """
    from nieuwsbrief.build import EmptyFeedsError
    from nieuwsbrief.build import build as run_build

    ctx = click.get_current_context()
    show_bar = sys.stderr.isatty() and ctx.meta.get("nieuwsbrief.verbosity", 1) > 0
    with _library_errors(), _progress_bar(show_bar) as progress:
        try:
            result = run_build(
                project,
                out,
                _resolve_now(now),
                digest_week=digest_week,
                progress=progress,
                cache=not no_cache,
                allow_empty_feeds=allow_empty,
            )
        except EmptyFeedsError as error:
            raise NieuwsbriefError(f"{error} with --allow-empty") from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for name, size in result.files.items():
        say(f"  {name} ({size:,} bytes)", 2)
    for name in result.removed:
        say(f"  removed {name}", 2)
    digest = f", digest {result.digest_week}" if result.digest_week else ", no digest"
    say(
        f"Built {len(result.published)} published articles into {result.out}"
        f" ({len(result.files)} files{digest})"
    )


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """Yield a progress callback that draws a bar on a terminal, or None elsewhere."""
    if not enabled:
        yield None
        return
    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Reading articles", file=sys.stderr)
            bar.__enter__()
        bar.update(1)

    try:
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


@cli.command()
@project_option
@now_option
@click.option("--count", "-n", default=5, show_default=True, help="How many send moments to list.")
@verbosity_options
def schedule(project: Path, now: dt.datetime | None, count: int) -> None:
    """List the next digest send moments in local time, with the window each covers.

    \b
    Example:
        nieuwsbrief schedule --count 3
    """
    from nieuwsbrief.config import SETTINGS_FILE, load_settings
    from nieuwsbrief.digest import dutch_date
    from nieuwsbrief.schedule import upcoming, window_ending_at

    with _library_errors():
        settings = load_settings(project / SETTINGS_FILE)
        moment = settings.localize(_resolve_now(now))
    zone = settings.digest.timezone
    for send_moment in upcoming(settings.digest, moment, count):
        window = window_ending_at(settings.digest, send_moment)
        click.echo(
            f"{window.week}  {dutch_date(send_moment)} {send_moment:%H:%M} {zone.key}"
            f"  (articles from {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M})"
        )


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path())
@verbosity_options
def init(directory: Path) -> None:
    """Create a new project: schedule.yaml, templates/ and one example article.

    \b
    Example:
        nieuwsbrief init mijn-praktijk && cd mijn-praktijk && nieuwsbrief build
    """
    from nieuwsbrief.scaffold import init_project

    with _library_errors():
        created = init_project(directory, dt.date.today())
    for path in created:
        say(f"created {path}", 2)
    say(f"New project in {directory}; edit schedule.yaml, then run 'nieuwsbrief build'.")


@cli.command()
@click.argument("title")
@project_option
@click.option(
    "--date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Publication date (YYYY-MM-DD); default today.",
)
@click.option("--tags", default="", help="Comma-separated tags, e.g. angst,slaap.")
@click.option(
    "--publish/--draft",
    default=False,
    show_default=True,
    help="Write the article as published instead of as a draft.",
)
@verbosity_options
def new(title: str, project: Path, date: dt.datetime | None, tags: str, publish: bool) -> None:
    """Start a new article in articles/<date>-<slug>.md; never overwrites a file.

    The article starts as a draft (draft: true) until you pass --publish or edit it.

    \b
    Example:
        nieuwsbrief new "Wat is systematische desensitisatie?" --tags angst,behandeling
    """
    from nieuwsbrief.scaffold import new_article

    day = date.date() if date else dt.date.today()
    tag_list = [tag.strip() for tag in tags.split(",") if tag.strip()]
    with _library_errors():
        path = new_article(project, title, day, tag_list, draft=not publish)
    say(str(path), 0)


@cli.command()
@project_option
@now_option
@click.option("--strict", is_flag=True, help="Count warnings as errors (exit code 1).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Human-readable lines or a JSON list.",
)
@verbosity_options
def check(project: Path, now: dt.datetime | None, strict: bool, output_format: str) -> None:
    """Check the settings and every article without writing anything.

    Reports every problem at once, with file and field. Exit code 0 when clean (warnings
    allowed), 1 on errors, or on warnings too with --strict.

    \b
    Example:
        nieuwsbrief check --strict --format json
    """
    import json

    from nieuwsbrief.check import check_project

    with _library_errors():
        problems = check_project(project, _resolve_now(now))
    errors = sum(1 for problem in problems if problem.severity == "error")
    warnings = len(problems) - errors
    if output_format == "json":
        click.echo(json.dumps([problem.as_dict() for problem in problems], indent=2))
    else:
        for problem in problems:
            click.echo(str(problem))
        say(f"{errors} error(s), {warnings} warning(s)")
    if errors or (strict and warnings):
        sys.exit(EXIT_ERROR)


@cli.command()
@project_option
@click.option(
    "--port", default=8000, show_default=True, help="Port on 127.0.0.1 (0: any free port)."
)
@now_option
@verbosity_options
def preview(project: Path, port: int, now: dt.datetime | None) -> None:
    """Build into a temporary folder and serve it on 127.0.0.1, rebuilding on every change.

    \b
    Example:
        nieuwsbrief preview --port 8000
    """
    from nieuwsbrief.preview import Preview

    try:
        server = Preview(
            project,
            port,
            now=(lambda: now) if now else None,
            report=lambda message: click.echo(message, err=True),
        )
    except OSError as error:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from None
    click.echo(f"Serving {server.url} (digests at {server.url}digests/); Ctrl+C stops.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@cli.command()
@click.option(
    "--to",
    "to",
    required=True,
    callback=lambda ctx, param, value: _address(value),
    help="Address that receives the test mail.",
)
@project_option
@out_option
@now_option
@week_option
@verbosity_options
def send(
    to: str, project: Path, out: Path, now: dt.datetime | None, digest_week: str | None
) -> None:
    """Send the built digest as a test mail over SMTP (settings in schedule.yaml).

    Sends OUT/digests/<week>/digest.eml with To replaced by --to. The password comes from
    the environment variable named by smtp.password_env (NIEUWSBRIEF_SMTP_PASSWORD).

    \b
    Example:
        NIEUWSBRIEF_SMTP_PASSWORD=... nieuwsbrief send --to redactie@example.nl
    """
    from nieuwsbrief.build import check_digest_current, digest_window
    from nieuwsbrief.config import SETTINGS_FILE, load_settings
    from nieuwsbrief.digest import DIGESTS_DIR
    from nieuwsbrief.send import send_test

    with _library_errors():
        settings = load_settings(project / SETTINGS_FILE)
        window = digest_window(settings, settings.localize(_resolve_now(now)), digest_week)
        check_digest_current(project, out, _resolve_now(now), digest_week)
        summary = send_test(out / DIGESTS_DIR / window.week / "digest.eml", to, settings.smtp)
    say(summary)


def main() -> None:
    """Run the command line interface."""
    cli(prog_name="nieuwsbrief")
