"""Nothing hidden: build, check and schedule say what is left out, and when digests go out."""

from __future__ import annotations

import datetime as dt
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import AMSTERDAM, NOW, NOW_DT, RunCli, article_dates, write_article
from nieuwsbrief.cli import cli


def held_back(project: Path, now: dt.datetime) -> tuple[set[str], set[str]]:
    """Read the article files directly: the file names of drafts and of future articles."""
    drafts, future = set(), set()
    names = {path.name: path for path in (project / "articles").glob("*.md")}
    facts = article_dates(project)
    for name in names:
        slug = next(s for s in facts if name.endswith(f"{s}.md") or s in name)
        _, date, draft = facts[slug]
        if draft:
            drafts.add(name)
        elif date > now:
            future.add(name)
    return drafts, future


def test_build_says_how_many_articles_it_left_out(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    write_article(project, "2025-11-20-tweede-concept.md", title="Tweede concept", draft=True)
    drafts, future = held_back(project, NOW_DT)
    assert len(drafts) == 2 and len(future) == 1  # the example has one of each, plus ours

    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "Left out: 2 drafts (draft: true) and 1 article dated after now" in result.stdout
    assert "-v names them" in result.stdout
    assert not any(name in result.stdout for name in drafts | future)

    verbose = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW, "-v")
    named = re.findall(r"^  (draft|scheduled [\d: -]+): .*/([^/]+\.md) ", verbose.stdout, re.M)
    assert {name for kind, name in named if kind == "draft"} == drafts
    assert {name for kind, name in named if kind.startswith("scheduled")} == future

    quiet = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW, "-q")
    assert "Left out" not in quiet.stdout


def test_build_counts_in_singular_and_plural(
    empty_project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    write_article(empty_project, "2025-11-20-een.md", title="Eén artikel")
    result = run_cli("build", "-p", empty_project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "Built 1 published article into" in result.stdout
    assert "Left out" not in result.stdout  # nothing held back: nothing to say


def test_check_says_how_many_articles_it_left_out(project: Path, run_cli: RunCli) -> None:
    drafts, future = held_back(project, NOW_DT)
    result = run_cli("check", "-p", project, "--now", NOW, "-v")
    assert result.exit_code == 0, result.output
    assert (
        f"Left out: {len(drafts)} draft (draft: true) and {len(future)} article dated after now"
        in result.stdout
    )
    for name in drafts | future:
        assert name in result.stdout
    # Drafts are no problem: JSON output stays a list of problems, and --strict is unchanged.
    strict = run_cli("check", "-p", project, "--now", NOW, "--strict", "--format", "json")
    assert "draft" not in strict.stdout.lower()


def coming(project: Path, start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
    """Count (published-by-then, drafts) dated in [start, end), read from the files."""
    facts = article_dates(project).values()
    inside = [draft for _, date, draft in facts if start <= date < end]
    return inside.count(False), inside.count(True)


def test_schedule_shows_weekday_and_what_each_digest_holds(project: Path, run_cli: RunCli) -> None:
    now = "2025-11-20T09:00:00+01:00"
    result = run_cli("schedule", "-p", project, "--now", now, "--count", "4")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    send = dt.datetime(2025, 11, 24, 8, tzinfo=AMSTERDAM)
    for line in lines:
        assert line.startswith(f"{send:%G-W%V}  maandag {send.day} ")
        published, drafts = coming(project, send - dt.timedelta(days=7), send)
        noun = "article" if published == 1 else "articles"
        assert f"  {published} {noun}" in line, line
        assert (f", {drafts} draft" in line) == bool(drafts), line
        send += dt.timedelta(days=7)
    # The example has a draft and a scheduled article in week 48, and one in week 51.
    assert ", 1 draft" in lines[0]


def test_schedule_names_weekdays_in_dutch(project: Path, run_cli: RunCli) -> None:
    from conftest import set_setting

    set_setting(project, "digest", "weekday", "friday")
    result = run_cli("schedule", "-p", project, "--now", NOW, "--count", "1")
    assert result.stdout.startswith("2025-W48  vrijdag 28 november 2025 08:00"), result.stdout


@pytest.mark.parametrize(
    ("weekday", "time", "zone"),
    [
        ("monday", "08:00", "Europe/Amsterdam"),
        ("sunday", "02:30", "Europe/Amsterdam"),
        ("thursday", "17:45", "America/New_York"),
    ],
)
def test_cron_line_fires_at_every_send_moment(
    project: Path, run_cli: RunCli, weekday: str, time: str, zone: str
) -> None:
    """Read the crontab line with croniter, a real cron parser, across both DST changes."""
    from zoneinfo import ZoneInfo

    from croniter import croniter

    from conftest import set_setting
    from nieuwsbrief.config import load_settings
    from nieuwsbrief.schedule import upcoming

    set_setting(project, "digest", "weekday", weekday)
    set_setting(project, "digest", "time", time)
    set_setting(project, "digest", "timezone", zone)
    result = run_cli("schedule", "-p", project, "--cron")
    assert result.exit_code == 0, result.output
    tz_line, job = result.stdout.splitlines()
    assert tz_line == f"CRON_TZ={zone}"
    fields = job.split(" ", 5)
    command = shlex.split(fields[5])
    assert command[:3] == ["cd", str(project.resolve()), "&&"]
    assert command[4:] == ["-m", "nieuwsbrief", "build", "--quiet", "--out", "public"]

    # A year of send moments, as nieuwsbrief computes them, against cron's own reading.
    start = dt.datetime(2025, 3, 1, tzinfo=ZoneInfo(zone))
    expected = list(upcoming(load_settings(project / "schedule.yaml").digest, start, 53))
    cron = croniter(" ".join(fields[:5]), start)
    fired = [cron.get_next(dt.datetime) for _ in expected]
    utc_fired = [m.astimezone(dt.UTC) for m in fired]
    utc_expected = [m.astimezone(dt.UTC) for m in expected]
    if time == "02:30":
        # 02:30 does not exist on 30 March 2025: cron runs at 03:00, nieuwsbrief sends at 03:30
        # (the later offset), so a build then still sees last week. The command warns.
        assert "warning:" in result.stderr and "digest.time" in result.stderr
        assert sum(a != b for a, b in zip(utc_fired, utc_expected, strict=True)) >= 1
    else:
        assert result.stderr == ""
        assert utc_fired == utc_expected


def test_send_without_a_digest_for_the_week_says_why(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "out"
    built = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert built.exit_code == 0, built.output
    # Week 49 has no articles, so the build at its send moment writes no digest for it.
    later = "2025-12-01T09:00:00+01:00"
    assert run_cli("build", "-p", project, "-o", out, "--now", later).exit_code == 0
    result = run_cli(
        "send", "--to", "redactie@example.nl", "-p", project, "-o", out, "--now", later
    )
    assert result.exit_code == 1
    message = result.output
    assert "2025-W49 has no digest" in message and "published articles" in message
    assert "built weeks: 2025-W48" in message and "--digest-week" in message
    assert "run 'nieuwsbrief build' first" not in message
    assert len(message.strip().splitlines()) == 1


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=90))
def test_any_title_in_the_left_out_lists_is_one_short_escaped_line(
    empty_project: Path, tmp_path: Path, title: str
) -> None:
    """Hostile titles in build -v and schedule -v: one line each, short, control characters
    escaped; or the build stops with exit 1 and a message, never a traceback."""
    write_article(empty_project, "2025-11-20-concept.md", title=title, draft=True)
    for args in (
        ("build", "-p", empty_project, "-o", tmp_path / "out", "--now", NOW, "-v"),
        ("schedule", "-p", empty_project, "--now", "2025-11-18T09:00:00+01:00", "-v"),
    ):
        result = CliRunner().invoke(cli, [str(a) for a in args])
        assert result.exception is None or isinstance(result.exception, SystemExit), args
        assert result.exit_code in (0, 1), result.output
        if result.exit_code == 1 or "could not be read" in result.stderr:
            # An invalid title: build stops, schedule counts the article as unreadable.
            assert "2025-11-20-concept.md" in result.output or "check" in result.stderr
            continue
        [line] = [
            line for line in result.stdout.splitlines() if line.lstrip().startswith("draft: ")
        ]
        assert all(ch.isprintable() for ch in line), line
        quoted = re.search(r"'(.*)'\)?$", line)
        assert quoted is not None, line
        assert len(quoted[1]) <= 61, line  # about 60 characters, escapes included
        if title == title.strip() and all(ch.isprintable() for ch in title) and len(title) <= 60:
            assert quoted[1] == title


def test_a_build_without_a_digest_says_when_the_next_one_goes_out(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    # Week 49 has no articles; week 50's window (1-8 December 08:00) gets one we add now.
    write_article(project, "2025-12-03-later.md", title="Later", date="2025-12-03T10:00:00+01:00")
    now = "2025-12-01T09:00:00+01:00"
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", now)
    assert result.exit_code == 0, result.output
    assert "no digest" in result.stdout
    start = dt.datetime(2025, 12, 1, 8, tzinfo=AMSTERDAM)
    published, _ = coming(project, start, start + dt.timedelta(days=7))
    assert published == 1
    assert (
        "Next digest: 2025-W50 on maandag 8 december 2025 08:00, 1 article so far" in result.stdout
    )
    # A build that wrote a digest does not add the line.
    with_digest = run_cli("build", "-p", project, "-o", tmp_path / "out2", "--now", NOW)
    assert "Next digest" not in with_digest.stdout


@pytest.mark.parametrize(
    ("weekday", "time", "zone"),
    [("monday", "08:00", "Europe/Amsterdam"), ("thursday", "17:45", "America/New_York")],
)
def test_systemd_timer_fires_at_every_send_moment(
    project: Path, run_cli: RunCli, weekday: str, time: str, zone: str
) -> None:
    """Read the timer's OnCalendar= with systemd itself (systemd-analyze calendar)."""
    import os
    import shutil
    import subprocess

    from conftest import set_setting
    from nieuwsbrief.config import load_settings
    from nieuwsbrief.schedule import upcoming

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        message = "systemd-analyze is missing (apt-get install systemd)"
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run must install it")
        pytest.skip(message)
    set_setting(project, "digest", "weekday", weekday)
    set_setting(project, "digest", "time", time)
    set_setting(project, "digest", "timezone", zone)
    set_setting(project, "site", "title", "100% zorg \\")
    result = run_cli("schedule", "-p", project, "--systemd")
    assert result.exit_code == 0, result.output
    assert "Description=nieuwsbrief: the digest of 100%% zorg \n" in result.stdout
    [calendar] = [
        line[11:] for line in result.stdout.splitlines() if line.startswith("OnCalendar=")
    ]

    start = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    expected = list(upcoming(load_settings(project / "schedule.yaml").digest, start, 53))
    run = subprocess.run(
        [
            analyze,
            "calendar",
            f"--base-time=@{int(start.timestamp())}",
            f"--iterations={len(expected)}",
            calendar,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "TZ": "UTC"},
    )
    fired = [
        dt.datetime.strptime(line.split(": ", 1)[1].strip(), "%a %Y-%m-%d %H:%M:%S UTC").replace(
            tzinfo=dt.UTC
        )
        for line in run.stdout.splitlines()
        if line.strip().startswith(("Next elapse:", "Iter. #"))
    ]
    assert fired == [moment.astimezone(dt.UTC) for moment in expected]


def _as_cron_runs(command: str) -> str:
    """Return what cron (cronie's do_command) hands the shell: '\\%' -> '%', a bare '%' ends it.

    A backslash before any other character stays, and does not escape what follows it.
    """
    out: list[str] = []
    escaped = False
    for char in command:
        if escaped:
            if char == "%":
                out[-1] = "%"
            else:
                out.append(char)
            escaped = False
            continue
        if char == "%":
            break  # the rest would be the job's standard input
        out.append(char)
        escaped = char == "\\"
    return "".join(out)


@pytest.mark.parametrize("name", ["100% zorg; $(id) `id`", "a\\%b %% it's 50%\\", "%"])
def test_cron_line_survives_cron_and_the_shell_in_any_project_path(
    tmp_path: Path, run_cli: RunCli, name: str
) -> None:
    from conftest import copy_example_project

    project = copy_example_project(tmp_path / name)
    result = run_cli("schedule", "-p", project, "--cron")
    assert result.exit_code == 0, result.output
    job = result.stdout.splitlines()[1]
    shell_line = _as_cron_runs(job.split(" ", 5)[5])
    command = shlex.split(shell_line)
    assert command[:3] == ["cd", str(project.resolve()), "&&"]
    assert command[4:] == ["-m", "nieuwsbrief", "build", "--quiet", "--out", "public"]
    # And a real shell runs it: the build lands in the project, whatever its path holds.
    import subprocess

    ran = subprocess.run(["sh", "-c", shell_line], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert (project / "public" / "feed.xml").is_file()
