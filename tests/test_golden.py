"""Build a small fixed site and compare every output byte with the committed expectation.

Regenerate the expected files after an intended change to the output, then review the diff:

    NIEUWSBRIEF_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest

from conftest import REPO, RunCli, tree_bytes

GOLDEN = Path(__file__).parent / "golden"
NOW = "2025-11-24T09:00:00+01:00"


def test_golden_site(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "project"
    shutil.copytree(GOLDEN / "project", project)
    shutil.copytree(REPO / "templates", project / "templates")
    out = tmp_path / "out"
    result = run_cli("build", "--project", project, "--out", out, "--now", NOW)
    assert result.exit_code == 0, result.output
    actual = tree_bytes(out)
    expected_dir = GOLDEN / "expected"
    if os.environ.get("NIEUWSBRIEF_REGENERATE_GOLDEN"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(out, expected_dir)
        # Regenerating writes and stops: comparing with what was just written proves nothing.
        pytest.skip("regenerated tests/golden/expected; review it with git diff")
    expected = tree_bytes(expected_dir)
    assert sorted(actual) == sorted(expected), "a different set of files was written"
    for name, data in actual.items():
        if data != expected[name]:
            diff = difflib.unified_diff(
                expected[name].decode("utf-8", "replace").splitlines(),
                data.decode("utf-8", "replace").splitlines(),
                f"expected/{name}",
                f"actual/{name}",
                lineterm="",
            )
            raise AssertionError("\n".join(list(diff)[:80]))
