"""Generated damage and forgeries of ``.nieuwsbrief-cache/shortcut.json``, the stop record.

The record is read back from disk before anything else of a build, so whatever it holds is
untrusted input. A settled project (built, then confirmed with a stat signature, with a
file of someone else's in ``--out``) gets a record changed in one generated way, and a real
build runs:

* **damaged** (the bytes changed after nieuwsbrief wrote them: a field of another type, a
  huge or NaN number, deep nesting, a key twice, a cut-off or flipped byte): the build loads
  the articles (it never replays), and writes and reports exactly what a build without any
  shortcut does;
* **forged** (changed and then given a valid checksum, as a forger with the file format
  would): the build succeeds, every byte in ``--out`` is what a clean build writes (a build
  that stops writes nothing), the other file in ``--out`` is untouched, the CLI prints no
  traceback and no raw control character, and no folder but the real template folders and
  the package is ever walked (a record naming ``/`` as the templates folder would walk the
  whole file system).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, NOW_DT, CallCounter, copy_example_project, tree_bytes
from conftest import build_report as report
from nieuwsbrief import build as build_module
from nieuwsbrief import shortcut
from nieuwsbrief.build import build
from nieuwsbrief.cache import CACHE_DIR
from nieuwsbrief.cli import cli

HEAD = b'{"check":"'
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
FOREIGN = "website/index.html"


class Settled:
    """A settled project and --out, its record, and what a clean build writes and says."""

    def __init__(
        self,
        project: Path,
        out: Path,
        pristine: bytes,
        expected: dict[str, bytes],
        clean_report: tuple[Any, ...],
    ) -> None:
        self.project = project
        self.out = out
        self.pristine = pristine  # the record as the confirming build wrote it
        self.expected = expected  # --out of a clean build, plus the file of someone else
        self.clean_report = clean_report

    def __repr__(self) -> str:  # what hypothesis prints of a failing example: not the bytes
        return f"Settled({self.out})"


def aged() -> int:
    """Take signatures as if a minute had passed: the test's fresh files are not racy."""
    return time.time_ns() + 60_000_000_000


@pytest.fixture(scope="module")
def settled(tmp_path_factory: pytest.TempPathFactory) -> Settled:
    base = tmp_path_factory.mktemp("settled")
    project = copy_example_project(base / "project")
    clean = build(project, base / "clean", NOW_DT, cache=False)
    out = base / "out"
    (out / "website").mkdir(parents=True)
    (out / FOREIGN).write_bytes(b"<p>van de webmaster</p>")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shortcut, "_clock", aged)
        build(project, out, NOW_DT)
        build(project, out, NOW_DT)
    pristine = (project / CACHE_DIR / shortcut.SHORTCUT_FILE).read_bytes()
    assert "stop" in json.loads(pristine)
    expected = tree_bytes(base / "clean")
    expected[FOREIGN] = b"<p>van de webmaster</p>"
    assert tree_bytes(out) == expected
    return Settled(project, out, pristine, expected, report(clean))


def differing(found: dict[str, bytes], expected: dict[str, bytes]) -> list[str]:
    """Return the paths whose bytes differ (or that only one side has): a short failure."""
    return sorted(
        name for name in found.keys() | expected.keys() if found.get(name) != expected.get(name)
    )


def body(record: bytes) -> dict[str, Any]:
    """Return the record's fields without its checksum."""
    data: dict[str, Any] = json.loads(record)
    del data["check"]
    return data


def signed(rest: bytes) -> bytes:
    """Return a record whose checksum is right for ``rest`` (the text after ``{``)."""
    return HEAD + hashlib.sha256(rest).hexdigest().encode() + b'",' + rest


def rest_of(text: str) -> bytes:
    """Return the text of a JSON object after its ``{``."""
    assert text.startswith("{")
    return text[1:].encode("utf-8", "surrogatepass")


# Values a field may be replaced by: every JSON type, sizes and numbers no build writes,
# and the paths a forger would name (outside the project or --out, nieuwsbrief's own files).
PATHS = st.sampled_from(
    [
        "/",
        "/proc",
        "/etc/passwd",
        "",
        ".",
        "..",
        "../schedule.yaml",
        "feed.xml",
        ".nieuwsbrief-written.json",
        ".nieuwsbrief-staging/000000",
        FOREIGN,
        "articles/../../x.md",
        "2025-W48",
        "9999-W99",
        "0001-01-01T00:00:00+05:00",
        "9000-12-31T23:59:59-05:00",
        "2025-11-20T09:00:00",
        "2025-11-20T09:00:00+01:00",
        "a\x1b[31mrood\x00\u202e",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**200),
    st.integers(max_value=-1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    PATHS,
    st.builds(lambda n: "é" * n, st.integers(10_000, 400_000)),  # a huge string
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


def nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Yield the path of every node of a JSON value (the root is ``()``)."""
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from nodes(child, (*path, index))


def pick_node(data: st.DataObject, value: dict[str, Any]) -> tuple[Any, ...]:
    """Draw one field: each level's keys alike, so the long article lists do not crowd out
    the top level and ``stop``'s own fields."""
    path: tuple[Any, ...] = ()
    current: Any = value
    while isinstance(current, (dict, list)) and current:
        if path and data.draw(st.booleans(), label="stop here"):
            break
        keys = list(current) if isinstance(current, dict) else list(range(len(current)))
        key = data.draw(st.sampled_from(keys), label="into")
        path, current = (*path, key), current[key]
    return path


def replace(value: dict[str, Any], path: tuple[Any, ...], new: Any) -> None:
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new


def remove(value: dict[str, Any], path: tuple[Any, ...]) -> None:
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]


def changed_rest(data: st.DataObject, pristine: bytes) -> bytes:
    """Draw the record's text after ``{`` changed in one way (one field, or its bytes)."""
    value = body(pristine)
    kind = data.draw(
        st.sampled_from(["field", "remove", "twice", "raw", "nested", "number"]), label="kind"
    )
    if kind in ("field", "remove"):
        path = pick_node(data, value)
        if not path:
            path = (data.draw(st.sampled_from(sorted(value))),)
        if kind == "remove":
            remove(value, path)
        else:
            replace(value, path, data.draw(VALUES, label="value"))
        return rest_of(json.dumps(value, ensure_ascii=False, allow_nan=True))
    text = json.dumps(value, ensure_ascii=False)
    if kind == "twice":
        # A key written twice: JSON takes the last, which is this generated one.
        key = data.draw(st.sampled_from(sorted(value)))
        first = json.dumps({key: data.draw(VALUES)}, ensure_ascii=False)
        return rest_of(text[:-1] + ", " + first[1:])
    if kind == "nested":
        depth = data.draw(st.integers(100, 200_000), label="depth")
        key = data.draw(st.sampled_from(sorted(value)))
        nested = f'"{key}": ' + "[" * depth + "]" * depth
        return rest_of("{" + nested + ", " + text[1:])
    if kind == "number":
        # A number no JSON writer of Python gives: thousands of digits, or an exponent.
        key = data.draw(st.sampled_from(sorted(value)))
        number = data.draw(st.sampled_from(["9" * 5000, "1e999", "-1e999", "-0", "1.5e-400"]))
        return rest_of("{" + f'"{key}": {number}, ' + text[1:])
    raw = bytearray(rest_of(text))
    where = data.draw(st.integers(0, len(raw) - 1), label="where")
    how = data.draw(st.sampled_from(["cut", "flip", "insert"]), label="how")
    if how == "cut":
        return bytes(raw[:where])
    if how == "flip":
        raw[where] ^= 1 << data.draw(st.integers(0, 7))
        return bytes(raw)
    return bytes(raw[:where]) + data.draw(st.binary(min_size=1, max_size=8)) + bytes(raw[where:])


def write_record(settled: Settled, record: bytes) -> None:
    (settled.project / CACHE_DIR / shortcut.SHORTCUT_FILE).write_bytes(record)


class Walks:
    """Record every folder the stat signature walks (the work a record can ask for)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folders: list[str] = []
        real = shortcut._Signature.tree

        def tree(signature: Any, folder: Path, name: str, *args: Any) -> None:
            self.folders.append(str(folder))
            real(signature, folder, name, *args)

        monkeypatch.setattr(shortcut._Signature, "tree", tree)


def real_folders(settled: Settled) -> set[str]:
    from nieuwsbrief.templating import skeleton_dir

    return {
        str(settled.project / "templates"),
        str(skeleton_dir() / "templates"),
        str(shortcut._package_dir()),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_damaged_record_is_never_replayed(data: st.DataObject, settled: Settled) -> None:
    rest = changed_rest(data, settled.pristine)
    # Damaged after it was written: the checksum is still the one nieuwsbrief wrote.
    record = settled.pristine[: len(HEAD) + 66] + rest
    if record == settled.pristine:
        return  # a flip back and forth, or a value drawn equal to the recorded one
    write_record(settled, record)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shortcut, "_clock", aged)
        loads = CallCounter(patch, build_module, "load_site")
        walks = Walks(patch)
        result = build(settled.project, settled.out, NOW_DT)
    assert loads.count == 1, "a damaged record was replayed"
    assert set(walks.folders) <= real_folders(settled)
    assert report(result) == settled.clean_report
    assert result.removed == []
    assert differing(tree_bytes(settled.out), settled.expected) == []


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_forged_record_never_changes_out_nor_breaks_the_build(
    data: st.DataObject, settled: Settled
) -> None:
    write_record(settled, signed(changed_rest(data, settled.pristine)))
    args = ["-v", "build", "-p", str(settled.project), "-o", str(settled.out), "--now", NOW]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shortcut, "_clock", aged)
        walks = Walks(patch)
        result = CliRunner().invoke(cli, args, catch_exceptions=True)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Traceback" not in result.output
    assert not RAW_CONTROL.search(result.output.replace("\n", "")), repr(result.output[:300])
    assert differing(tree_bytes(settled.out), settled.expected) == []
    assert set(walks.folders) <= real_folders(settled)


@pytest.mark.parametrize("skeleton", ["/", "/proc", "", ".", "relative/templates", None, 7])
def test_a_forged_templates_folder_is_never_walked(settled: Settled, skeleton: object) -> None:
    """The one field that names a folder to stat: only the real default templates count."""
    data = body(settled.pristine)
    data["skeleton"] = skeleton
    write_record(settled, signed(rest_of(json.dumps(data))))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shortcut, "_clock", aged)
        walks = Walks(patch)
        result = build(settled.project, settled.out, NOW_DT)
    assert set(walks.folders) == real_folders(settled)
    assert report(result) == settled.clean_report
    assert differing(tree_bytes(settled.out), settled.expected) == []


def test_the_record_as_written_is_replayed(settled: Settled) -> None:
    """The properties' control: the pristine record does stop the build (else they would
    pass by never reaching the replay)."""
    write_record(settled, settled.pristine)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shortcut, "_clock", aged)
        loads = CallCounter(patch, build_module, "load_site")
        result = build(settled.project, settled.out, NOW_DT)
    assert loads.count == 0
    assert report(result) == settled.clean_report


def test_a_project_named_relatively_still_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded sources are checked to lie in the articles folder as the loader names it."""
    copy_example_project(tmp_path / "project")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(shortcut, "_clock", aged)
    build(Path("project"), Path("out"), NOW_DT)
    confirming = build(Path("project"), Path("out"), NOW_DT)
    loads = CallCounter(monkeypatch, build_module, "load_site")
    stopped = build(Path("project"), Path("out"), NOW_DT)
    assert loads.count == 0
    assert report(stopped) == report(confirming)
