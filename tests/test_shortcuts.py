"""Every shortcut (article cache, topic reuse, the unchanged-build stop) changes no byte.

Each scenario builds the same project twice: once with every shortcut into an ``--out``
that has seen earlier builds, once without any (``cache=False``) into a fresh folder, and
compares every output file and what the build reports.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from conftest import NOW_DT, CallCounter, tree_bytes
from conftest import build_report as report
from nieuwsbrief import build as build_module
from nieuwsbrief.build import BuildResult, build
from nieuwsbrief.cache import CACHE_DIR
from nieuwsbrief.errors import BuildError
from nieuwsbrief.output import RECORD_FILE
from nieuwsbrief.shortcut import SHORTCUT_FILE

BUILT = "/".join(["tags", "index.json"])


class Renders(CallCounter):
    """Count the renders of a build: a build that stops early renders nothing."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(monkeypatch, build_module, "render_site")



def clean(project: Path, root: Path, name: str, now: dt.datetime = NOW_DT) -> BuildResult:
    """Build without any shortcut into a new folder."""
    return build(project, root / name, now, cache=False)


def same_as_clean(
    project: Path, out: Path, result: BuildResult, root: Path, name: str
) -> None:
    fresh = clean(project, root, name)
    assert tree_bytes(out) == tree_bytes(root / name)
    assert report(result) == report(fresh)


def settle(project: Path, out: Path) -> BuildResult:
    """Build until --out holds what the project gives: the second build confirms it."""
    build(project, out, NOW_DT)
    return build(project, out, NOW_DT)


def test_cold_warm_and_stopped_builds_equal_a_build_without_shortcuts(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders = Renders(monkeypatch)
    out = tmp_path / "out"
    cold = build(project, out, NOW_DT)
    assert not (project / CACHE_DIR / SHORTCUT_FILE).exists()  # it wrote: nothing confirmed
    same_as_clean(project, out, cold, tmp_path, "clean-cold")
    warm = build(project, out, NOW_DT)
    assert (project / CACHE_DIR / SHORTCUT_FILE).is_file()
    renders.count = 0
    stopped = build(project, out, NOW_DT)
    assert renders.count == 0, "an unchanged build renders nothing"
    assert report(stopped) == report(warm)
    assert stopped.removed == warm.removed == []
    same_as_clean(project, out, stopped, tmp_path, "clean-stopped")


def test_a_changed_article_is_built(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    settle(project, out)
    renders = Renders(monkeypatch)
    article = next((project / "articles").glob("*winterdip.md"))
    article.write_text(article.read_text("utf-8").replace("Winterdip", "Winterblues", 1), "utf-8")
    changed = build(project, out, NOW_DT)
    assert renders.count == 1
    assert b"Winterblues" in (out / "feed.xml").read_bytes()
    same_as_clean(project, out, changed, tmp_path, "clean")


def test_another_moment_is_built(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    out = tmp_path / "out"
    settle(project, out)
    # The same --out history, built on without any shortcut.
    shutil.copytree(out, tmp_path / "copy", symlinks=True)
    renders = Renders(monkeypatch)
    later = NOW_DT + dt.timedelta(days=8)
    result = build(project, out, later)
    assert renders.count == 1
    fresh = build(project, tmp_path / "copy", later, cache=False)
    assert tree_bytes(out) == tree_bytes(tmp_path / "copy")
    assert report(result) == report(fresh)


@pytest.mark.parametrize(
    "damage",
    [b"", b"{niet: json", b'{"format": 1, "key": 3}', b"[]", b"\xff\xfe", None],
    ids=["empty", "broken-json", "wrong-types", "list", "not-utf8", "wrong-key"],
)
def test_a_damaged_shortcut_record_means_a_full_build(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: bytes | None
) -> None:
    import json

    out = tmp_path / "out"
    settle(project, out)
    path = project / CACHE_DIR / SHORTCUT_FILE
    if damage is None:
        data = json.loads(path.read_text("utf-8"))
        data["key"] = "0" * 64
        data["files"] = {"feed.xml": 1}
        damage = json.dumps(data).encode()
    path.write_bytes(damage)
    renders = Renders(monkeypatch)
    result = build(project, out, NOW_DT)
    assert renders.count == 1
    same_as_clean(project, out, result, tmp_path, "clean")


def test_forged_files_in_the_shortcut_record_are_refused(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    out = tmp_path / "out"
    settle(project, out)
    path = project / CACHE_DIR / SHORTCUT_FILE
    data = json.loads(path.read_text("utf-8"))
    data["files"]["not-written-by-nieuwsbrief.html"] = 3  # a name the record does not list
    path.write_text(json.dumps(data), "utf-8")
    renders = Renders(monkeypatch)
    result = build(project, out, NOW_DT)
    assert renders.count == 1
    same_as_clean(project, out, result, tmp_path, "clean")


def test_a_damaged_article_cache_changes_nothing(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    settle(project, out)
    (project / CACHE_DIR / "articles.json").write_bytes(b"{niet: json")
    (project / CACHE_DIR / "topics.json").write_bytes(b"[]")
    result = build(project, out, NOW_DT)
    assert tree_bytes(out) == tree_bytes(clean(project, tmp_path, "clean").out)
    assert any("articles.json" in warning for warning in result.warnings)


def test_a_touched_output_means_a_full_build_with_the_same_bytes(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    settle(project, out)
    renders = Renders(monkeypatch)
    target = out / BUILT
    stamp = target.stat().st_mtime_ns
    os.utime(target, ns=(stamp + 5_000_000_000, stamp + 5_000_000_000))
    result = build(project, out, NOW_DT)
    assert renders.count == 1
    same_as_clean(project, out, result, tmp_path, "clean")


def test_an_edited_output_is_refused_as_without_shortcuts(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    settle(project, out)
    target = out / "feed.xml"
    before = target.stat()
    target.write_bytes(target.read_bytes().replace(b"<channel>", b"<channel> ", 1))
    # Even with the modification time put back, the change time tells.
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(BuildError, match="changed since nieuwsbrief wrote it"):
        build(project, out, NOW_DT)


def test_a_removed_output_is_written_again(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    settle(project, out)
    (out / BUILT).unlink()
    result = build(project, out, NOW_DT)
    same_as_clean(project, out, result, tmp_path, "clean")


def test_a_damaged_record_is_refused_as_without_shortcuts(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    settle(project, out)
    record = out / RECORD_FILE
    record.write_bytes(record.read_bytes()[:-40])
    with pytest.raises(BuildError, match="not valid JSON"):
        build(project, out, NOW_DT)


def test_a_folder_replaced_by_a_link_is_refused_as_without_shortcuts(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    settle(project, out)
    (out / "tags").rename(tmp_path / "elsewhere")
    (out / "tags").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(BuildError, match="symbolic link"):
        build(project, out, NOW_DT)


def test_another_out_is_built(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settle(project, tmp_path / "one")
    renders = Renders(monkeypatch)
    result = build(project, tmp_path / "two", NOW_DT)
    assert renders.count == 1
    same_as_clean(project, tmp_path / "two", result, tmp_path, "clean")


def archive_project(root: Path) -> Path:
    """A project large enough for archive pages: 130 articles on a handful of topics."""
    from conftest import copy_example_project, set_setting, write_article

    project = copy_example_project(root / "project")
    set_setting(project, "feeds", "archive_size", 10)
    topics = ["angst", "slaap", "rouw", "werk", "suïcide"]
    start = dt.datetime(2025, 6, 2, 9, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    for number in range(130):
        date = start + dt.timedelta(hours=20 * number)
        write_article(
            project,
            f"{date:%Y-%m-%d}-stuk-{number}.md",
            f"Alinea {number} over *{topics[number % 5]}*.\n\n- een\n- twee\n",
            title=f"Stuk {number}",
            date=date.isoformat(),
            tags=[topics[number % 5], topics[(number * 3) % 5]],
            **({"summary": f"Samenvatting {number}."} if number % 3 else {}),
        )
    return project


@pytest.mark.parametrize("edit", ["body", "title", "retract", "add"])
def test_archive_pages_taken_from_the_last_build_equal_rendered_ones(
    tmp_path: Path, edit: str
) -> None:
    from conftest import write_article

    project = archive_project(tmp_path)
    out = tmp_path / "out"
    settle(project, out)
    assert len(list((out / "archive").glob("feed-*.xml"))) > 10
    old = sorted((project / "articles").glob("*stuk-7.md"))[0]
    text = old.read_text("utf-8")
    if edit == "body":
        old.write_text(text.replace("Alinea 7", "Alinea zeven"), "utf-8")
    elif edit == "title":
        old.write_text(text.replace("Stuk 7", "Stuk zeven"), "utf-8")
    elif edit == "retract":
        old.write_text(text.replace("title:", "draft: true\ntitle:", 1), "utf-8")
    else:  # the usual change: a new article, newer than all others
        date = "2025-10-01T09:00:00+02:00"
        write_article(project, "2025-10-01-nieuw.md", "Nieuw.", title="Nieuw", date=date)
    before = {
        name: data for name, data in tree_bytes(out).items() if name.startswith("archive/")
    }
    changed = build(project, out, NOW_DT)
    after = tree_bytes(out)
    # An edit in place or a new article leaves most archive pages as they were (a retracted
    # one shifts every page after it); the result is what a clean build gives.
    kept = [name for name, data in before.items() if after.get(name) == data]
    if edit != "retract":
        assert len(kept) > len(before) // 2
    else:
        assert changed.removed == ["related/stuk-7.html", "related/stuk-7.json"]
    same_as_clean(project, out, changed, tmp_path, "clean")
