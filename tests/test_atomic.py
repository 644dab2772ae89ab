"""A build killed at any moment leaves every published file old or new, and the next finishes.

Real builds run as subprocesses. tests/pause_build.py stops a build at a named stage of a
publish (``nieuwsbrief.output.STAGES``), so each kill lands exactly where the test says; a
second test kills builds after seeded random delays to hit the points in between.

A publish stages new files inside --out, writes a journal, then renames. Killed before the
journal, every published file is old; killed after it, each file is old or new, and the
next build (or :func:`nieuwsbrief.output.recover`) finishes the journal first.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import NOW, REPO, RunCli, copy_example_project, tree_bytes, write_article
from nieuwsbrief.errors import BuildError
from nieuwsbrief.output import (
    JOURNAL_FILE,
    RECORD_FILE,
    STAGES,
    STAGING_DIR,
    build_lock,
    publish,
    recover,
)

LATER = "2025-12-09T09:00:00+01:00"
PAUSE_SCRIPT = REPO / "tests" / "pause_build.py"

Trees = tuple[Path, dict[str, bytes], dict[str, bytes]]


def big_project(root: Path, count: int = 80) -> Path:
    """Return the example project plus ``count`` articles, so a build has many files to write."""
    project = copy_example_project(root / "project")
    paragraph = "Een alinea met [een link](/artikelen/winterdip/) en wat **nadruk**. " * 12
    for number in range(count):
        write_article(
            project,
            f"2025-{10 + number % 2}-{1 + number % 28:02d}-extra-{number:04d}.md",
            "\n\n".join([paragraph] * 6),
            title=f"Extra artikel {number}",
            tags=["extra", f"groep-{number % 7}"],
        )
    return project


def start_build(
    project: Path, out: Path, now: str, *, pause: str | None = None, marker: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``nieuwsbrief build`` as a real process, optionally stopping at ``pause``."""
    command = [sys.executable, "-m", "nieuwsbrief"]
    if pause is not None and marker is not None:
        command = [sys.executable, str(PAUSE_SCRIPT), pause, str(marker)]
    command += ["build", "-q", "-p", str(project), "-o", str(out), "--now", now, "--no-cache"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    """Wait for ``process``; return its exit code and standard error."""
    _, stderr = process.communicate(timeout=300)
    return process.returncode, stderr.decode("utf-8", "replace")


def wait_for_marker(process: subprocess.Popen[bytes], marker: Path) -> None:
    """Block until the build reached its pause point (it writes ``marker`` there)."""
    while not marker.exists():
        if process.poll() is not None:
            pytest.fail(f"the build ended before its pause point: {finish(process)}")
        time.sleep(0.01)


BOOKKEEPING = (STAGING_DIR, JOURNAL_FILE, RECORD_FILE + ".tmp")


def leftovers(out: Path) -> list[str]:
    """Return the bookkeeping an unfinished publish leaves in ``out`` (staging, journal)."""
    return sorted(name for name in BOOKKEEPING if (out / name).exists())


def published(out: Path) -> dict[str, bytes]:
    """Return what --out publishes: every file but an unfinished publish's bookkeeping."""
    return {
        name: data
        for name, data in tree_bytes(out).items()
        if name.split("/")[0] not in BOOKKEEPING
    }


def recover_now(out: Path) -> None:
    """Finish what a killed build left, as the next build does first."""
    with build_lock(out):
        recover(out)


def assert_each_file_old_or_new(
    after: dict[str, bytes], old: dict[str, bytes], new: dict[str, bytes], where: str
) -> None:
    for name in set(after) | set(old) | set(new):
        assert after.get(name) in (old.get(name), new.get(name)), f"{name} mixed at {where}"


def make_trees(root: Path) -> Trees:
    """Return a big project and the complete old (NOW) and new (LATER over NOW) outputs."""
    project = big_project(root)
    out = root / "reference" / "public"
    found = []
    for now in (NOW, LATER):
        code, stderr = finish(start_build(project, out, now))
        assert code == 0, stderr
        found.append(tree_bytes(out))
    old, new = found
    # The new output must differ from the old in feeds and digests, and keep the old weeks.
    assert old["feed.xml"] != new["feed.xml"]
    assert {name for name in old if name.startswith("digests/2025-W")} < set(new)
    assert leftovers(out) == []
    return project, old, new


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Trees:
    """Return a big project and its complete old and new outputs."""
    return make_trees(tmp_path_factory.mktemp("atomic"))


def old_output(trees: Trees, root: Path) -> Path:
    """Return a fresh --out holding the complete old output, made by a real build."""
    project, old, _ = trees
    out = root / "public"
    code, stderr = finish(start_build(project, out, NOW))
    assert code == 0, stderr
    assert tree_bytes(out) == old
    return out


@pytest.mark.parametrize("stage", STAGES)
def test_sigkill_at_each_stage(stage: str, trees: Trees, tmp_path: Path) -> None:
    project, old, new = trees
    out = old_output(trees, tmp_path)
    marker = tmp_path / "paused"
    victim = start_build(project, out, LATER, pause=stage, marker=marker)
    wait_for_marker(victim, marker)
    if stage == "mid-write":
        # Prove the kill lands mid-write: the staging folder holds part of the new files.
        staged = tree_bytes(out / STAGING_DIR)
        assert staged and len(staged) < len(new)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=60) == -signal.SIGKILL
    after = published(out)
    if stage in ("locked", "mid-write", "journaled"):
        assert after == old, f"a published file changed before the renames ({stage})"
    elif stage == "mid-commit":
        assert after != old and after != new, "the kill did not land between the renames"
        assert_each_file_old_or_new(after, old, new, stage)
    else:
        assert after == new, f"wrong output after a kill at {stage}"
    if stage in ("journaled", "mid-commit", "committed"):
        # Past the journal, the build is finished by whoever takes the lock next.
        recover_now(out)
        assert tree_bytes(out) == new
    # The next build cleans up whatever the killed one left and succeeds.
    code, stderr = finish(start_build(project, out, LATER))
    assert code == 0, stderr
    assert tree_bytes(out) == new
    assert leftovers(out) == []


def test_a_paused_build_that_goes_on_completes(trees: Trees, tmp_path: Path) -> None:
    project, _, new = trees
    out = old_output(trees, tmp_path)
    marker = tmp_path / "paused"
    build = start_build(project, out, LATER, pause="mid-write", marker=marker)
    wait_for_marker(build, marker)
    marker.unlink()
    code, stderr = finish(build)
    assert code == 0, stderr
    assert tree_bytes(out) == new


def test_sigkill_after_random_delays(trees: Trees, tmp_path: Path) -> None:
    project, old, new = trees
    out = old_output(trees, tmp_path)
    started = time.monotonic()
    code, stderr = finish(start_build(project, tmp_path / "timing" / "public", LATER))
    assert code == 0, stderr
    duration = time.monotonic() - started
    # A fixed seed keeps the run repeatable; the outcome only ever depends on where it lands.
    delays = random.Random(48).choices(range(120), k=12)  # noqa: S311 - not for secrets
    for step, percent in enumerate(delays):
        victim = start_build(project, out, LATER)
        time.sleep(duration * percent / 100)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=60)
        assert_each_file_old_or_new(published(out), old, new, f"kill {step} at {percent}%")
        recover_now(out)
        after = tree_bytes(out)
        assert after in (old, new), f"mixed output after kill {step} at {percent}% of a build"
        if after == new:
            # Start the next round from the old output again.
            shutil.rmtree(out)
            out = old_output(trees, tmp_path / f"round-{step}")
    code, stderr = finish(start_build(project, out, LATER))
    assert code == 0, stderr
    assert tree_bytes(out) == new
    assert leftovers(out) == []


def test_earlier_digest_weeks_survive_a_rebuild(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "public"
    for now in ("2025-11-10T09:00:00+01:00", "2025-11-17T09:00:00+01:00"):
        assert run_cli("build", "-p", project, "-o", out, "--now", now).exit_code == 0
    weeks_before = tree_bytes(out / "digests")
    assert run_cli("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    after = tree_bytes(out / "digests")
    for name, data in weeks_before.items():
        if not name.startswith("index"):
            assert after[name] == data, name
    assert {name.split("/")[0] for name in after} >= {"2025-W46", "2025-W47", "2025-W48"}


def test_out_that_is_a_file_is_refused(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "public"
    out.write_text("niet weggooien", encoding="utf-8")
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 2  # click's own check of a file_okay=False option
    assert "is a file" in result.output
    assert out.read_text(encoding="utf-8") == "niet weggooien"
    with pytest.raises(BuildError, match="exists and is not a folder"):
        publish(out, {"feed.xml": b"<rss/>"})
    assert out.read_text(encoding="utf-8") == "niet weggooien"


def test_symlinked_out_keeps_its_link(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    target = tmp_path / "site" / "releases" / "current"
    target.mkdir(parents=True)
    link = tmp_path / "public"
    link.symlink_to(target, target_is_directory=True)
    result = run_cli("build", "-p", project, "-o", link, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert (target / "feed.xml").is_file()
    first = tree_bytes(target)
    assert run_cli("build", "-p", project, "-o", link, "--now", LATER).exit_code == 0
    assert link.is_symlink()
    assert tree_bytes(target) != first and "feed.xml" in tree_bytes(link)
