"""The package as a whole: entry points, start-up cost, and the code standards CI enforces."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from nieuwsbrief import __version__

BIN = Path(sys.executable).parent


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)


def test_python_dash_m_runs_the_cli() -> None:
    result = run(sys.executable, "-m", "nieuwsbrief", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"nieuwsbrief, version {__version__}"


def test_unknown_command_is_a_usage_error() -> None:
    result = run(sys.executable, "-m", "nieuwsbrief", "publiceer")
    assert result.returncode == 2
    assert "No such command" in result.stderr


def test_help_does_not_import_heavy_libraries() -> None:
    heavy = [
        "lxml",
        "feedgen",
        "mjml",
        "nh3",
        "markdown_it",
        "jinja2",
        "yaml",
        "frontmatter",
    ]
    code = (
        "import sys; from nieuwsbrief.cli import cli\n"
        "try:\n    cli(['--help'], prog_name='nieuwsbrief')\nexcept SystemExit:\n    pass\n"
        f"print('loaded:' + ','.join(name for name in {heavy!r} if name in sys.modules))"
    )
    result = run(sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "loaded:"


@pytest.mark.parametrize(
    "argv", [["ruff", "check", "src", "tests", "bench"], ["mypy"]], ids=["ruff", "mypy"]
)
def test_code_standards(argv: list[str]) -> None:
    tool = BIN / argv[0]
    if not tool.exists():
        pytest.fail(f"{argv[0]} is not installed next to this Python; install the [test] extra")
    result = run(str(tool), *argv[1:])
    assert result.returncode == 0, result.stdout + result.stderr


def test_coverage_counts_subprocess_runs(tmp_path: Path) -> None:
    """The pyproject coverage settings follow `python -m nieuwsbrief` into its subprocess."""
    pytest.importorskip("coverage", reason="install the 'coverage' extra to check this")
    data = tmp_path / "coverage-data"
    environment = {**os.environ, "COVERAGE_FILE": str(data)}
    environment.pop("COVERAGE_PROCESS_START", None)
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_package.py", "-k", "python_dash_m"],
        cwd=REPO, env=environment, capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    files = sorted(path.name for path in tmp_path.glob("coverage-data.*"))
    assert len(files) >= 2, f"one data file per process expected, found {files}"
    subprocess.run(
        [sys.executable, "-m", "coverage", "combine", "-q"],
        cwd=REPO, env=environment, check=True, timeout=120,
    )  # fmt: skip
    report = subprocess.run(
        [sys.executable, "-m", "coverage", "report", "--include=*/nieuwsbrief/__main__.py",
         "--no-skip-covered"],
        cwd=REPO, env=environment, capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    # __main__.py only runs in the subprocess: 100% means its run was counted.
    assert re.search(r"__main__\.py\s+\d+\s+0\s+100%", report), report
