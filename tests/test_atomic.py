"""A build killed at any moment, or two builds at once, never leave a mixed or broken output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import NOW, RunCli, copy_example_project, tree_bytes, write_article

LATER = "2025-12-09T09:00:00+01:00"


def big_project(root: Path, count: int = 200) -> Path:
    """Return the example project plus ``count`` articles, so a build takes a while."""
    project = copy_example_project(root / "project")
    paragraph = "Een alinea met [een link](/artikelen/winterdip/) en wat **nadruk**. " * 12
    for number in range(count):
        write_article(
            project,
            f"2025-10-{1 + number % 28:02d}-extra-{number:04d}.md",
            "\n\n".join([paragraph] * 6),
            title=f"Extra artikel {number}",
            tags=["extra", f"groep-{number % 7}"],
        )
    return project


def start_build(project: Path, out: Path, now: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nieuwsbrief",
            "build",
            "-p",
            str(project),
            "-o",
            str(out),
            "--now",
            now,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, bytes], dict[str, bytes], float]:
    """Return a big project, the old and the new complete outputs, and a build's duration."""
    root = tmp_path_factory.mktemp("atomic")
    project = big_project(root)
    trees = []
    started = time.monotonic()
    # The new output is a LATER build over the old one: it keeps the old digest weeks.
    out = root / "reference" / "public"
    for now in (NOW, LATER):
        process = start_build(project, out, now)
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr.decode()
        trees.append(tree_bytes(out))
    duration = (time.monotonic() - started) / 2
    assert trees[0] != trees[1]
    return project, trees[0], trees[1], duration


def test_sigkill_leaves_old_or_new_output_never_a_mix(
    setup: tuple[Path, dict[str, bytes], dict[str, bytes], float], tmp_path: Path
) -> None:
    project, old, new, duration = setup
    outcomes = set()
    # Kill at fractions of a build's duration: while loading, rendering, writing, swapping.
    for step, fraction in enumerate((0.3, 0.6, 0.8, 0.95, 1.1)):
        out = tmp_path / f"run-{step}" / "public"
        first = start_build(project, out, NOW)
        assert first.wait(timeout=300) == 0
        assert tree_bytes(out) == old
        victim = start_build(project, out, LATER)
        time.sleep(duration * fraction)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=60)
        after = tree_bytes(out)
        assert after in (old, new), f"mixed output after a kill at {fraction:.0%} of a build"
        outcomes.add("new" if after == new else "old")
        # The next build cleans up whatever the killed one left and succeeds.
        again = start_build(project, out, LATER)
        assert again.wait(timeout=300) == 0
        assert tree_bytes(out) == new
        assert not list(out.parent.glob(".public.staging-*"))
    assert "old" in outcomes


def test_concurrent_builds_never_corrupt_the_output(
    setup: tuple[Path, dict[str, bytes], dict[str, bytes], float], tmp_path: Path
) -> None:
    project, old, _, _ = setup
    out = tmp_path / "public"
    for _ in range(3):
        processes = [start_build(project, out, NOW) for _ in range(2)]
        results = [
            (process.wait(timeout=300), process.stderr.read().decode()) for process in processes
        ]  # type: ignore[union-attr]
        for code, stderr in results:
            assert code in (0, 1), stderr
            if code == 1:
                assert "another nieuwsbrief build is running" in stderr
        assert any(code == 0 for code, _ in results)
        assert tree_bytes(out) == old


def test_lock_refuses_a_second_build(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    from nieuwsbrief.output import build_lock

    out = tmp_path / "public"
    with build_lock(out):
        result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 1
    assert "another nieuwsbrief build is running" in result.output
    assert not out.exists()
    assert run_cli("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0


def test_out_that_is_a_file_is_refused(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "public"
    out.write_text("niet weggooien", encoding="utf-8")
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code != 0
    assert out.read_text(encoding="utf-8") == "niet weggooien"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_earlier_digest_weeks_survive_a_rebuild(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "public"
    assert (
        run_cli("build", "-p", project, "-o", out, "--now", "2025-11-10T09:00:00+01:00").exit_code
        == 0
    )
    assert (
        run_cli("build", "-p", project, "-o", out, "--now", "2025-11-17T09:00:00+01:00").exit_code
        == 0
    )
    weeks_before = tree_bytes(out / "digests")
    assert run_cli("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    after = tree_bytes(out / "digests")
    for name, data in weeks_before.items():
        if not name.startswith("index"):
            assert after[name] == data, name
    assert {name.split("/")[0] for name in after} >= {"2025-W46", "2025-W47", "2025-W48"}
