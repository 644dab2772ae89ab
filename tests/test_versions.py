"""Dependency bounds the tests prove: the lowest allowed versions build the golden site.

constraints/lowest.txt pins every runtime dependency at its lower bound in pyproject.toml;
the slow test installs exactly those into a fresh virtualenv and runs the golden and feed
tests there (the main run covers the latest versions). constraints/tested.txt is the
`pip freeze` of a venv the whole suite passed in, for reproducible installs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import REPO
from nieuwsbrief import __version__

LOWEST = REPO / "constraints" / "lowest.txt"
TESTED = REPO / "constraints" / "tested.txt"
# What the subset needs besides the project (test_golden.py and test_feeds.py, conftest.py).
SUBSET_TOOLS = ["pytest", "feedparser", "jsonschema[format-nongpl]", "hypothesis"]
SUBSET = ["tests/test_golden.py", "tests/test_feeds.py"]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line!r} is not name==version"
            found[canonical(name)] = version
    return found


def project() -> dict[str, object]:
    with (REPO / "pyproject.toml").open("rb") as file:
        data: dict[str, object] = tomllib.load(file)["project"]
    return data


def lower_bounds() -> dict[str, str]:
    bounds = {}
    dependencies = project()["dependencies"]
    assert isinstance(dependencies, list)
    for requirement in dependencies:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9][0-9a-z.]*)", requirement)
        assert match, f"{requirement!r} has no plain lower bound (name>=version)"
        bounds[canonical(match[1])] = match[2]
    return bounds


def same_version(one: str, other: str) -> bool:
    def parts(version: str) -> list[int]:
        numbers = [int(part) for part in version.split(".")]
        while numbers and numbers[-1] == 0:
            numbers.pop()
        return numbers

    return parts(one) == parts(other)


def test_lowest_pins_are_the_lower_bounds() -> None:
    bounds, lowest = lower_bounds(), pins(LOWEST)
    assert set(lowest) == set(bounds), "constraints/lowest.txt and pyproject.toml differ"
    for name, version in bounds.items():
        assert same_version(lowest[name], version), f"{name}: pin {lowest[name]}, bound {version}"


def test_tested_versions_are_allowed_and_complete() -> None:
    """Every runtime dependency is in tested.txt, within its bound, and the project is not."""
    tested = pins(TESTED)
    assert "nieuwsbrief" not in tested
    for name, bound in lower_bounds().items():
        assert name in tested, f"{name} is missing from constraints/tested.txt"

        def key(version: str) -> tuple[int, ...]:
            return tuple(int(part) for part in re.findall(r"\d+", version)[:4])

        assert key(tested[name]) >= key(bound), f"{name} {tested[name]} is below {bound}"


def test_the_version_is_written_once() -> None:
    assert project().get("dynamic") == ["version"] and "version" not in project()
    with (REPO / "pyproject.toml").open("rb") as file:
        hatch = tomllib.load(file)["tool"]["hatch"]["version"]
    assert hatch == {"path": "src/nieuwsbrief/__init__.py"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def _registry_reachable(python: Path) -> bool:
    probe = subprocess.run(
        [str(python), "-m", "pip", "download", "--no-deps", "--quiet", "--dest",
         str(python.parent.parent / "probe"), "click==8.1.0"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return probe.returncode == 0


def test_golden_and_feeds_pass_at_the_lowest_versions(tmp_path: Path) -> None:
    """A second venv with constraints/lowest.txt runs the golden and feed tests."""
    venv = tmp_path / "lowest"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    if not _registry_reachable(python):
        if os.environ.get("CI"):
            pytest.fail("the package registry is unreachable: the lowest versions went untested")
        pytest.skip("the package registry is unreachable; the lowest versions are not tested")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-c", str(LOWEST), "-e", str(REPO), *SUBSET_TOOLS],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    freeze = subprocess.run(
        [str(python), "-m", "pip", "freeze"], capture_output=True, text=True, check=True
    ).stdout
    installed = {
        canonical(name): version
        for name, _, version in (line.partition("==") for line in freeze.splitlines())
    }
    for name, version in pins(LOWEST).items():
        assert same_version(installed.get(name, "?"), version), f"{name}: {installed.get(name)}"
    run = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUBSET],
        cwd=REPO, capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "NIEUWSBRIEF_REGENERATE_GOLDEN": ""},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert re.search(r"\d+ passed", run.stdout), run.stdout[-2000:]
