"""Generated damage to the staging folder inside ``--out`` (``.nieuwsbrief-staging/``).

The staging folder is nieuwsbrief's own, but it is a folder in a website folder: a build
killed there leaves it behind, and anything may have been put in it since. Three kinds of
generated cases, each followed by a real build through the CLI:

* **left over before a journal**: a crashed build's staging folder holding anything (files
  of any size, links to files and folders outside ``--out``, FIFOs, subfolders; or the
  staging path itself a file, a link or a FIFO). The name is nieuwsbrief's own, so this
  build must succeed: whatever is there goes, never what a link there leads to;
* **left over after a journal**: a build killed (in-process) at its journal, half-way
  through its renames or after its record, whose staged files were then removed, cut
  short, changed, swapped for links to files outside with the same bytes, FIFOs, folders,
  hard links or sparse files of a terabyte, with strays added (of any size). Claiming
  ``--out`` finishes the journal, within the hang guard (a staged file is read no further
  than the size the journal names); only bytes are moved into place, never a link, FIFO or
  folder;
* **changed during a build**: the staged files of a running build changed in those ways
  while its publish plans, before its journal names them.

Then either the build succeeds and ``--out`` holds exactly what builds without any damage
write (a file of someone else's in ``--out`` included, untouched), or it fails with exit
code 1 and one line naming the file and the fix, and ``--out`` is as before that build (for
a change during a build, the next build then succeeds). Files and folders outside ``--out``
that a link in the staging folder leads to are never changed or removed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW_DT, Killed, copy_example_project, finishes, kill_at, tree_bytes
from inert import assert_clean_failure
from nieuwsbrief import output
from nieuwsbrief.build import build
from nieuwsbrief.cli import cli
from nieuwsbrief.errors import BuildError
from nieuwsbrief.output import JOURNAL_FILE, RECORD_FILE, STAGING_DIR

LATER = "2025-12-09T09:00:00+01:00"
LATER_DT = dt.datetime.fromisoformat(LATER)
FOREIGN = "website/index.html"
FOREIGN_BYTES = b"<p>van de webmaster</p>"
# Larger than any file read whole here: compared by size (sparse files of 3 GB and 1 TiB).
LARGE = 1 << 20


class Site:
    """A project, its --out built at NOW, and what builds at NOW and LATER write."""

    def __init__(self, root: Path, project: Path, built: Path, expected: dict[str, bytes]):
        self.root = root
        self.project = project
        self.built = built  # with someone else's file in it
        self.expected = expected  # without any damage, that file included

    def __repr__(self) -> str:  # what hypothesis prints of a failing example: not the bytes
        return f"Site({self.root})"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("staging")
    project = copy_example_project(root / "project")
    reference = root / "reference"
    build(project, reference, NOW_DT, cache=False)
    build(project, reference, LATER_DT, cache=False)
    built = root / "built"
    (built / "website").mkdir(parents=True)
    (built / FOREIGN).write_bytes(FOREIGN_BYTES)
    build(project, built, NOW_DT, cache=False)
    expected = tree_bytes(reference)
    expected[FOREIGN] = FOREIGN_BYTES
    return Site(root, project, built, expected)


_EXAMPLES = itertools.count()


@dataclass
class Example:
    project: Path  # its own copy: the project's caches are not shared between examples
    out: Path
    outside: Path  # files and a folder outside --out that links in the staging folder name

    def outside_state(self) -> dict[str, bytes]:
        return tree_bytes(self.outside)


def example(site: Site) -> Example:
    """Return a fresh copy of ``--out`` as built at NOW, and fresh files outside it."""
    folder = site.root / f"example-{next(_EXAMPLES)}"
    project = folder / "project"
    shutil.copytree(site.project, project, symlinks=True)
    out = folder / "public"
    shutil.copytree(site.built, out, symlinks=True)
    outside = folder / "elders"
    (outside / "map").mkdir(parents=True)
    (outside / "bewaar.txt").write_bytes(b"niet van nieuwsbrief")
    (outside / "map" / "binnen.txt").write_bytes(b"ook niet")
    return Example(project, out, outside)


def differing(found: dict[str, bytes], expected: dict[str, bytes]) -> list[str]:
    """Return the paths whose bytes differ (or that only one side has): a short failure."""
    names = found.keys() | expected.keys()
    return sorted(name for name in names if found.get(name) != expected.get(name))


def run_build(case: Example) -> Result:
    args = ["build", "-p", str(case.project), "-o", str(case.out), "--now", LATER]
    return CliRunner().invoke(cli, args, catch_exceptions=True)


def tree_of(out: Path) -> dict[str, Any]:
    """Return every entry below ``out`` (links and FIFOs included) with what it holds."""
    found: dict[str, Any] = {}
    for top, folders, files in os.walk(out):
        for name in [*folders, *files]:
            path = Path(top, name)
            relative = path.relative_to(out).as_posix()
            if path.is_symlink():
                found[relative] = ("link", str(path.readlink()))
            elif path.is_dir():
                found[relative] = "folder"
            elif path.is_file() and path.stat().st_size > LARGE:
                found[relative] = ("large", path.stat().st_size)
            elif path.is_file():
                found[relative] = path.read_bytes()
            else:
                found[relative] = "special"
    return found


# --- What can be in the staging folder ------------------------------------------------

ENTRY_NAMES = st.sampled_from(["000000", "000001", "000017", "999999", "journal", "x", ".y"])
ENTRY_KINDS = st.sampled_from(
    [
        "bytes",
        "empty",
        "huge",
        "link-file",
        "link-folder",
        "link-dangling",
        "fifo",
        "folder",
        "hard-link",
    ]
)


def make_entry(path: Path, kind: str, payload: bytes, outside: Path) -> None:
    """Put one thing at ``path`` (which does not exist)."""
    if kind == "bytes":
        path.write_bytes(payload)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "huge":
        with path.open("wb") as stream:  # sparse: no disk, but a size nothing should read
            stream.truncate(3_000_000_000)
    elif kind == "link-file":
        path.symlink_to(outside / "bewaar.txt")
    elif kind == "link-folder":
        path.symlink_to(outside / "map")
    elif kind == "link-dangling":
        path.symlink_to(outside / "nergens")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
        (path / "000000").write_bytes(payload)
        (path / "terug").symlink_to(outside)
    elif kind == "hard-link":
        os.link(outside / "bewaar.txt", path)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    itself=st.sampled_from(["folder", "file", "link-folder", "link-dangling", "fifo"]),
    entries=st.lists(
        st.tuples(ENTRY_NAMES, ENTRY_KINDS, st.binary(max_size=64)),
        max_size=6,
        unique_by=lambda entry: entry[0],
    ),
)
def test_a_staging_folder_left_by_a_crashed_build_is_dropped(
    site: Site, itself: str, entries: list[tuple[str, str, bytes]]
) -> None:
    case = example(site)
    staging = case.out / STAGING_DIR
    if itself == "folder":
        staging.mkdir()
        for name, kind, payload in entries:
            make_entry(staging / name, kind, payload, case.outside)
    else:
        make_entry(staging, {"file": "bytes"}.get(itself, itself), b"oud", case.outside)
    listing = staging_listing(case.out)
    before = tree_of(case.out)
    with finishes("a build after a crash"):
        result = run_build(case)
    # What a build stages sits under numbered names: found there, whatever it became, it
    # goes (never what a link there leads to). Anything else nieuwsbrief never wrote: the
    # build stops naming it and changes nothing.
    ours = itself == "folder" and all(name.isdigit() for name, _, _ in entries)
    if ours:
        assert result.exit_code == 0, result.output
        assert differing(tree_bytes(case.out), site.expected) == []
        assert not os.path.lexists(case.out / STAGING_DIR)
    else:
        assert_clean_failure(result, lambda line: STAGING_DIR in line and "never writes" in line)
        assert staging_listing(case.out) == listing
        assert tree_of(case.out) == before
    assert case.outside_state() == {
        "bewaar.txt": b"niet van nieuwsbrief",
        "map/binnen.txt": b"ook niet",
    }


def staging_listing(out: Path) -> list[tuple[str, int, int]]:
    """Return every entry below the staging folder by name, type and size (never its bytes:
    a sparse 3 GB file is among them)."""
    staging = out / STAGING_DIR
    if not os.path.lexists(staging):
        return []
    found = [("", staging.lstat().st_mode, 0)]
    if staging.is_dir() and not staging.is_symlink():
        for top, folders, files in os.walk(staging):
            for name in [*folders, *files]:
                info = Path(top, name).lstat()
                found.append(
                    (str(Path(top, name).relative_to(staging)), info.st_mode, info.st_size)
                )
    return sorted(found)


# --- A build killed after its journal ---------------------------------------------------


DAMAGES = st.sampled_from(
    [
        "remove",
        "cut",
        "append",
        "flip",
        "link-same-bytes",
        "fifo",
        "folder",
        "hard-link-same-bytes",
        "empty",
        "huge",
    ]
)


def damage_staged(path: Path, damage: str, outside: Path) -> None:
    """Change one staged file (``path`` exists or was moved into place already)."""
    small = path.is_file() and path.stat().st_size <= LARGE
    data = path.read_bytes() if small else b"weg"
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)  # damaged before, into a folder
    path.unlink(missing_ok=True)
    copy = outside / f"kopie-{path.name}"  # the same bytes, outside --out
    if damage == "cut":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "append":
        path.write_bytes(data + b"\n")
    elif damage == "flip":
        path.write_bytes(bytes([data[0] ^ 1]) + data[1:] if data else b"x")
    elif damage == "link-same-bytes":
        copy.write_bytes(data)
        path.symlink_to(copy)
    elif damage == "fifo":
        os.mkfifo(path)
    elif damage == "folder":
        path.mkdir()
    elif damage == "hard-link-same-bytes":
        copy.write_bytes(data)
        os.link(copy, path)
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "huge":
        with path.open("wb") as stream:  # sparse: read whole, it would take an hour
            stream.truncate(1 << 40)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    stage=st.sampled_from(["journaled", "mid-commit", "committed"]),
    damages=st.lists(st.tuples(st.integers(0, 10_000), DAMAGES), max_size=4),
    strays=st.lists(st.tuples(ENTRY_NAMES, ENTRY_KINDS, st.binary(max_size=64)), max_size=2),
)
def test_a_journal_whose_staged_files_were_damaged_is_finished_safely(
    site: Site,
    stage: str,
    damages: list[tuple[int, str]],
    strays: list[tuple[str, str, bytes]],
) -> None:
    case = crashed(site, stage)
    staging = case.out / STAGING_DIR
    journal = json.loads((case.out / JOURNAL_FILE).read_bytes())
    staged = [staging / name for name, *_ in journal["moves"]]
    for index, damage in damages:
        if staged:
            damage_staged(staged[index % len(staged)], damage, case.outside)
    for name, kind, payload in strays:
        if not os.path.lexists(staging / name):
            make_entry(staging / name, kind, payload, case.outside)
    kept = case.outside_state()
    # Finish the journal as every build does first (claiming --out), then look at --out.
    if any(not name.isdigit() for name, _, _ in strays):
        # Not a name a build stages under: the journal is finished, then the claim stops
        # on what nieuwsbrief never wrote, and every later build says the same.
        with (
            finishes("finishing a journal"),
            pytest.raises(BuildError, match="never writes"),
            output.claim(case.out),
        ):
            pass
        assert not os.path.lexists(case.out / JOURNAL_FILE)
        assert tree_of(case.out)[FOREIGN] == FOREIGN_BYTES
        with finishes("a build after a journal was finished"):
            result = run_build(case)
        assert_clean_failure(result, lambda line: STAGING_DIR in line)
        assert case.outside_state() == kept
        return
    with finishes("finishing a journal"), output.claim(case.out):
        pass
    assert not os.path.lexists(staging) and not os.path.lexists(case.out / JOURNAL_FILE)
    recovered = tree_of(case.out)
    assert recovered[FOREIGN] == FOREIGN_BYTES
    # Only bytes moved into place: never a link, FIFO or folder from the staging folder.
    record = json.loads((case.out / RECORD_FILE).read_bytes())["files"]
    assert all(isinstance(recovered.get(name, b""), bytes) for name in record)
    assert case.outside_state() == kept
    with finishes("a build after a journal was finished"):
        result = run_build(case)
    if result.exit_code == 0:
        assert differing(tree_bytes(case.out), site.expected) == []
        assert not os.path.lexists(staging)
    else:
        assert_clean_failure(result, lambda line: str(case.out) in line)
        assert tree_of(case.out) == recovered, result.output
    # Copies outside --out that links in the staging folder led to: never moved or changed.
    assert case.outside_state() == kept


def crashed(site: Site, stage: str) -> Example:
    """Return an example whose build at LATER was killed at ``stage`` (after its journal)."""
    case = example(site)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(output, "_reached", kill_at(stage))
        with pytest.raises(Killed):
            build(case.project, case.out, LATER_DT)
    return case


def test_a_build_after_a_crash_with_one_staged_file_lost_succeeds(site: Site) -> None:
    case = crashed(site, "journaled")
    journal = json.loads((case.out / JOURNAL_FILE).read_bytes())
    (case.out / STAGING_DIR / journal["moves"][0][0]).unlink()
    result = run_build(case)
    assert result.exit_code == 0, result.output
    assert differing(tree_bytes(case.out), site.expected) == []


# --- Staged files changed while the build runs ----------------------------------------


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(damages=st.lists(st.tuples(st.integers(0, 10_000), DAMAGES), min_size=1, max_size=3))
def test_staged_files_changed_during_the_build_are_never_published(
    site: Site, damages: list[tuple[int, str]]
) -> None:
    case = example(site)
    real_plan = output._plan

    def damaging_plan(*args: Any) -> Any:
        # While the publish plans (every file rendered and staged, no journal yet): change
        # some staged files.
        planned = real_plan(*args)
        folder = case.out / STAGING_DIR
        staged = sorted(path for path in folder.iterdir() if path.name.isdigit())
        for index, damage in damages:
            if staged:
                damage_staged(staged[index % len(staged)], damage, case.outside)
        return planned

    before = tree_of(case.out)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(output, "_plan", damaging_plan)
        result = run_build(case)
    kept = case.outside_state()
    if result.exit_code == 0:
        # Published nonetheless: then what the damage left out is not on record as written.
        assert differing(tree_bytes(case.out), site.expected) == []
    else:
        assert_clean_failure(result, lambda line: str(case.out) in line)
        assert tree_of(case.out) == before
    assert not os.path.lexists(case.out / STAGING_DIR)
    # The next build, undisturbed, writes what a build without any damage writes.
    again = run_build(case)
    assert again.exit_code == 0, again.output
    assert differing(tree_bytes(case.out), site.expected) == []
    assert case.outside_state() == kept


def test_one_project_built_into_two_copies_of_out_writes_the_same_bytes(site: Site) -> None:
    """Found by the properties above when the examples shared one project."""
    first, second = example(site), example(site)
    for case in (first, second):
        result = CliRunner().invoke(
            cli, ["build", "-p", str(first.project), "-o", str(case.out), "--now", LATER]
        )
        assert result.exit_code == 0, result.output
        assert differing(tree_bytes(case.out), site.expected) == []
