"""The package as a whole: entry points, start-up cost, and the code standards CI enforces."""

from __future__ import annotations

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
