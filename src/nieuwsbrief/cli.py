"""The ``nieuwsbrief`` command line: parse options, call the library, report the outcome."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from nieuwsbrief import __version__
from nieuwsbrief.errors import (
    MAX_YEAR,
    MIN_YEAR,
    ArgumentError,
    NieuwsbriefError,
    escape_controls,
    quote,
)

EXIT_ERROR = 1
# The option that carries each library argument an ArgumentError can name.
OPTION_OF_ARGUMENT = {
    "digest_week": "--digest-week",
    "to": "--to",
    "now": "--now",
    "out": "--out",
    "project": "--project",
}
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
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(
                f"{quote(value)} is not an ISO 8601 date-time such as "
                "2025-11-24T09:00:00+01:00"
            )
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            self.fail(f"{quote(value)} is outside the years {MIN_YEAR} to {MAX_YEAR}")
        return moment


def _resolve_now(now: dt.datetime | None) -> dt.datetime:
    """Return --now, or the current moment; the library reads a bare --now in the site's zone."""
    return now if now is not None else dt.datetime.now(dt.UTC)


def _article_date(
    ctx: click.Context, param: click.Parameter, value: dt.datetime | None
) -> dt.datetime | None:
    """Refuse a --date that 'check' would refuse: a year outside 1970-9000."""

    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        # isoformat, not %Y: strftime writes the year 1 as "1", not "0001".
        day = quote(value.date().isoformat())  # as 'check' shows an article's date
        raise click.BadParameter(f"{day} is outside the years {MIN_YEAR} to {MAX_YEAR}")
    return value


def _iso_week(value: str | None) -> str | None:
    if value is None:
        return None
    from nieuwsbrief.schedule import parse_iso_week

    try:
        year = parse_iso_week(value)[0]
    except ValueError as exc:
        raise click.BadParameter(escape_controls(str(exc))) from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise click.BadParameter(f"{quote(value)} is outside the years {MIN_YEAR} to {MAX_YEAR}")
    return value


def _address(value: str) -> str:
    from nieuwsbrief.config import check_email

    try:
        return check_email(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@contextmanager
def _library_errors() -> Iterator[None]:
    """Turn the library's errors into a clean message and exit code 1.

    An argument the library refuses (``ArgumentError``, named as the library names it) is a
    usage error naming its option, exit code 2, like Click's own.
    """
    try:
        yield
    except ArgumentError as error:
        option = OPTION_OF_ARGUMENT.get(error.argument, error.argument)
        raise click.BadParameter(
            escape_controls(error.problem), param_hint=f"'{option}'"
        ) from None
    except NieuwsbriefError as error:
        # The last line of defence: whatever a message quotes, no control character reaches
        # the terminal (a message of several problems keeps one line per problem).
        exception = click.ClickException(escape_controls(str(error), keep_newlines=True))
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
        click.echo(escape_controls(message, keep_newlines=True), err=err)


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


def _project(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """Return the command's --project, else the one given before the command, else '.'."""
    if value is not None:
        return value
    return Path(ctx.find_root().meta.get("nieuwsbrief.project") or Path())


project_option = click.option(
    "--project",
    "-p",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    callback=_project,
    help="Folder holding schedule.yaml, articles/ and templates/.  [default: .]",
)


def _out(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """Return --out as given (relative to the current folder), else ``public`` in the project.

    Click reads the options given first and the rest in the order declared: --project comes
    before --out in every command, so it is known here when --out is not given.
    """
    if value is not None:
        return value
    project = ctx.params.get("project")
    if project is None:
        project = _project(ctx, param, None)
    return Path(project) / DEFAULT_OUT


DEFAULT_OUT = "public"
out_option = click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    callback=_out,
    help="Folder of the feeds and digests; a build changes only files it wrote there.  "
    f"[default: {DEFAULT_OUT} in --project]",
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


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "NIEUWSBRIEF"}
)
@click.version_option(__version__, prog_name="nieuwsbrief")
@click.option(
    "--project",
    "-p",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder holding schedule.yaml, articles/ and templates/, for every command "
    "(env NIEUWSBRIEF_PROJECT).  [default: .]",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and warnings.")
@click.option("--verbose", "-v", is_flag=True, help="Say more.")
@click.pass_context
def cli(ctx: click.Context, project: Path | None, quiet: bool, verbose: bool) -> None:
    """Turn dated Markdown articles into feeds and a weekly email digest.

    --project, --quiet and --verbose go before or after the command. Every option can also
    come from the environment: NIEUWSBRIEF_PROJECT, NIEUWSBRIEF_QUIET, and per command
    NIEUWSBRIEF_<COMMAND>_<OPTION>, e.g. NIEUWSBRIEF_BUILD_OUT=public.

    \b
    Example:
        nieuwsbrief build --out public --now 2025-11-24T09:00:00+01:00
        nieuwsbrief --project mijn-praktijk check --strict
    """
    ctx.meta["nieuwsbrief.project"] = project
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
        click.echo(f"warning: {escape_controls(warning)}", err=True)
    if _verbosity_level() >= 2:  # 22,000 lines at 10,000 articles: not formatted for nothing
        for name, size in result.files.items():
            say(f"  {name} ({size:,} bytes)", 2)
        for name in result.removed:
            say(f"  removed {name}", 2)
    digest = f", digest {result.digest_week}" if result.digest_week else ", no digest"
    say(
        f"Built {_count(len(result.published), 'published article')} into {result.out}"
        f" ({_count(len(result.files), 'file')}{digest})"
    )
    _say_held_back(result.drafts, result.scheduled)
    if result.digest_week is None:
        _say_next_digest(project, _resolve_now(now), [*result.published, *result.scheduled])


def _say_next_digest(project: Path, now: dt.datetime, articles: Sequence[Any]) -> None:
    """After a build without a digest, say when the next one goes out and what it holds."""
    from nieuwsbrief.config import SETTINGS_FILE, load_settings
    from nieuwsbrief.dutch import dutch_weekday_date
    from nieuwsbrief.schedule import coming_digests

    try:
        settings = load_settings(project / SETTINGS_FILE)
    except NieuwsbriefError:  # changed since the build read it: the build's output stands
        return
    [coming] = coming_digests(settings.digest, articles, settings.localize(now), 1)
    send = coming.window.send_moment
    say(
        f"Next digest: {coming.window.week} on {dutch_weekday_date(send)} {send:%H:%M}, "
        f"{_count(len(coming.articles), 'article')} so far ('nieuwsbrief preview' shows it)"
    )


def _count(number: int, noun: str, plural: str | None = None) -> str:
    """Return '1 draft' or '2 drafts'."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def _say_held_back(drafts: Sequence[Any], scheduled: Sequence[Any]) -> None:
    """Say how many articles no output shows, and with --verbose which ones."""
    if not drafts and not scheduled:
        return
    say(
        f"Left out: {_count(len(drafts), 'draft')} (draft: true) and "
        f"{_count(len(scheduled), 'article')} dated after now"
        + ("" if _verbosity_level() >= 2 else "; -v names them")
    )
    for article in drafts:
        say(f"  draft: {_path(article.source)} ({_short(article.title)})", 2)
    for article in scheduled:
        say(
            f"  scheduled {article.date:%Y-%m-%d %H:%M}: {_path(article.source)}"
            f" ({_short(article.title)})",
            2,
        )


def _short(value: str, limit: int = 60) -> str:
    """Quote a user value in at most about ``limit`` characters, control characters escaped."""
    shown = ""
    for char in value:
        piece = char if char.isprintable() else repr(char)[1:-1]
        if len(shown) + len(piece) > limit:
            return f"'{shown}…'"
        shown += piece
    return f"'{shown}'"


def _path(path: Path) -> str:
    """Return a file name for a message: whole, but with control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(path))


def _verbosity_level() -> int:
    return int(click.get_current_context().meta.get("nieuwsbrief.verbosity", 1))


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
@click.option(
    "--count",
    "-n",
    type=click.IntRange(1, 520),  # ten years of weeks
    default=5,
    show_default=True,
    help="How many send moments to list.",
)
@click.option(
    "--cron",
    is_flag=True,
    help="Print the crontab lines that build at every send moment instead.",
)
@click.option(
    "--systemd",
    is_flag=True,
    help="Print a systemd timer unit for the send moment instead (see docs/weekly-run.md).",
)
@verbosity_options
def schedule(project: Path, now: dt.datetime | None, count: int, cron: bool, systemd: bool) -> None:
    """List the next digest send moments in local time, with the window each covers
    and how many articles each digest holds so far (drafts counted apart).

    \b
    Example:
        nieuwsbrief schedule --count 3
        nieuwsbrief schedule --cron >> mijn-crontab
        nieuwsbrief schedule --systemd > /etc/systemd/system/nieuwsbrief.timer
    """
    from nieuwsbrief.articles import ARTICLES_DIR, scan_articles
    from nieuwsbrief.config import SETTINGS_FILE, load_settings
    from nieuwsbrief.dutch import dutch_weekday_date
    from nieuwsbrief.schedule import (
        coming_digests,
        cron_lines,
        refuse_unschedulable_path,
        systemd_timer,
        time_shifts_with_dst,
    )

    with _library_errors():
        settings = load_settings(project / SETTINGS_FILE)
        moment = settings.localize(_resolve_now(now))
    if cron or systemd:
        with _library_errors():
            refuse_unschedulable_path(project.resolve(), "rename the folder, then run this again")
        if systemd:
            # In a unit file '%' starts a specifier and a final backslash continues the line.
            title = "".join(c for c in settings.site.title[:60] if c.isprintable())
            title = title.replace("%", "%%").rstrip("\\")
            timer = systemd_timer(settings.digest, f"nieuwsbrief: the digest of {title}")
            click.echo(timer, nl=False)
        if cron:
            command = [sys.executable, "-m", "nieuwsbrief", "build", "--quiet", "--out", "public"]
            for line in cron_lines(settings.digest, command, str(project.resolve())):
                click.echo(line)
        if time_shifts_with_dst(settings.digest, moment):
            click.echo(
                f"warning: {settings.path}: field 'digest.time': {settings.digest.time:%H:%M} "
                "is skipped or repeated when the clocks change, and the timer then runs at "
                "another time than the send moment; choose a time outside 02:00-03:00",
                err=True,
            )
        return
    articles, errors = scan_articles(project / ARTICLES_DIR, settings.site)
    if errors:
        click.echo(
            f"warning: {_count(len(errors), 'article')} could not be read and "
            "are not counted; 'nieuwsbrief check' names the problems",
            err=True,
        )
    zone = settings.digest.timezone
    for coming in coming_digests(settings.digest, articles, moment, count):
        window = coming.window
        send_moment = window.send_moment
        drafts = f", {_count(len(coming.drafts), 'draft')}" if coming.drafts else ""
        click.echo(
            f"{window.week}  {dutch_weekday_date(send_moment)} {send_moment:%H:%M} {zone.key}"
            f"  {_count(len(coming.articles), 'article')}{drafts}"
            f"  (articles from {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M})"
        )
        for article in coming.articles + coming.drafts:
            status = "draft" if article.draft else f"{article.date:%Y-%m-%d}"
            say(f"    {status}: {_short(article.title)}", 2)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path())
@click.option("--name", default=None, help='The practice\'s name, e.g. "Praktijk Het Baken".')
@click.option("--website", default=None, help="The website's https:// address.")
@click.option("--email", default=None, help="Sender and contact address of the digest.")
@click.option("--phone", default=None, help="Phone number shown in the digest.")
@click.option(
    "--address-form",
    type=click.Choice(["je", "u"]),
    default=None,
    help="Address readers with 'je' (default) or 'u'.",
)
@click.option(
    "--no-input",
    is_flag=True,
    help="Ask nothing: use the options given and the example practice for the rest.",
)
@verbosity_options
def init(
    directory: Path,
    name: str | None,
    website: str | None,
    email: str | None,
    phone: str | None,
    address_form: str | None,
    no_input: bool,
) -> None:
    """Create a new project: schedule.yaml, templates/, .gitignore and one example article.

    Asks for the practice's name, website, sender address and phone (and whether to address
    readers with 'je' or 'u'); options answer in advance, --no-input asks nothing.
    'nieuwsbrief check' warns while settings still hold the example practice.

    \b
    Example:
        nieuwsbrief init mijn-praktijk && cd mijn-praktijk && nieuwsbrief preview
        nieuwsbrief init mijn-praktijk --no-input --name "Praktijk Het Baken" \\
            --website https://www.hetbaken.nl --email info@hetbaken.nl --phone "030 765 4321"
    """
    from nieuwsbrief.config import SETTINGS_FILE
    from nieuwsbrief.scaffold import Practice, check_practice, init_project, refuse_existing

    with _library_errors():
        refuse_existing(directory)
    example = Practice()
    answers = {
        "name": name,
        "website": website,
        "email": email,
        "phone": phone,
        "address_form": address_form,
    }
    path = directory / SETTINGS_FILE
    if not no_input:
        questions = {
            "name": "Name of the practice",
            "website": "Website (https://...)",
            "email": "Sender address of the digest",
            "phone": "Phone number for readers",
            "address_form": "Address readers with 'je' or 'u'",
        }
        for key, question in questions.items():
            if answers[key] is not None:
                continue

            def valid(value: str, key: str = key) -> str:
                value = value.strip()
                try:
                    check_practice(Practice(**{**_given(answers), key: value}), path)
                except NieuwsbriefError as error:
                    raise click.UsageError(_answer_problem(str(error))) from None
                return value

            try:
                answers[key] = click.prompt(
                    question, default=getattr(example, key), value_proc=valid
                )
            except click.Abort:
                if sys.stdin.isatty():
                    raise  # Ctrl+C or Ctrl+D at the question: click says "Aborted!"
                exception = click.ClickException(
                    "init asks questions, but there is no one to answer them (no terminal); "
                    "pass --no-input with --name, --website, --email and --phone"
                )
                exception.exit_code = EXIT_ERROR  # type: ignore[misc]
                raise exception from None
    practice = Practice(**_given(answers))
    with _library_errors():
        created = init_project(directory, dt.date.today(), practice)
    for created_path in created:
        say(f"created {created_path}", 2)
    say(f"New project in {directory}; run 'nieuwsbrief check', then 'nieuwsbrief preview'.")
    if practice.is_example:
        say(
            "schedule.yaml still holds the example practice; "
            "'nieuwsbrief check' lists what to fill in."
        )


def _given(answers: dict[str, str | None]) -> dict[str, str]:
    return {key: value.strip() for key, value in answers.items() if value is not None}


def _answer_problem(message: str) -> str:
    """Keep the part of a settings error that speaks about the answer, not the file."""
    return message.split(": ", 1)[1] if ": " in message else message


@cli.command()
@click.argument("title")
@project_option
@click.option(
    "--date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    callback=_article_date,
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
    envvar="NIEUWSBRIEF_CHECK_FORMAT",  # the rule names the option, not the parameter
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

    held_back: list[Any] = []
    moment = _resolve_now(now)
    with _library_errors():
        problems = check_project(project, moment, held_back)
    errors = sum(1 for problem in problems if problem.severity == "error")
    warnings = len(problems) - errors
    if output_format == "json":
        click.echo(json.dumps([problem.as_dict() for problem in problems], indent=2))
    else:
        for problem in problems:
            click.echo(escape_controls(str(problem)))
        say(f"{_count(errors, 'error')}, {_count(warnings, 'warning')}")
        drafts = [article for article in held_back if article.draft]
        _say_held_back(drafts, [article for article in held_back if not article.draft])
    if errors or (strict and warnings):
        sys.exit(EXIT_ERROR)


@cli.command()
@project_option
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
@now_option
@click.option(
    "--digest-week",
    metavar="YYYY-Www",
    default=None,
    callback=lambda ctx, param, value: _iso_week(value),
    help="Show the digest of this ISO week instead of the one that goes out next.",
)
@verbosity_options
def preview(project: Path, port: int, now: dt.datetime | None, digest_week: str | None) -> None:
    """Build into a temporary folder and serve it on 127.0.0.1, rebuilding on every change.

    The home page shows the digest that goes out next (as it would go out, with a link to
    it), the latest digest, the feeds, every article with its status (published, draft,
    scheduled) including drafts, and the current warnings. Ctrl+C or SIGTERM stops it and
    removes the temporary folder.

    \b
    Example:
        nieuwsbrief preview --port 8000
        nieuwsbrief preview --digest-week 2025-W49
    """
    import signal

    from nieuwsbrief.config import SETTINGS_FILE, load_settings
    from nieuwsbrief.preview import Preview

    if not (project / SETTINGS_FILE).is_file():
        with _library_errors():  # the same message as 'nieuwsbrief build' gives
            load_settings(project / SETTINGS_FILE)
    try:
        server = Preview(
            project,
            port,
            now=(lambda: now) if now else None,
            report=lambda message: click.echo(
                escape_controls(message, keep_newlines=True), err=True
            ),
            digest_week=digest_week,
        )
    except OSError as error:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from None

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        click.echo(f"Serving {server.url} (digests at {server.url}digests/); Ctrl+C stops.")
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)


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
    """Send the built digest as a TEST mail to one address over SMTP (settings in schedule.yaml).

    This is not how subscribers get it: hand the digest to your mail service
    (docs/mail-services.md). Sends OUT/digests/<week>/digest.eml with To replaced by
    --to. The password comes from the environment variable named by smtp.password_env
    (NIEUWSBRIEF_SMTP_PASSWORD).

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
        eml = out / DIGESTS_DIR / window.week / "digest.eml"
        if not (eml.exists() or eml.is_symlink()):  # anything else: send names what it is
            raise NieuwsbriefError(_no_digest_message(out, window.week, digest_week is None))
        summary = send_test(eml, to, settings.smtp)
    say(summary)


def _no_digest_message(out: Path, week: str, latest: bool) -> str:
    """Explain why there is nothing to send for ``week`` and what to do instead."""
    from nieuwsbrief.digest import DIGESTS_DIR

    folder = out / DIGESTS_DIR
    built = (
        sorted(path.name for path in folder.glob("*-W*") if (path / "digest.eml").is_file())
        if folder.is_dir()
        else []
    )
    which = "the latest send moment's week" if latest else "--digest-week"
    message = (
        f"{folder / week / 'digest.eml'} does not exist: {which} {week} has no digest in {out}; "
        "a build writes one only for a week with published articles "
        "('nieuwsbrief schedule' counts them per week)"
    )
    if built:
        return message + f"; built weeks: {', '.join(built[-4:])} (pick one with --digest-week)"
    return (
        message + f"; {out} holds no digests at all: run 'nieuwsbrief build' first (or fix --out)"
    )


def main() -> None:
    """Run the command line interface."""
    cli(prog_name="nieuwsbrief")
