"""Shared options: --project, --quiet and --verbose before or after the command, or from the
environment (NIEUWSBRIEF_PROJECT, NIEUWSBRIEF_<COMMAND>_<OPTION>)."""

from __future__ import annotations

from pathlib import Path

import feedparser
from click.testing import CliRunner, Result

from conftest import NOW, article_dates
from nieuwsbrief.cli import cli


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def titles(out: Path) -> set[str]:
    return {entry.title for entry in feedparser.parse((out / "feed.xml").read_bytes()).entries}


def published(project: Path) -> set[str]:
    from conftest import NOW_DT

    return {t for t, date, draft in article_dates(project).values() if not draft and date <= NOW_DT}


def test_project_before_or_after_the_command(project: Path, tmp_path: Path) -> None:
    before = run("--project", project, "build", "-o", tmp_path / "a", "--now", NOW)
    after = run("build", "-o", tmp_path / "b", "--now", NOW, "--project", project)
    assert before.exit_code == after.exit_code == 0, before.output + after.output
    assert titles(tmp_path / "a") == titles(tmp_path / "b") == published(project)
    # After the command wins over before it.
    elsewhere = tmp_path / "geen-project"
    elsewhere.mkdir()
    both = run("-p", elsewhere, "check", "-p", project, "--now", NOW)
    assert both.exit_code == 0, both.output
    wrong = run("-p", project, "check", "-p", elsewhere, "--now", NOW)
    assert wrong.exit_code == 1 and str(elsewhere / "schedule.yaml") in wrong.output


def test_options_from_the_environment(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "env-out"
    env = {"NIEUWSBRIEF_PROJECT": str(project), "NIEUWSBRIEF_BUILD_OUT": str(out)}
    result = run("build", "--now", NOW, env=env)
    assert result.exit_code == 0, result.output
    assert titles(out) == published(project)
    assert "Built " in result.output

    quiet = run("build", "--now", NOW, env={**env, "NIEUWSBRIEF_QUIET": "1"})
    assert quiet.exit_code == 0 and quiet.stdout == ""

    counted = run("schedule", "--now", NOW, env={**env, "NIEUWSBRIEF_SCHEDULE_COUNT": "3"})
    assert len(counted.stdout.splitlines()) == 3
    # An option on the command line beats the environment.
    explicit = run(
        "schedule", "--now", NOW, "-n", "1", env={**env, "NIEUWSBRIEF_SCHEDULE_COUNT": "3"}
    )
    assert len(explicit.stdout.splitlines()) == 1


def test_a_bad_value_from_the_environment_is_a_usage_error(project: Path) -> None:
    env = {"NIEUWSBRIEF_PROJECT": str(project), "NIEUWSBRIEF_SCHEDULE_COUNT": "veel"}
    result = run("schedule", env=env)
    assert result.exit_code == 2
    assert "veel" in result.output and "count" in result.output.lower()
