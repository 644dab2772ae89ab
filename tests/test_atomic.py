"""A build killed at any moment leaves the complete old or the complete new output, never a mix.

Real builds run as subprocesses. The library's test hook (NIEUWSBRIEF_TEST_PAUSE_AT) stops a
build at a named point, so each kill lands exactly where the test says; a second test kills
builds after seeded random delays to hit the points in between.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import NOW, RunCli, copy_example_project, tree_bytes, write_article
from nieuwsbrief.errors import BuildError
from nieuwsbrief.output import PAUSE_AT_ENV, PAUSE_FILE_ENV, PAUSE_STAGES, publish

LATER = "2025-12-09T09:00:00+01:00"

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
    env = dict(os.environ)
    env.pop(PAUSE_AT_ENV, None)
    env.pop(PAUSE_FILE_ENV, None)
    if pause is not None and marker is not None:
        env[PAUSE_AT_ENV] = pause
        env[PAUSE_FILE_ENV] = str(marker)
    command = [sys.executable, "-m", "nieuwsbrief", "build", "-q"]
    command += ["-p", str(project), "-o", str(out), "--now", now, "--no-cache"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


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


def staging_folders(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.staging-*"))


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


@pytest.mark.parametrize("stage", PAUSE_STAGES)
def test_sigkill_at_each_stage(stage: str, trees: Trees, tmp_path: Path) -> None:
    project, old, new = trees
    out = old_output(trees, tmp_path)
    marker = tmp_path / "paused"
    victim = start_build(project, out, LATER, pause=stage, marker=marker)
    wait_for_marker(victim, marker)
    if stage == "mid-write":
        # Prove the kill lands mid-write: a staging folder holds part of the new files.
        (staging,) = staging_folders(out)
        written = tree_bytes(staging)
        assert written and len(written) < len(new)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=60) == -signal.SIGKILL
    expected = new if stage == "after-swap" else old
    assert tree_bytes(out) == expected, f"wrong output after a kill at {stage}"
    # The next build cleans up whatever the killed one left and succeeds.
    code, stderr = finish(start_build(project, out, LATER))
    assert code == 0, stderr
    assert tree_bytes(out) == new
    assert staging_folders(out) == []


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
        after = tree_bytes(out)
        assert after in (old, new), f"mixed output after kill {step} at {percent}% of a build"
        if after == new:
            # Start the next round from the old output again.
            shutil.rmtree(out)
            out = old_output(trees, tmp_path / f"round-{step}")
    code, stderr = finish(start_build(project, out, LATER))
    assert code == 0, stderr
    assert tree_bytes(out) == new
    assert staging_folders(out) == []


def test_killed_fallback_swap_is_recovered(trees: Trees, tmp_path: Path) -> None:
    # Where renameat2 is missing, the swap is two renames; a kill between them leaves only
    # the retired old tree. The next build must put it back and carry its digests over.
    project, _, new = trees
    out = old_output(trees, tmp_path)
    out.rename(out.with_name(".public.staging-killed-old"))
    code, stderr = finish(start_build(project, out, LATER))
    assert code == 0, stderr
    assert tree_bytes(out) == new
    assert staging_folders(out) == []


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


@pytest.mark.parametrize("where", ["project", "foreign"])
def test_out_that_holds_other_files_is_refused(
    where: str, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    # `--out .` inside the project once replaced the project, articles and all, with the feeds.
    out = project if where == "project" else tmp_path / "www"
    if where == "foreign":
        out.mkdir()
        (out / "index.html").write_text("<p>Eigen site</p>", encoding="utf-8")
    before = tree_bytes(out)
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW, "--no-cache")
    assert result.exit_code == 1
    assert str(out) in result.output
    assert ("looks like a project folder" if where == "project" else "did not write") in (
        result.output
    )
    assert "choose" in result.output
    assert tree_bytes(out) == before
    assert staging_folders(out) == []
