"""What sits in the staging folder is read with a bound, and its mode is set by descriptor.

Two findings of an outside probe:

* recovering a killed build (``output._apply``) hashed a staged file the journal names
  without a size bound: a sparse 3 GB file put in ``.nieuwsbrief-staging/`` under such a
  name was read whole. The journal now names each staged file's size; a staged file is
  read no further than that (one byte more), through a descriptor whose fstat shows a
  regular file, and one of another size, kind or hash is not moved into place;
* the publish kept a replaced file's permission bits with a ``chmod`` by path of the staged
  file, after checking it: a link (or a hard link) swapped in at that path in between made
  nieuwsbrief change the mode of a file it never wrote (the user's ``~/.ssh/config``). The
  mode is now set through the descriptor that was checked.

The recovery runs in its own process under an address-space limit (as in
``tests/test_template_bounds.py``), so a read without a bound shows as a MemoryError or a
killed process, and inside the hang guard, so a read of a terabyte shows as a hang.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import NOW_DT, Killed, copy_example_project, finishes, kill_at, tree_bytes
from inert import assert_clean_failure
from nieuwsbrief import output
from nieuwsbrief.build import build
from nieuwsbrief.cli import cli
from nieuwsbrief.errors import BuildError
from nieuwsbrief.output import (
    JOURNAL_FILE,
    MAX_OUTPUT_FILE_BYTES,
    RECORD_FILE,
    STAGING_DIR,
    StagedFiles,
)

LATER = "2025-12-09T09:00:00+01:00"
LATER_DT = dt.datetime.fromisoformat(LATER)
# Far more than a build needs (a few hundred MB), far less than the files planted below.
ADDRESS_SPACE = 1_500_000_000
GB3 = 3_000_000_000  # the probe's file
TIB = 1 << 40  # read whole, it would take an hour: past any hang guard


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def sparse(path: Path, size: int) -> None:
    """Put a file of ``size`` bytes at ``path`` that takes no disk (a hole)."""
    with path.open("wb") as stream:
        stream.truncate(size)


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """What builds at NOW and LATER write into an empty folder."""
    root = tmp_path_factory.mktemp("reference")
    project = copy_example_project(root / "project")
    out = root / "out"
    build(project, out, NOW_DT, cache=False)
    build(project, out, LATER_DT, cache=False)
    return tree_bytes(out)


def listing(out: Path) -> dict[str, tuple[int, int, int, int]]:
    """Return every entry below ``out`` by inode, mode, size and modification time (never
    its bytes: sparse files of a terabyte are among them)."""
    found = {}
    for path in out.rglob("*"):
        info = path.lstat()
        found[path.relative_to(out).as_posix()] = (
            info.st_ino, info.st_mode, info.st_size, info.st_mtime_ns
        )
    return found


def killed_after_journal(root: Path) -> tuple[Path, Path, dict[str, Any]]:
    """Return a project, its --out built at NOW whose build at LATER was killed at its
    journal, and that journal."""
    project = copy_example_project(root / "project")
    out = root / "public"
    build(project, out, NOW_DT, cache=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(output, "_reached", kill_at("journaled"))
        with pytest.raises(Killed):
            build(project, out, LATER_DT, cache=False)
    journal = json.loads((out / JOURNAL_FILE).read_bytes())
    return project, out, journal


def build_in_a_process(project: Path, out: Path) -> tuple[int, list[str]]:
    """Build at LATER in a process of its own under the address-space limit."""
    args = [sys.executable, "-m", "nieuwsbrief", "build", "-p", project, "-o", out]
    with finishes("a build recovering from a journal with a huge staged file"):
        result = subprocess.run(
            [*args, "--now", LATER],
            capture_output=True,
            text=True,
            preexec_fn=_limit_memory,
            check=False,
        )
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return result.returncode, lines


@pytest.mark.parametrize("size", [GB3, TIB], ids=["3GB", "1TiB"])
@pytest.mark.parametrize("journal_form", ["sizes", "earlier-without-sizes"])
def test_a_huge_staged_file_a_journal_names_is_not_read(
    tmp_path: Path, expected: dict[str, bytes], size: int, journal_form: str
) -> None:
    """Recovery finishes without reading it: the move is not made, the next build makes it.

    A journal of an earlier version names no sizes: its staged files are read no further
    than the largest file a build stages.
    """
    project, out, journal = killed_after_journal(tmp_path)
    if journal_form == "earlier-without-sizes":
        journal["moves"] = [move[:2] for move in journal["moves"]]
        (out / JOURNAL_FILE).write_text(json.dumps(journal), "utf-8")
    staged = [out / STAGING_DIR / name for name, *_ in journal["moves"]]
    for path in staged[:2]:
        path.unlink()
        sparse(path, size)
    code, lines = build_in_a_process(project, out)
    assert code == 0, lines
    assert "Traceback" not in "\n".join(lines) and "MemoryError" not in "\n".join(lines)
    # The documented outcome: the files whose staged bytes were replaced stayed as they
    # were, on record at those bytes, so the build after the recovery wrote them; --out
    # holds what builds without any damage write, and the staging folder is gone.
    assert tree_bytes(out) == expected
    assert not os.path.lexists(out / STAGING_DIR) and not os.path.lexists(out / JOURNAL_FILE)


def test_a_journal_names_the_size_of_each_staged_file(tmp_path: Path) -> None:
    _, out, journal = killed_after_journal(tmp_path)
    assert journal["moves"]
    for staged, _, size in journal["moves"]:  # [staged, destination, size]
        assert (out / STAGING_DIR / staged).stat().st_size == size


def test_a_journal_that_names_a_size_larger_than_a_build_writes_is_refused(
    tmp_path: Path,
) -> None:
    """A forged journal's sizes are untrusted too: one beyond the bound is a one-line refusal
    naming the journal and what to delete, and nothing is read or moved."""
    project, out, journal = killed_after_journal(tmp_path)
    first = journal["moves"][0]
    first[2] = MAX_OUTPUT_FILE_BYTES + 1
    (out / JOURNAL_FILE).write_text(json.dumps(journal), "utf-8")
    (out / STAGING_DIR / first[0]).unlink()
    sparse(out / STAGING_DIR / first[0], MAX_OUTPUT_FILE_BYTES + 1)
    before = listing(out)
    args = ["build", "-p", str(project), "-o", str(out), "--now", LATER]
    with finishes("a build refusing a journal"):
        result = CliRunner().invoke(cli, args)
    assert_clean_failure(
        result,
        lambda line: JOURNAL_FILE in line and "has no size" in line and "delete it" in line,
    )
    assert listing(out) == before


def test_a_build_never_stages_a_file_larger_than_a_journal_may_name(tmp_path: Path) -> None:
    out = tmp_path / "public"
    with output.claim(out) as folder, output.staged_files(folder) as files:
        files["feed.xml"] = b"<rss/>"
        with pytest.raises(BuildError, match="more than the 256,000,000 nieuwsbrief writes"):
            files["lists/all.json"] = bytes(MAX_OUTPUT_FILE_BYTES + 1)
    assert not out.exists()


@pytest.mark.parametrize("where", ["recorded", "without-record"])
def test_a_huge_file_at_an_output_path_is_refused_without_reading_it(
    tmp_path: Path, where: str
) -> None:
    """Own files are hashed before they are replaced or adopted: one larger than any file a
    build writes is not nieuwsbrief's, whatever its bytes, and is refused unread."""
    project = copy_example_project(tmp_path / "project")
    out = tmp_path / "public"
    build(project, out, NOW_DT, cache=False)
    if where == "without-record":
        (out / RECORD_FILE).unlink()  # an earlier version's output, to be adopted
    (out / "feed.xml").unlink()
    sparse(out / "feed.xml", TIB)
    before = listing(out)
    args = ["build", "-p", str(project), "-o", str(out), "--now", LATER]
    with finishes("a build over a huge feed.xml"):
        result = CliRunner().invoke(cli, args)
    assert_clean_failure(
        result, lambda line: "feed.xml" in line and "larger than any file" in line
    )
    assert listing(out) == before


# --- The mode of a replaced file is set through the checked descriptor ----------------


@pytest.mark.parametrize("swap", ["symlink", "hard-link"])
def test_a_link_swapped_in_after_the_staged_file_was_checked_keeps_its_mode(
    tmp_path: Path, expected: dict[str, bytes], swap: str
) -> None:
    """A file outside --out keeps its mode (and bytes) whatever is swapped in for a staged
    file once the publish checked it; the build is published or refused in one line."""
    project = copy_example_project(tmp_path / "project")
    out = tmp_path / "public"
    build(project, out, NOW_DT, cache=False)
    for path in out.rglob("*"):
        if path.is_file():
            path.chmod(0o640)  # a replaced file keeps its mode: each replacement sets one
    secret = tmp_path / "home" / ".ssh" / "config"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(b"Host *\n")
    secret.chmod(0o600)
    swapped: list[str] = []
    real_staged_name = StagedFiles.staged_name

    def staged_name_then_swap(self: StagedFiles, name: str, *args: Any) -> str | None:
        staged = real_staged_name(self, name, *args)
        if staged is not None and not swapped and (out / name).exists():
            # The file was checked as the one this build wrote: now swap in a link.
            path = out / STAGING_DIR / staged
            path.unlink()
            if swap == "symlink":
                path.symlink_to(secret)
            else:
                os.link(secret, path)
            swapped.append(name)
        return staged

    args = ["build", "-p", str(project), "-o", str(out), "--now", LATER]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(StagedFiles, "staged_name", staged_name_then_swap)
        result = CliRunner().invoke(cli, args)
    assert swapped, "no staged file replaced an existing one"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert secret.read_bytes() == b"Host *\n"
    if result.exit_code != 0:
        assert_clean_failure(result, lambda line: swapped[0] in line and "build again" in line)
    # Whatever was swapped in, the record lists no bytes that are not in --out, and a link or
    # someone else's file was never moved into place as nieuwsbrief's.
    record = json.loads((out / RECORD_FILE).read_bytes())["files"]
    for name, digest in record.items():
        assert not (out / name).is_symlink(), name
        assert output.sha256((out / name).read_bytes()) == digest, name
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert tree_bytes(out) == expected
    assert stat.S_IMODE((out / swapped[0]).stat().st_mode) == 0o640
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
