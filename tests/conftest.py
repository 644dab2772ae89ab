"""Fixtures shared by the test suite: a copy of the example project and a CLI runner."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nieuwsbrief.cli import cli

REPO = Path(__file__).resolve().parent.parent
# The moment the README and the issues use: Monday of ISO week 48, 2025, after the send time.
NOW = "2025-11-24T09:00:00+01:00"
NOW_DT = dt.datetime.fromisoformat(NOW)


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


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Return every file below ``root`` by relative path, with its bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
