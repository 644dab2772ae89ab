"""The ``nieuwsbrief`` command line: parse options, call the library, report the outcome."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from nieuwsbrief import __version__
from nieuwsbrief.errors import NieuwsbriefError

EXIT_ERROR = 1


class NowParam(click.ParamType):
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


def _resolve_now(now: dt.datetime | None, project: Path) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        from nieuwsbrief.config import SETTINGS_FILE, load_settings

        return now.replace(tzinfo=load_settings(project / SETTINGS_FILE).site.timezone)
    return now


def _iso_week(value: str | None) -> str | None:
    if value is None:
        return None
    import re

    match = re.fullmatch(r"(\d{4})-W(\d{2})", value)
    if not match or not 1 <= int(match[2]) <= dt.date(int(match[1]), 12, 28).isocalendar()[1]:
        raise click.BadParameter(f"{value!r} is not an ISO week such as 2025-W48")
    return value


def _fail(error: NieuwsbriefError) -> click.ClickException:
    exception = click.ClickException(str(error))
    exception.exit_code = EXIT_ERROR
    return exception


project_option = click.option(
    "--project",
    "-p",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Folder holding schedule.yaml, articles/ and templates/.",
)
now_option = click.option(
    "--now",
    type=NowParam(),
    default=None,
    help="Build as if it were this moment (ISO 8601); makes output reproducible.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nieuwsbrief")
def cli() -> None:
    """Turn dated Markdown articles into feeds and a weekly email digest.

    Example:

        nieuwsbrief build --out public --now 2025-11-24T09:00:00+01:00
    """


@cli.command()
@project_option
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("public"),
    show_default=True,
    help="Folder to write the feeds and digests to; replaced atomically.",
)
@now_option
@click.option(
    "--digest-week",
    metavar="YYYY-Www",
    default=None,
    callback=lambda ctx, param, value: _iso_week(value),
    help="Write the digest of this ISO week instead of the latest send moment.",
)
def build(project: Path, out: Path, now: dt.datetime | None, digest_week: str | None) -> None:
    """Build the RSS, Atom and JSON feeds and the weekly digest.

    The digest is the one of the latest send moment at or before --now (see
    'nieuwsbrief schedule'); earlier weeks' digests in --out are kept.

    Example:

        nieuwsbrief build --out public --now 2025-11-24T09:00:00+01:00
    """
    from nieuwsbrief.build import build as run_build

    try:
        result = run_build(project, out, _resolve_now(now, project), digest_week=digest_week)
    except NieuwsbriefError as error:
        raise _fail(error) from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    digest = f", digest {result.digest_week}" if result.digest_week else ", no digest"
    click.echo(
        f"Built {len(result.published)} published articles into {result.out}"
        f" ({len(result.files)} files{digest})"
    )


@cli.command()
@project_option
@now_option
@click.option("--count", "-n", default=5, show_default=True, help="How many send moments to list.")
def schedule(project: Path, now: dt.datetime | None, count: int) -> None:
    """List the next digest send moments in local time, with the window each covers.

    Example:

        nieuwsbrief schedule --count 3
    """
    from nieuwsbrief.config import SETTINGS_FILE, load_settings
    from nieuwsbrief.digest import dutch_date
    from nieuwsbrief.schedule import upcoming, window_ending_at

    try:
        settings = load_settings(project / SETTINGS_FILE)
        moment = _resolve_now(now, project)
    except NieuwsbriefError as error:
        raise _fail(error) from None
    zone = settings.digest.timezone
    for send_moment in upcoming(settings.digest, moment, count):
        window = window_ending_at(settings.digest, send_moment)
        click.echo(
            f"{window.week}  {dutch_date(send_moment)} {send_moment:%H:%M} {zone.key}"
            f"  (articles from {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M})"
        )


def main() -> None:
    """Run the command line interface."""
    cli(prog_name="nieuwsbrief")
