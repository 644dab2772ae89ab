"""The stop by stat: an unchanged rebuild replays the record without loading any article.

Every scenario settles a project (a cold build, then a confirming one that records the stat
signature), changes one input in one way, builds again with every shortcut, and compares
every output byte and the whole report with a build without any shortcut (``cache=False``)
into a fresh folder. Where the change must defeat the stop, the test also sees that the
articles were loaded; where nothing changed, that none was opened.

The signature is recorded only for inputs changed at least ``RACY_MARGIN_NS`` before it
was taken; a test project is seconds old, so most tests move the signature's clock ahead
(``aged``) instead of waiting. The racy tests use the real clock.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import NOW, NOW_DT, CallCounter, set_setting, tree_bytes, write_article
from conftest import build_report as report
from nieuwsbrief import build as build_module
from nieuwsbrief import shortcut
from nieuwsbrief.build import BuildResult, build
from nieuwsbrief.cache import CACHE_DIR
from nieuwsbrief.shortcut import SHORTCUT_FILE


class Loads(CallCounter):
    """Count the builds that load the articles (a build stopped by stat loads none)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(monkeypatch, build_module, "load_site")


@pytest.fixture
def aged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take every signature as if a minute had passed: no input of the test is racy."""
    monkeypatch.setattr(shortcut, "_clock", lambda: time.time_ns() + 60_000_000_000)


def recorded(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((project / CACHE_DIR / SHORTCUT_FILE).read_text("utf-8"))
    return data


def settle(project: Path, out: Path, now: dt.datetime = NOW_DT) -> BuildResult:
    """Build until the record holds a stat signature: the second build confirms the first."""
    build(project, out, now)
    return build(project, out, now)


def same_as_clean(
    project: Path, out: Path, result: BuildResult, root: Path, now: dt.datetime = NOW_DT
) -> None:
    fresh = build(project, root / "clean", now, cache=False)
    assert tree_bytes(out) == tree_bytes(root / "clean")
    assert report(result) == report(fresh)


def same_as_without_shortcuts(
    project: Path, out: Path, root: Path, now: dt.datetime = NOW_DT, copy: str = "copy"
) -> BuildResult:
    """Build with every shortcut, and without any into a copy of ``out`` as it was: the same.

    Everything is compared, what the build removed included (a removed or renamed article
    takes its related list along, and the feeds warn about the item gone).
    """
    shutil.copytree(out, root / copy, symlinks=True)
    result = build(project, out, now)
    fresh = build(project, root / copy, now, cache=False)
    assert tree_bytes(out) == tree_bytes(root / copy)
    assert report(result) == report(fresh)
    assert result.removed == fresh.removed
    return result


def test_the_project_layout_agrees_with_the_modules_that_own_it() -> None:
    from nieuwsbrief import articles, cache, config, templating

    assert shortcut.ARTICLES_DIR == articles.ARTICLES_DIR
    assert shortcut.TEMPLATES_DIR == templating.TEMPLATES_DIR
    assert shortcut.SETTINGS_FILE == config.SETTINGS_FILE
    assert shortcut.CACHE_DIR == cache.CACHE_DIR
    assert shortcut.ARTICLE_CACHE_FILE == cache.CACHE_FILE


def test_an_unchanged_rebuild_opens_no_article_and_reports_as_a_full_build(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aged: None
) -> None:
    # A stray file: the loader's warning about it must be replayed too.
    (project / "articles" / "notities.txt").write_text("geen artikel", "utf-8")
    out = tmp_path / "out"
    confirming = settle(project, out)
    assert "stop" in recorded(project)
    loads = Loads(monkeypatch)
    opened: list[str] = []
    real_open = os.open

    def watched(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", watched)
    stopped = build(project, out, NOW_DT)
    monkeypatch.undo()
    assert loads.count == 0
    assert not [path for path in opened if "/articles/" in path or path.endswith(".j2")]
    assert any("notities.txt" in warning for warning in stopped.warnings)
    assert stopped.drafts or stopped.scheduled  # the example holds an article dated later
    assert report(stopped) == report(confirming)
    assert stopped.removed == []
    same_as_clean(project, out, stopped, tmp_path)


def _same_size(path: Path, old: str, new: str) -> None:
    assert len(old.encode()) == len(new.encode())
    before = path.stat()
    path.write_text(path.read_text("utf-8").replace(old, new, 1), "utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def _edit_body_keeping_size_and_mtime(project: Path, tmp_path: Path) -> None:
    _same_size(next((project / "articles").glob("*winterdip.md")), "Winterdip", "Winterdop")


def _add(project: Path, tmp_path: Path) -> None:
    write_article(project, "2025-11-20-nieuw.md", "Nieuw stuk.", title="Nieuw", date=NOW)


def _remove(project: Path, tmp_path: Path) -> None:
    next((project / "articles").glob("*winterdip.md")).unlink()


def _rename(project: Path, tmp_path: Path) -> None:
    path = next((project / "articles").glob("*winterdip.md"))
    path.rename(path.with_name("2025-11-03-de-winterdip.md"))


def _symlink(project: Path, tmp_path: Path) -> None:
    # The same bytes through a link inside the project: the loader reads it, the stop may not.
    path = next((project / "articles").glob("*winterdip.md"))
    (project / "bron").mkdir()
    shutil.copy2(path, project / "bron" / path.name)
    path.unlink()
    path.symlink_to(project / "bron" / path.name)


def _fifo(project: Path, tmp_path: Path) -> None:
    path = next((project / "articles").glob("*winterdip.md"))
    path.unlink()
    os.mkfifo(path)


def _settings_edited(project: Path, tmp_path: Path) -> None:
    set_setting(project, "feeds", "archive_size", 3)


def _settings_touched(project: Path, tmp_path: Path) -> None:
    path = project / "schedule.yaml"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1))


def _template_edited(project: Path, tmp_path: Path) -> None:
    path = project / "templates" / "list.html.j2"
    path.write_text(path.read_text("utf-8") + "\n<!-- gewijzigd -->\n", "utf-8")


def _template_added(project: Path, tmp_path: Path) -> None:
    (project / "templates" / "extra.html.j2").write_text("{{ 1 }}", "utf-8")


def test_a_damaged_article_cache_is_loaded_and_reported(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aged: None
) -> None:
    """The cache's own warning is said only by a build that reads it: so it must not stop."""
    out = tmp_path / "out"
    settle(project, out)
    (project / CACHE_DIR / "articles.json").write_bytes(b"{niet: json")
    loads = Loads(monkeypatch)
    result = build(project, out, NOW_DT)
    assert loads.count == 1
    assert any("articles.json is not valid JSON" in warning for warning in result.warnings)
    clean = build(project, tmp_path / "clean", NOW_DT, cache=False)
    assert tree_bytes(out) == tree_bytes(clean.out)


CHANGES = {
    "body-same-size-and-mtime": _edit_body_keeping_size_and_mtime,
    "article-added": _add,
    "article-removed": _remove,
    "article-renamed": _rename,
    "article-now-a-symlink": _symlink,
    "article-now-a-fifo": _fifo,
    "settings-edited": _settings_edited,
    "settings-touched": _settings_touched,
    "template-edited": _template_edited,
    "template-added": _template_added,
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_a_changed_input_is_loaded_and_built_as_without_shortcuts(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aged: None, change: str
) -> None:
    out = tmp_path / "out"
    settle(project, out)
    assert "stop" in recorded(project)
    CHANGES[change](project, tmp_path)
    loads = Loads(monkeypatch)
    same_as_without_shortcuts(project, out, tmp_path)
    assert loads.count == 2, "a changed input must be loaded"
    # Once a build confirms the new state, the next one stops again, as without shortcuts.
    confirming = build(project, out, NOW_DT)
    loads.count = 0
    stopped = same_as_without_shortcuts(project, out, tmp_path, copy="copy-again")
    assert loads.count == 1, "only the build without shortcuts loads"
    assert report(stopped) == report(confirming)


def test_another_now_week_or_option_is_built(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aged: None
) -> None:
    out = tmp_path / "out"
    settle(project, out)
    loads = Loads(monkeypatch)
    # The same moment in another zone is another --now for the stop (not for the key).
    elsewhere = NOW_DT.astimezone(dt.timezone(dt.timedelta(hours=3)))
    build(project, out, elsewhere)
    assert loads.count == 1
    build(project, out, NOW_DT, allow_empty_feeds=True)
    assert loads.count == 2
    later = NOW_DT + dt.timedelta(days=8)
    shutil.copytree(out, tmp_path / "copy", symlinks=True)
    result = build(project, out, later)
    assert loads.count == 3
    fresh = build(project, tmp_path / "copy", later, cache=False)
    assert tree_bytes(out) == tree_bytes(tmp_path / "copy")
    assert report(result) == report(fresh)


def test_another_out_is_built(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aged: None
) -> None:
    settle(project, tmp_path / "one")
    loads = Loads(monkeypatch)
    result = build(project, tmp_path / "two", NOW_DT)
    assert loads.count == 1
    same_as_clean(project, tmp_path / "two", result, tmp_path)


def test_a_touched_output_is_built(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aged: None
) -> None:
    out = tmp_path / "out"
    settle(project, out)
    target = out / "feed.json"
    stamp = target.stat().st_mtime_ns
    os.utime(target, ns=(stamp + 1, stamp + 1))
    loads = Loads(monkeypatch)
    result = build(project, out, NOW_DT)
    assert loads.count == 1
    same_as_clean(project, out, result, tmp_path)


def _forge(data: dict[str, Any]) -> None:
    data["files"]["feed.json"] += 1  # a size --out does not have


def _forge_name(data: dict[str, Any]) -> None:
    data["files"]["niet-van-nieuwsbrief.html"] = 3


def _forge_listed(data: dict[str, Any]) -> None:
    data["stop"]["published"][0][3] = "gisteren"


def _forge_warnings(data: dict[str, Any]) -> None:
    data["stop"]["warnings"] = [1]


def _forge_signature(data: dict[str, Any]) -> None:
    data["stop"]["inputs"] = "0" * 64


def _forge_skeleton(data: dict[str, Any]) -> None:
    data["skeleton"] = "/nergens"


FORGERIES = {
    "size": _forge,
    "name": _forge_name,
    "listed-date": _forge_listed,
    "warnings": _forge_warnings,
    "signature": _forge_signature,
    "skeleton": _forge_skeleton,
}


@pytest.mark.parametrize("forgery", list(FORGERIES), ids=list(FORGERIES))
def test_a_forged_record_means_a_full_build(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aged: None, forgery: str
) -> None:
    out = tmp_path / "out"
    settle(project, out)
    data = recorded(project)
    FORGERIES[forgery](data)
    (project / CACHE_DIR / SHORTCUT_FILE).write_text(json.dumps(data), "utf-8")
    loads = Loads(monkeypatch)
    result = build(project, out, NOW_DT)
    assert loads.count == 1
    same_as_clean(project, out, result, tmp_path)


@pytest.mark.parametrize("damage", [b"", b"{niet", b"[]", b"\xff", b'{"format": 2, "stop": 1}'])
def test_a_damaged_record_means_a_full_build(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aged: None, damage: bytes
) -> None:
    out = tmp_path / "out"
    settle(project, out)
    (project / CACHE_DIR / SHORTCUT_FILE).write_bytes(damage)
    loads = Loads(monkeypatch)
    result = build(project, out, NOW_DT)
    assert loads.count == 1
    same_as_clean(project, out, result, tmp_path)


def test_racily_clean_inputs_are_not_trusted(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inputs changed within the margin before the signature: no stop is recorded.

    Here the project was written moments ago (real clock): its files could still change
    within their timestamps' granularity without their size or times changing. The record
    keeps only the key; an edit made now, with its size and modification time put back,
    is built.
    """
    out = tmp_path / "out"
    settle(project, out)
    assert "stop" not in recorded(project)
    _edit_body_keeping_size_and_mtime(project, tmp_path)
    loads = Loads(monkeypatch)
    result = build(project, out, NOW_DT)
    assert loads.count == 1
    assert b"Winterdop" in (out / "feed.xml").read_bytes()
    same_as_clean(project, out, result, tmp_path)


def test_an_input_changed_just_before_the_signature_is_not_trusted(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rule at its edge: modified less than the margin before the signature was taken."""
    out = tmp_path / "out"
    monkeypatch.setattr(shortcut, "_clock", lambda: time.time_ns() + 60_000_000_000)
    build(project, out, NOW_DT)
    path = next((project / "articles").glob("*winterdip.md"))
    path.write_text(path.read_text("utf-8"), "utf-8")  # a change time of now
    margin = shortcut.RACY_MARGIN_NS
    monkeypatch.setattr(shortcut, "_clock", lambda: path.stat().st_ctime_ns + margin - 1)
    build(project, out, NOW_DT)
    assert "stop" not in recorded(project)
    monkeypatch.setattr(shortcut, "_clock", lambda: path.stat().st_ctime_ns + margin + 1)
    build(project, out, NOW_DT)  # stops by key, and records the signature now trusted
    assert "stop" in recorded(project)


def test_a_build_stopped_by_key_records_the_signature(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    settle(project, out)  # racy: no signature
    assert "stop" not in recorded(project)
    monkeypatch.setattr(shortcut, "_clock", lambda: time.time_ns() + 60_000_000_000)
    loads = Loads(monkeypatch)
    by_key = build(project, out, NOW_DT)
    assert loads.count == 1 and "stop" in recorded(project)
    by_stat = build(project, out, NOW_DT)
    assert loads.count == 1
    assert report(by_stat) == report(by_key)


@pytest.mark.parametrize(
    "now", [NOW, "2026-03-02T09:00:00+01:00"], ids=["with-digest", "no-digest-next-one-said"]
)
def test_a_stopped_cli_build_imports_no_loader_and_prints_what_a_full_build_prints(
    project: Path, tmp_path: Path, now: str
) -> None:
    """Run as the editor does: a stopped build imports neither YAML, Jinja2 nor Markdown.

    With -v the CLI names every draft and scheduled article; in a week without a digest it
    says when the next one goes out and how many articles it holds, from the replayed report.
    """
    out = tmp_path / "out"
    script = (
        "import sys, time\n"
        "import nieuwsbrief.shortcut as shortcut\n"
        "shortcut._clock = lambda: time.time_ns() + 60_000_000_000\n"
        "from nieuwsbrief.cli import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    heavy = ('yaml', 'jinja2', 'markdown_it', 'feedgen', 'lxml', 'nieuwsbrief.articles')\n"
        "    print('loaded:', *sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", script, "-v", "build", "-p", str(project)]
        command += ["-o", str(out), "--now", now, *extra]
        return subprocess.run(command, capture_output=True, text=True, check=True)

    run()
    run()
    stopped = run()
    # Without a digest the CLI reads schedule.yaml itself, to say when the next one goes out.
    assert stopped.stderr.splitlines()[-1] == ("loaded:" if now == NOW else "loaded: yaml")
    full = run("--no-cache")
    assert "nieuwsbrief.articles" in full.stderr.splitlines()[-1]
    assert stopped.stdout == full.stdout
    assert stopped.stderr.splitlines()[:-1] == full.stderr.splitlines()[:-1]
    assert ("Left out:" if now == NOW else "Next digest:") in stopped.stdout


def test_an_upgraded_library_is_rendered_again(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aged: None
) -> None:
    # A library upgrade rewrites its files. Neither stop may replay, and no reused group
    # may come back: the new version could render other bytes.
    from nieuwsbrief import dependencies
    from nieuwsbrief.config import load_settings
    from nieuwsbrief.reuse import base_fingerprint

    library = tmp_path / "site-packages" / "markdown_it" / "__init__.py"
    library.parent.mkdir(parents=True)
    library.write_text("__version__ = '3.0.0'\n", "utf-8")
    real = dependencies.module_files

    def with_fake() -> list[tuple[str, str]]:
        return [
            (name, str(library) if name == "markdown_it" else origin) for name, origin in real()
        ]

    monkeypatch.setattr(dependencies, "module_files", with_fake)
    out = tmp_path / "out"
    settle(project, out)
    assert "stop" in recorded(project)
    renders = CallCounter(monkeypatch, build_module, "render_site")
    settings = load_settings(project / "schedule.yaml")
    key_before = base_fingerprint(settings)
    build(project, out, NOW_DT)
    assert renders.count == 0  # unchanged: stopped
    before = dependencies.fingerprint()  # what the reuse and article-cache keys hold
    library.unlink()
    library.write_text("__version__ = '4.0.0'\n", "utf-8")  # a new file, as pip writes it
    assert dependencies.fingerprint() != before
    loads = Loads(monkeypatch)
    result = build(project, out, NOW_DT)
    assert loads.count == 1 and renders.count == 1
    # The key of every reused group changed with it: none is taken from the old build.
    assert base_fingerprint(settings) != key_before
    same_as_clean(project, out, result, tmp_path)
