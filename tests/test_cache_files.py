"""Every file of ``.nieuwsbrief-cache/`` is read back as untrusted input.

Whatever is found there (a FIFO, a link, a huge file, any JSON, an entry that lists other
files), a build finishes, never waits, and writes the bytes of a build without any cache.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, RunCli, copy_example_project, finishes, tree_bytes
from nieuwsbrief import cache, reuse, shortcut
from nieuwsbrief.cache import CACHE_DIR

CACHE_FILES = [cache.CACHE_FILE, reuse.CACHE_FILE, shortcut.SHORTCUT_FILE]


def build(run_cli: RunCli, project: Path, out: Path, *extra: str) -> str:
    with finishes("a build reading a damaged cache"):  # never waits on what it finds there
        result = run_cli("build", "-p", project, "-o", out, "--now", NOW, *extra)
    assert result.exit_code == 0, result.output
    return str(result.output)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The outputs of the example project built without any cache."""
    from click.testing import CliRunner

    from nieuwsbrief.cli import cli

    base = tmp_path_factory.mktemp("clean")
    project = copy_example_project(base / "project")
    out = base / "out"
    args = ["build", "-p", str(project), "-o", str(out), "--now", NOW, "--no-cache"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return tree_bytes(out)


def damage(path: Path, kind: str) -> None:
    path.unlink(missing_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "huge":
        with path.open("wb") as stream:  # sparse: no disk, no memory, but a size past the bound
            stream.truncate(cache.MAX_CACHE_BYTES + 1)
    elif kind == "link":
        outside = path.parent.parent / "elders.json"
        outside.write_text("{}", encoding="utf-8")
        path.symlink_to(outside)
    elif kind == "folder":
        path.mkdir()


@pytest.mark.parametrize("kind", ["fifo", "huge", "link", "folder"])
@pytest.mark.parametrize("name", CACHE_FILES)
def test_a_cache_file_that_is_no_plain_file_is_passed_over(
    name: str, kind: str, tmp_path: Path, run_cli: RunCli, clean: dict[str, bytes]
) -> None:
    project = copy_example_project(tmp_path / "project")
    out = tmp_path / "out"
    build(run_cli, project, out)
    damage(project / CACHE_DIR / name, kind)
    (out / "feed.xml").unlink()  # something to do, so the build does not stop early
    build(run_cli, project, out)
    assert tree_bytes(out) == clean
    # And a build after that one (which could not save over a FIFO or a folder) too.
    build(run_cli, project, out)
    assert tree_bytes(out) == clean


def group_names(data: dict[str, object]) -> list[str]:
    groups = data.get("groups")
    assert isinstance(groups, dict) and groups
    return sorted(groups)


@pytest.fixture(scope="module")
def reused(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, bytes]:
    """A project built twice into one --out, so every topic group is on record for reuse."""
    from click.testing import CliRunner

    from nieuwsbrief.cli import cli

    base = tmp_path_factory.mktemp("reused")
    project = copy_example_project(base / "project")
    out = base / "out"
    for _ in range(2):
        args = ["build", "-p", str(project), "-o", str(out), "--now", NOW]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
    return project, out, (project / CACHE_DIR / reuse.CACHE_FILE).read_bytes()


JSON_VALUES = st.none() | st.integers() | st.text(max_size=70)
NAMES = st.lists(
    st.sampled_from(
        ["feed.xml", "tags/hulp/list.html", "lists/all.json", "../schedule.yaml", "x", ""]
    ),
    max_size=4,
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_entry_of_the_topic_cache_gives_the_bytes_of_a_clean_build(
    data: st.DataObject, reused: tuple[Path, Path, bytes], clean: dict[str, bytes]
) -> None:
    from click.testing import CliRunner

    from nieuwsbrief.cli import cli

    project, out, pristine = reused
    recorded = json.loads(pristine)
    key = data.draw(st.sampled_from(group_names(recorded)))
    entry = recorded["groups"][key]
    change = data.draw(st.sampled_from(["files", "names", "subset", "hash", "fp", "entry"]))
    hashes = entry["files"]
    if change == "files":
        entry["files"] = data.draw(NAMES | st.dictionaries(st.text(max_size=10), JSON_VALUES))
    elif change == "names":  # the form before format 4: names without their hashes
        entry["files"] = sorted(hashes)
    elif change == "subset":  # the edit the probe made: fewer files than the group writes
        entry["files"] = dict(list(hashes.items())[: data.draw(st.integers(0, len(hashes) - 1))])
    elif change == "hash":  # the bytes of another build, or of another file of the group
        name = data.draw(st.sampled_from(sorted(hashes)))
        hashes[name] = data.draw(st.sampled_from([*hashes.values(), "0" * 64, None, 7]))
    elif change == "fp":
        entry["fp"] = data.draw(st.text(max_size=70))
    else:
        recorded["groups"][key] = data.draw(st.none() | st.integers() | st.text(max_size=10))
    (project / CACHE_DIR / reuse.CACHE_FILE).write_text(json.dumps(recorded), encoding="utf-8")
    (project / CACHE_DIR / shortcut.SHORTCUT_FILE).unlink(missing_ok=True)  # render, do not stop
    args = ["build", "-p", str(project), "-o", str(out), "--now", NOW]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert tree_bytes(out) == clean


def test_a_huge_stray_file_in_templates_is_never_read(
    tmp_path: Path, run_cli: RunCli, clean: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    read_paths: list[str] = []

    def recording_read(path: Path, limit: int = cache.MAX_CACHE_BYTES) -> bytes:
        read_paths.append(Path(path).name)
        return cache.read_bounded(path, limit)

    # The fingerprint of the templates folder reads through this; the stray files must not be.
    monkeypatch.setattr(reuse, "read_bounded", recording_read)
    project = copy_example_project(tmp_path / "project")
    with (project / "templates" / "oud.bak").open("wb") as stream:
        stream.truncate(3_000_000_000)  # sparse: reading it would take seconds and gigabytes
    fifo = project / "templates" / "pijp"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    build(run_cli, project, out)
    build(run_cli, project, out)  # the warm build fingerprints the folder for reuse
    assert tree_bytes(out) == clean
    assert "digest.mjml.j2" in read_paths  # the real templates were fingerprinted
    assert "oud.bak" not in read_paths and "pijp" not in read_paths
