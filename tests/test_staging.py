"""A build stages each file as soon as it is rendered; until its journal nothing is published.

Rendering writes every new or changed file into the staging folder inside --out and keeps
only its size and hash (output.StagedFiles). These tests fail builds after files were
staged and check that --out and its record are exactly as before, that the staging folder
is gone, and that the next build writes what a build into an empty folder writes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from conftest import NOW_DT, copy_example_project, tree_bytes, write_article
from conftest import build_report as report
from nieuwsbrief import archive, feeds, output
from nieuwsbrief.build import build
from nieuwsbrief.errors import BuildError
from nieuwsbrief.output import RECORD_FILE, STAGING_DIR, claim, publish, publish_claimed

LATER = dt.datetime.fromisoformat("2025-12-09T09:00:00+01:00")


def grown_project(root: Path) -> Path:
    """Return the example project plus a few articles, so a build stages many files."""
    project = copy_example_project(root / "project")
    for number in range(6):
        write_article(
            project,
            f"2025-11-{10 + number:02d}-extra-{number}.md",
            "Een alinea met wat **nadruk**.\n\nNog een alinea.",
            title=f"Extra artikel {number}",
            tags=["extra", f"groep-{number % 3}"],
        )
    return project



def reference(project: Path, root: Path, *nows: dt.datetime) -> tuple[dict[str, bytes], Any]:
    """Return the tree and report of builds at ``nows`` into a new folder, without cache.

    Builds that did not fail: an earlier build's digests stay in --out.
    """
    out = root / "reference"
    for now in nows:
        result = build(project, out, now, cache=False)
    return tree_bytes(out), report(result)


class Broken(Exception):
    """A failure in the middle of rendering that is not nieuwsbrief's own error."""


def fail_in_archive(monkeypatch: pytest.MonkeyPatch, out: Path, error: Exception) -> list[int]:
    """Make the archive page (rendered last) fail; return how many files were staged then."""
    staged: list[int] = []

    def failing(*args: Any, **kwargs: Any) -> bytes:
        folder = out / STAGING_DIR
        staged.append(len(list(folder.iterdir())) if folder.is_dir() else 0)
        raise error

    monkeypatch.setattr(archive, "render_archive", failing)
    return staged


@pytest.mark.parametrize("error", [BuildError("the archive page broke"), Broken("crash")])
@pytest.mark.parametrize("cache", [True, False])
def test_a_render_error_after_staging_leaves_out_as_it_was(
    error: Exception, cache: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = grown_project(tmp_path)
    out = tmp_path / "public"
    build(project, out, NOW_DT, cache=cache)
    before = tree_bytes(out)
    with monkeypatch.context() as patch:
        staged = fail_in_archive(patch, out, error)
        with pytest.raises(type(error)):
            build(project, out, LATER, cache=cache)
    # Feeds, topic files and digests of the later build were staged before the failure.
    assert staged and staged[0] > 10
    assert tree_bytes(out) == before  # the record included; no staging folder left
    assert not (out / STAGING_DIR).exists()
    result = build(project, out, LATER, cache=cache)
    expected_tree, expected_report = reference(project, tmp_path, NOW_DT, LATER)
    assert tree_bytes(out) == expected_tree
    assert report(result) == expected_report


def test_a_failed_first_build_leaves_no_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = grown_project(tmp_path)
    out = tmp_path / "site" / "public"
    with monkeypatch.context() as patch:
        staged = fail_in_archive(patch, out, BuildError("the archive page broke"))
        with pytest.raises(BuildError, match="archive page broke"):
            build(project, out, NOW_DT)
    assert staged and staged[0] > 10
    assert not out.exists()
    result = build(project, out, NOW_DT)
    expected_tree, expected_report = reference(project, tmp_path, NOW_DT)
    assert tree_bytes(out) == expected_tree
    assert report(result) == expected_report


def test_an_own_file_removed_during_the_build_stops_the_publish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # feed.xsl is the same at both moments: it is not staged, its bytes are in --out. When
    # it goes while the later build renders, that build has nothing to put there.
    project = grown_project(tmp_path)
    out = tmp_path / "public"
    build(project, out, NOW_DT)
    before = tree_bytes(out)
    real = feeds.feed_changes

    def remove_stylesheet(*args: Any, **kwargs: Any) -> list[str]:
        (out / "feed.xsl").unlink()
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(feeds, "feed_changes", remove_stylesheet)
        with pytest.raises(BuildError, match="removed from the output folder during the build"):
            build(project, out, LATER)
    del before["feed.xsl"]
    assert tree_bytes(out) == before
    result = build(project, out, LATER)
    expected_tree, expected_report = reference(project, tmp_path, NOW_DT, LATER)
    assert tree_bytes(out) == expected_tree
    assert report(result) == expected_report


def test_a_build_that_changes_nothing_stages_nothing(tmp_path: Path) -> None:
    project = grown_project(tmp_path)
    out = tmp_path / "public"
    first = build(project, out, NOW_DT)
    state = out.stat().st_mtime_ns, (out / RECORD_FILE).stat().st_mtime_ns
    # Without the cache the build renders every file again: each equals its recorded bytes.
    again = build(project, out, NOW_DT, cache=False)
    assert (out.stat().st_mtime_ns, (out / RECORD_FILE).stat().st_mtime_ns) == state
    assert report(again) == report(first)


def test_staged_files_read_back_checked(tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish(out, {"feed.xml": b"<rss>oud</rss>", "feed.xsl": b"<xsl/>"})
    with claim(out) as folder:
        files = folder.stage()
        files["feed.xml"] = b"<rss>nieuw</rss>"
        files["feed.xsl"] = b"<xsl/>"  # as recorded and in place: not staged
        assert files.staged_name("feed.xsl") is None
        assert files.sizes() == {"feed.xml": 16, "feed.xsl": 6}
        assert files["feed.xml"] == b"<rss>nieuw</rss>"
        assert files["feed.xsl"] == b"<xsl/>"
        assert "feed.json" not in files
        staged = out / STAGING_DIR / str(files.staged_name("feed.xml"))
        staged.write_bytes(b"<rss>anders</rss>")
        with pytest.raises(BuildError, match="changed or removed during the build"):
            files["feed.xml"]
        # Set again, it is staged again, and published as set.
        files["feed.xml"] = b"<rss>nieuw</rss>"
        assert publish_claimed(folder, files)
    assert (out / "feed.xml").read_bytes() == b"<rss>nieuw</rss>"
    assert not (out / STAGING_DIR).exists()


def test_a_path_refused_after_others_were_staged_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish(out, {"feed.xml": b"<rss>oud</rss>"})
    before = tree_bytes(out)
    with pytest.raises(BuildError, match="refusing to write a path outside"):
        publish(out, {"feed.json": b"{}", "feed.xml": b"<rss/>", "../buiten.txt": b"nee"})
    assert tree_bytes(out) == before
    assert not (tmp_path / "buiten.txt").exists()


def test_a_record_too_large_to_read_back_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "public"
    publish(out, {"feed.xml": b"<rss>oud</rss>"})
    before = tree_bytes(out)
    monkeypatch.setattr(output, "MAX_RECORD_ENTRIES", 2)
    with pytest.raises(BuildError, match="would record 3 files, more than the 2"):
        publish(out, {"feed.json": b"{}", "atom.xml": b"<feed/>"})
    assert tree_bytes(out) == before
