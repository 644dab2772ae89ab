"""Fixtures shared by the test suite: a copy of the example project and a CLI runner."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from hypothesis import Phase
from hypothesis import settings as hypothesis_settings

from nieuwsbrief.cli import cli

# Hypothesis runs each property through whole builds, so the phases after a failure are what
# can take long: "explain" traces every line of a build (it ran for minutes), and shrinking
# stops only after five minutes of slow progress. Locally a failure is shrunk to a small
# example; under CI it is reported as found, so a red run stays well inside its time.
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
hypothesis_settings.register_profile(
    "nieuwsbrief", phases=_PHASES if os.environ.get("CI") else [*_PHASES, Phase.shrink]
)
hypothesis_settings.load_profile("nieuwsbrief")

REPO = Path(__file__).resolve().parent.parent
# A run that has not finished after this long never will: tens of times a normal run on a
# loaded CI machine. It is a liveness guard for hostile input (a FIFO opened blocking, a
# pattern that backtracks without end), not a speed claim; speed is measured in bench/.
HANG_SECONDS = 60


class NeverFinished(BaseException):
    """Raised into a run that hung; a BaseException so no ``except Exception`` swallows it."""


@contextmanager
def finishes(what: str, seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Interrupt the block if it hangs, and fail naming ``what``, instead of hanging pytest.

    An elapsed-time check after the call can only see a slow run that did end; a real hang
    (a blocking open, an endless loop) never returns to it. SIGALRM interrupts the block
    itself: Python runs the handler between bytecodes and inside blocking system calls.
    """

    def hung(signum: int, frame: object) -> None:
        raise NeverFinished(f"{what} did not finish within {seconds:.0f} s: it hangs")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# The moment the README and the issues use: Monday of ISO week 48, 2025, after the send time.
NOW = "2025-11-24T09:00:00+01:00"
NOW_DT = dt.datetime.fromisoformat(NOW)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class Killed(BaseException):
    """The build's process ends here (nothing below the stage runs, no cleanup either)."""


def kill_at(stage: str) -> Callable[[str], None]:
    """Return an ``output._reached`` hook that kills the build at ``stage``."""

    def reached(name: str) -> None:
        if name == stage:
            raise Killed(stage)

    return reached


def copy_example_project(destination: Path) -> Path:
    """Copy the shipped example (schedule.yaml, articles/, templates/) to ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "schedule.yaml", destination / "schedule.yaml")
    shutil.copytree(REPO / "articles", destination / "articles")
    shutil.copytree(REPO / "templates", destination / "templates")
    return destination


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Return a private copy of the example project that a test may change."""
    return copy_example_project(tmp_path / "project")


RunCli = Callable[..., Result]


@pytest.fixture
def run_cli() -> RunCli:
    """Run the ``nieuwsbrief`` command in-process; return click's Result."""

    def run(*args: str | Path) -> Result:
        return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)

    return run


def assert_same_paged_builds(tmp_path: Path, patches: Callable[[pytest.MonkeyPatch], None]) -> None:
    """Build the example (feeds of 2 items, archive pages of 1) as is and with ``patches``
    applied; assert the same report and the same bytes in every file, archives included."""
    project = copy_example_project(tmp_path / "project")
    set_setting(project, "feeds", "limit", 2)
    set_setting(project, "feeds", "archive_size", 1)

    def build(out: Path) -> tuple[str, dict[str, bytes]]:
        arguments = ["build", "-p", str(project), "-o", str(out), "--now", NOW, "--no-cache"]
        result = CliRunner().invoke(cli, arguments, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output.replace(str(out), "OUT"), tree_bytes(out)

    plain = build(tmp_path / "plain")
    with pytest.MonkeyPatch.context() as patch:
        patches(patch)
        patched = build(tmp_path / "patched")
    assert any("/archive/" in name for name in plain[1])
    assert plain[0] == patched[0]
    assert sorted(plain[1]) == sorted(patched[1])
    for name in sorted(patched[1]):
        assert plain[1][name] == patched[1][name], name


class CallCounter:
    """Count the calls of ``module.name`` for the rest of a test (e.g. the builds that
    render, or that load articles: a build that stops early does neither)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
        self.count = 0
        real = getattr(module, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)


def build_report(result: Any) -> tuple[Any, ...]:
    """Everything a build reports (a BuildResult) but what it removed: a fresh --out has
    nothing to remove. Shortcut tests compare it with a build without any shortcut."""
    return (
        result.files,
        result.digest_week,
        result.warnings,
        [(str(a.source), a.slug, a.title, a.date, a.draft) for a in result.published],
        [(str(a.source), a.slug, a.title, a.date, a.draft) for a in result.drafts],
        [(str(a.source), a.slug, a.title, a.date, a.draft) for a in result.scheduled],
    )


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Return every file below ``root`` by relative path, with its bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def article_dates(project: Path) -> dict[str, tuple[str, dt.datetime, bool]]:
    """Read the article files directly (not through nieuwsbrief): slug -> (title, date, draft).

    Tests compare what nieuwsbrief wrote against this independent reading.
    """
    import re

    import yaml

    facts = {}
    for path in sorted((project / "articles").glob("*.md")):
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
        raw_date = front.get("date", path.name[:10])
        if isinstance(raw_date, dt.datetime):
            date = raw_date
        elif isinstance(raw_date, str) and len(raw_date) > 10:
            date = dt.datetime.fromisoformat(raw_date).replace(tzinfo=AMSTERDAM)
        else:
            day = raw_date if isinstance(raw_date, dt.date) else dt.date.fromisoformat(raw_date)
            date = dt.datetime.combine(day, dt.time(), tzinfo=AMSTERDAM)
        slug = front.get("slug") or re.sub(r"^\d{4}-\d{2}-\d{2}-", "", path.stem)
        facts[slug] = (front["title"], date, bool(front.get("draft")))
    return facts


def write_article(
    project: Path, name: str, body: str = "Tekst van het artikel.", **front: object
) -> Path:
    """Write one article file with the given front matter into ``project/articles``."""
    import yaml

    path = project / "articles" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
    path.write_text(f"---\n{header}---\n\n{body}\n", encoding="utf-8")
    return path


def bare_project(root: Path) -> Path:
    """Make ``root`` (anew) a project with the example settings and templates, no articles."""
    if root.exists():
        shutil.rmtree(root)
    (root / "articles").mkdir(parents=True)
    shutil.copy2(REPO / "schedule.yaml", root / "schedule.yaml")
    shutil.copytree(REPO / "templates", root / "templates")
    return root


@pytest.fixture
def empty_project(tmp_path: Path) -> Path:
    """Return a project with the example settings and templates but no articles."""
    return bare_project(tmp_path / "empty")


def set_setting(project: Path, section: str, key: str, value: object) -> None:
    """Change one key of ``project/schedule.yaml``."""
    import yaml

    path = project / "schedule.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.setdefault(section, {})[key] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    """Headless Chromium for the browser tests: a skip where it is missing, a failure in CI."""
    import os

    from browser import chromium, find_browser

    found = find_browser()
    if found is None:
        message = (
            "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        )
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run must install them")
        pytest.skip(message)
    with chromium(*found) as browser:
        yield browser
