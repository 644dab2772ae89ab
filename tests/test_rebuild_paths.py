"""The fast paths of a rebuild after a change give what the paths they replace give.

- Unchanged outputs kept in place by their ``lstat`` (``OutputFolder.keep_own``) instead of
  read back and hashed: whole builds with the shortcut equal builds without it (cache on,
  ``keep_own`` refusing everything) and builds without any cache, after every kind of
  change; a tampered, replaced or linked output is never kept.
- Related articles ranked by layers of shared topics (``topics._top_ranks``) instead of
  counting every candidate: the same lists as the code it replaced, kept here as the
  reference, on generated input.
- Article fingerprints shared within a build (``reuse.shared_fingerprints``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from conftest import NOW_DT, tree_bytes
from conftest import build_report as report
from nieuwsbrief import output, reuse, topics
from nieuwsbrief.articles import Article
from nieuwsbrief.build import build, load_site
from nieuwsbrief.cache import CACHE_DIR
from nieuwsbrief.errors import BuildError
from nieuwsbrief.output import OutputFolder, Seen, StagedFiles, claim

# --- Kept outputs ------------------------------------------------------------------------


@pytest.fixture
def later_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let every output count as written long ago: a test cannot wait out the racy margin."""
    monkeypatch.setattr(output, "_clock", lambda: time.time_ns() + 3_600_000_000_000)


class Kept:
    """Count the outputs a build keeps in place by their lstat; or turn that off."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, off: bool = False) -> None:
        self.count = 0
        real = OutputFolder.keep_own

        def keep_own(folder: OutputFolder, name: str, seen: Seen) -> bool:
            if off:
                return False
            kept = real(folder, name, seen)
            self.count += kept
            return kept

        monkeypatch.setattr(OutputFolder, "keep_own", keep_own)


def article(project: Path, part: str) -> Path:
    return next((project / "articles").glob(f"*{part}*.md"))


def edit_body(project: Path) -> None:
    path = article(project, "winterdip")
    path.write_text(path.read_text("utf-8") + "\nEen extra zin.\n", "utf-8")


def rename(project: Path) -> None:
    path = article(project, "slapen-en-piekeren")
    path.rename(path.with_name("2025-10-14-slapen-en-malen.md"))


def change_tags(project: Path) -> None:
    path = article(project, "hulp-zoeken-en-je-eerste")
    text = path.read_text("utf-8")
    assert "tags: [praktijk, hulp-zoeken]" in text
    path.write_text(text.replace("tags: [praktijk, hulp-zoeken]", "tags: [slaap, angst]"), "utf-8")


def change_date(project: Path) -> None:
    path = article(project, "winterdip")
    text = path.read_text("utf-8")
    line = next(line for line in text.splitlines() if line.startswith("date:"))
    path.write_text(text.replace(line, "date: 2025-11-20T07:30:00+01:00", 1), "utf-8")


def flip_draft(project: Path) -> None:
    path = article(project, "paniekaanvallen")
    path.write_text(path.read_text("utf-8").replace("---\n", "---\ndraft: true\n", 1), "utf-8")


def delete(project: Path) -> None:
    article(project, "zelfcompassie").unlink()


CHANGES: dict[str, Callable[[Path], None]] = {
    "edit": edit_body,
    "rename": rename,
    "tags": change_tags,
    "date": change_date,
    "draft": flip_draft,
    "delete": delete,
}


def history(project: Path, out: Path, change: Callable[[Path], None]) -> list[Any]:
    """Build cold, confirm, change, build, change again, build: what the last two reported."""
    build(project, out, NOW_DT)
    build(project, out, NOW_DT)
    change(project)
    first = build(project, out, NOW_DT)
    edit_body(project)
    return [first, build(project, out, NOW_DT)]


def portable(result: Any, project: Path) -> str:
    return repr(report(result)).replace(str(project), "PROJECT")


@pytest.mark.usefixtures("later_clock")
@pytest.mark.parametrize("name", sorted(CHANGES))
def test_kept_outputs_equal_builds_without_keeping_and_without_cache(
    name: str, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    without = tmp_path / "without"
    shutil.copytree(project, without)
    with monkeypatch.context() as inner:
        Kept(inner, off=True)
        reference = history(without, tmp_path / "out-without", CHANGES[name])
    kept = Kept(monkeypatch)
    results = history(project, tmp_path / "out", CHANGES[name])
    assert kept.count > 0, "the changed builds kept unchanged outputs by their lstat"
    assert tree_bytes(tmp_path / "out") == tree_bytes(tmp_path / "out-without")
    # The two projects sit in different folders: the articles' paths differ by that only.
    assert [portable(result, project) for result in results] == [
        portable(result, without) for result in reference
    ]
    assert [result.removed for result in results] == [result.removed for result in reference]
    fresh = build(project, tmp_path / "clean", NOW_DT, cache=False)
    assert tree_bytes(tmp_path / "out") == tree_bytes(tmp_path / "clean")
    assert report(results[-1]) == report(fresh)


def settled(project: Path, out: Path) -> None:
    """Build twice: the second build reads every output back and records its lstat."""
    build(project, out, NOW_DT)
    build(project, out, NOW_DT)
    seen = json.loads((project / CACHE_DIR / "topics.json").read_text("utf-8"))["seen"]
    assert seen, "outputs checked long after they were written are recorded"


RELATED = "related/winterdip.html"


def build_outcome(project: Path, out: Path) -> tuple[str, dict[str, bytes]]:
    """Return the error a build gives (or "") and --out afterwards."""
    try:
        build(project, out, NOW_DT)
    except BuildError as error:
        return str(error).replace(str(out), "OUT"), tree_bytes(out)
    return "", tree_bytes(out)


def tamper_in_place(out: Path) -> None:
    """Change one byte of an output, keeping its size and its modification time."""
    target = out / RELATED
    before = target.stat()
    data = target.read_bytes()
    target.write_bytes(data.replace(b"<", b"[", 1))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size


def link_to_a_copy(out: Path) -> None:
    """Replace an output with a link to a file of the same bytes."""
    target = out / RELATED
    copy = out.parent / "elsewhere.html"
    shutil.copy2(target, copy)
    target.unlink()
    target.symlink_to(copy)


def move_folder_behind_a_link(out: Path) -> None:
    """Move a folder away and link to it: its files keep inode, size and times."""
    moved = out.parent / "moved-related"
    (out / "related").rename(moved)
    (out / "related").symlink_to(moved, target_is_directory=True)


def remove(out: Path) -> None:
    (out / RELATED).unlink()


def touch(out: Path) -> None:
    target = out / RELATED
    stamp = target.stat().st_mtime_ns + 5_000_000_000
    os.utime(target, ns=(stamp, stamp))


TAMPERING: dict[str, Callable[[Path], None]] = {
    "edited": tamper_in_place,
    "link": link_to_a_copy,
    "folder-link": move_folder_behind_a_link,
    "removed": remove,
    "touched": touch,
}


@pytest.mark.usefixtures("later_clock")
@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_a_tampered_output_is_never_kept(
    name: str, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each change to --out gives what it gives without the shortcut: refused or rewritten."""
    outcomes = []
    for off in (True, False):
        root = tmp_path / ("without" if off else "with")
        copy = root / "project"
        shutil.copytree(project, copy)
        out = root / "out"
        with monkeypatch.context() as inner:
            Kept(inner, off=off)
            settled(copy, out)
            edit_body(copy)  # changed builds, as an editor's
            path = article(copy, "paniekaanvallen")
            path.write_text(path.read_text("utf-8") + "\nNog een zin.\n", "utf-8")
            TAMPERING[name](out)
            outcomes.append(build_outcome(copy, out))
    assert outcomes[0] == outcomes[1]
    error, files = outcomes[1]
    if name in ("edited", "link", "folder-link"):
        assert error, "nieuwsbrief never overwrites a file it did not write"
    else:
        assert not error
        fresh = tmp_path / "clean"
        build(tmp_path / "with" / "project", fresh, NOW_DT, cache=False)
        assert files == tree_bytes(fresh)


def claimed_with_seen(project: Path, out: Path) -> dict[str, Seen]:
    settled(project, out)
    seen = json.loads((project / CACHE_DIR / "topics.json").read_text("utf-8"))["seen"]
    return {name: Seen(*entry) for name, entry in seen.items()}


@pytest.mark.usefixtures("later_clock")
def test_keep_own_checks_every_part_of_what_was_seen(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    seen = claimed_with_seen(project, out)
    with claim(out) as folder:
        assert folder.keep_own(RELATED, seen[RELATED])
        for field in Seen._fields:
            value = getattr(seen[RELATED], field)
            other = "0" * 64 if field == "sha256" else value + 1
            assert not folder.keep_own(RELATED, seen[RELATED]._replace(**{field: other}))
        assert not folder.keep_own("not/recorded.html", seen[RELATED])
    move_folder_behind_a_link(out)
    with claim(out) as folder:
        assert not folder.keep_own(RELATED, seen[RELATED]), "its folder is a link now"
    (out / "related").unlink()
    (out.parent / "moved-related").rename(out / "related")
    with claim(out) as folder:
        assert folder.keep_own(RELATED, seen[RELATED])
    tamper_in_place(out)
    with claim(out) as folder:
        assert not folder.keep_own(RELATED, seen[RELATED])
        staged = StagedFiles(folder)
        assert not staged.keep(RELATED, seen[RELATED])
        assert RELATED not in staged


def test_outputs_changed_within_the_racy_margin_are_not_recorded(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build(project, out, NOW_DT)
    changed = [path.stat().st_ctime_ns for path in out.rglob("*") if path.is_file()]
    topics_cache = project / CACHE_DIR / "topics.json"
    # Checked within the margin after the oldest output changed: none is trusted later.
    monkeypatch.setattr(output, "_clock", lambda: min(changed) + output.RACY_MARGIN_NS)
    build(project, out, NOW_DT)
    assert json.loads(topics_cache.read_text("utf-8"))["seen"] == {}
    # Just past the margin after the newest: every output read back is.
    monkeypatch.setattr(output, "_clock", lambda: max(changed) + output.RACY_MARGIN_NS + 1)
    edit_body(project)  # else this build stops by stat: nothing changed
    build(project, out, NOW_DT)
    seen = json.loads(topics_cache.read_text("utf-8"))["seen"]
    assert RELATED in seen
    assert set(seen) <= {path.relative_to(out).as_posix() for path in out.rglob("*")}


@pytest.mark.usefixtures("later_clock")
@pytest.mark.parametrize(
    "damage",
    [
        [],
        {"x": 1},
        ["0" * 64, 1, 2, 3, 4],
        ["0" * 64, True, 2, 3, 4, 5],
        ["zz", 1, 2, 3, 4, 5],
        [None, 1, 2, 3, 4, 5],
        ["0" * 64, 1.5, 2, 3, 4, 5],
        "not a mapping",
    ],
)
def test_a_damaged_seen_entry_is_read_back_instead(
    damage: object, project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    settled(project, out)
    path = project / CACHE_DIR / "topics.json"
    data = json.loads(path.read_text("utf-8"))
    data["seen"] = damage if isinstance(damage, str) else dict.fromkeys(data["seen"], damage)
    path.write_text(json.dumps(data), "utf-8")
    edit_body(project)
    result = build(project, out, NOW_DT)
    fresh = build(project, tmp_path / "clean", NOW_DT, cache=False)
    assert tree_bytes(out) == tree_bytes(tmp_path / "clean")
    assert report(result) == report(fresh)


@pytest.mark.usefixtures("later_clock")
def test_seen_of_another_folder_is_not_kept(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second --out with the same bytes has other inodes: its files are read back."""
    settled(project, tmp_path / "one")
    shutil.copytree(tmp_path / "one", tmp_path / "two")
    kept = Kept(monkeypatch)
    result = build(project, tmp_path / "two", NOW_DT)
    assert kept.count == 0
    assert tree_bytes(tmp_path / "two") == tree_bytes(tmp_path / "one")
    assert report(result) == report(build(project, tmp_path / "clean", NOW_DT, cache=False))


# --- Shared article fingerprints -----------------------------------------------------------


def test_shared_fingerprints_are_each_reuses_own(project: Path) -> None:
    site = load_site(project)
    alone = [reuse.Reuse(site.settings, None).article(a) for a in site.articles]
    with reuse.shared_fingerprints():
        first = reuse.Reuse(site.settings, None)
        assert [first.article(a) for a in site.articles] == alone
        second = reuse.Reuse(site.settings, None)
        assert [second.article(a) for a in site.articles] == alone
        assert second.articles == {}, "the second Reuse hashed nothing itself"
    assert reuse._shared is None


# --- Related articles ----------------------------------------------------------------------


def reference_related(published: Sequence[Any], limit: int) -> dict[str, list[Any]]:
    """topics.related_articles and _top_ranks as they were before the layered ranking."""
    by_topic: dict[str, list[int]] = {}
    slugs_of = [topics.article_topics(article) for article in published]
    for rank, slugs in enumerate(slugs_of):
        for slug in slugs:
            by_topic.setdefault(slug, []).append(rank)
    result: dict[str, list[Any]] = {}
    ranked: dict[frozenset[str], list[int]] = {}
    for rank, article in enumerate(published):
        key = frozenset(slugs_of[rank])
        if key not in ranked:
            ranked[key] = reference_top_ranks([by_topic[s] for s in sorted(key)], limit + 1)
        result[article.slug] = [published[other] for other in ranked[key] if other != rank][:limit]
    return result


def reference_top_ranks(lists: Sequence[list[int]], count: int) -> list[int]:
    if len(lists) == 1:
        return lists[0][:count]
    counts: Counter[int] = Counter()
    for ranks in lists:
        counts.update(ranks)
    histogram = Counter(counts.values())
    threshold, seen = 1, 0
    for shared in sorted(histogram, reverse=True):
        seen += histogram[shared]
        if seen >= count:
            threshold = shared
            break
    candidates = [rank for rank, shared in counts.items() if shared >= threshold]
    candidates.sort()
    candidates.sort(key=counts.__getitem__, reverse=True)
    return candidates[:count]


TAGS = [f"onderwerp {n}" for n in range(14)] + ["Fobieën", "fobieen", "Slaap"]


@st.composite
def fake_published(draw: st.DrawFn) -> list[Any]:
    tag_sets = draw(
        st.lists(st.lists(st.sampled_from(TAGS), max_size=11), min_size=0, max_size=40)
    )
    return [
        SimpleNamespace(slug=f"artikel-{rank}", tags=tuple(tags))
        for rank, tags in enumerate(tag_sets)
    ]


@hypothesis_settings(max_examples=300, deadline=None)
@given(published=fake_published(), limit=st.integers(min_value=0, max_value=12))
def test_related_articles_equal_the_counting_reference(published: list[Any], limit: int) -> None:
    articles = cast(Sequence[Article], published)
    found = topics.related_articles(articles, limit)
    expected = reference_related(published, limit)
    assert {slug: [a.slug for a in others] for slug, others in found.items()} == {
        slug: [a.slug for a in others] for slug, others in expected.items()
    }


@hypothesis_settings(max_examples=500, deadline=None)
@given(
    lists=st.lists(
        st.lists(st.integers(min_value=0, max_value=80), unique=True).map(sorted),
        min_size=1,
        max_size=12,
    ),
    count=st.integers(min_value=0, max_value=20),
    as_masks=st.booleans(),
)
def test_top_ranks_equal_sorting_every_candidate(
    lists: list[list[int]], count: int, as_masks: bool
) -> None:
    shared: Counter[int] = Counter()
    for ranks in lists:
        shared.update(ranks)
    expected = sorted(shared, key=lambda rank: (-shared[rank], rank))[:count]
    masks = [topics._bits(ranks) for ranks in lists] if as_masks else None
    assert topics._top_ranks(lists, count, masks) == expected
    assert reference_top_ranks(lists, count) == expected


@pytest.mark.usefixtures("later_clock")
def test_a_changed_build_reads_back_no_kept_output(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With what the last build saw, the unchanged related lists are kept, none read."""
    out = tmp_path / "out"
    settled(project, out)
    reads: list[str] = []
    real = OutputFolder.read_own

    def read_own(folder: OutputFolder, name: str, limit: int) -> bytes | None:
        reads.append(name)
        return real(folder, name, limit)

    monkeypatch.setattr(OutputFolder, "read_own", read_own)
    edit_body(project)
    kept = Kept(monkeypatch)
    build(project, out, NOW_DT)
    assert kept.count > 0
    assert [name for name in reads if name.startswith("related/")] == []


@given(st.lists(st.integers(min_value=0, max_value=5000), unique=True))
def test_bits_hold_exactly_the_ranks(ranks: list[int]) -> None:
    assert topics._bits(ranks) == sum(1 << rank for rank in ranks)


# --- Cached front matter: is_plain --------------------------------------------------------


def reference_is_plain(value: object, depth: int = 0) -> bool:
    """cache.is_plain as it was before its exact-type fast path."""
    import math

    if depth > 20:
        return False
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(reference_is_plain(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and reference_is_plain(item, depth + 1)
            for key, item in value.items()
        )
    return False


class Text(str):
    __slots__ = ()


def nested(value: object, depth: int) -> object:
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=3)
    | st.text(max_size=3).map(Text)
    | st.tuples(st.integers())
    | st.dates()
)
KEYS = st.text(max_size=2) | st.integers() | st.none()
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=12,
)


@hypothesis_settings(max_examples=500, deadline=None)
@given(value=VALUES, depth=st.integers(min_value=0, max_value=23))
def test_is_plain_equals_the_reference(value: object, depth: int) -> None:
    from nieuwsbrief.cache import is_plain

    deep = nested(value, depth)
    assert is_plain(deep) == reference_is_plain(deep)
    assert is_plain(value, depth) == reference_is_plain(value, depth)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False),
        lambda inner: st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=10,
    )
)
def test_fingerprint_text_is_what_json_dumps_gives(value: object) -> None:
    """reuse._hash encodes with one encoder made once: the text json.dumps makes per call."""
    import hashlib

    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    assert reuse._ENCODER.encode(value) == text
    assert reuse._hash(value) == hashlib.sha256(
        json.dumps([value], ensure_ascii=False, sort_keys=True, default=str).encode()
    ).hexdigest()
