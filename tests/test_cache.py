"""The build cache makes rebuilds fast and never changes a single output byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import NOW, RunCli, set_setting, tree_bytes, write_article
from nieuwsbrief.build import load_site
from nieuwsbrief.cache import CACHE_DIR, CACHE_FILE, ArticleCache
from nieuwsbrief.config import load_settings


def build(run_cli: RunCli, project: Path, out: Path, *extra: str) -> None:
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW, *extra)
    assert result.exit_code == 0, result.output


def test_cached_build_equals_a_clean_build(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    build(run_cli, project, tmp_path / "clean", "--no-cache")
    assert not (project / CACHE_DIR).exists()
    build(run_cli, project, tmp_path / "cold")
    assert (project / CACHE_DIR / CACHE_FILE).is_file()
    build(run_cli, project, tmp_path / "warm")
    clean = tree_bytes(tmp_path / "clean")
    assert tree_bytes(tmp_path / "cold") == clean
    assert tree_bytes(tmp_path / "warm") == clean


def test_cached_articles_equal_parsed_articles(project: Path) -> None:
    fresh = load_site(project).articles
    load_site(project, cache=True)
    settings = load_settings(project / "schedule.yaml")
    cache = ArticleCache(project, settings.site)
    cached = [cache.load(article.source, settings.site) for article in fresh]
    assert cache.hits == len(fresh)
    assert cached == fresh
    for old, new in zip(fresh, cached, strict=True):
        assert (old.date.tzinfo, old.summary, old.content_html) == (
            new.date.tzinfo,
            new.summary,
            new.content_html,
        )


def test_a_changed_article_is_parsed_again(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    build(run_cli, project, tmp_path / "first")
    article = next((project / "articles").glob("*winterdip.md"))
    article.write_text(article.read_text("utf-8").replace("Winterdip", "Winterblues", 1), "utf-8")
    build(run_cli, project, tmp_path / "cached")
    build(run_cli, project, tmp_path / "clean", "--no-cache")
    assert tree_bytes(tmp_path / "cached") == tree_bytes(tmp_path / "clean")
    assert b"Winterblues" in (tmp_path / "cached" / "feed.xml").read_bytes()


def test_changed_settings_invalidate_the_cache(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    build(run_cli, project, tmp_path / "first")
    set_setting(project, "site", "base_url", "https://www.anders.example")
    build(run_cli, project, tmp_path / "cached")
    assert (
        b"https://www.praktijkdelinde.nl/artikelen/"
        not in (tmp_path / "cached" / "feed.xml").read_bytes()
    )
    build(run_cli, project, tmp_path / "clean", "--no-cache")
    assert tree_bytes(tmp_path / "cached") == tree_bytes(tmp_path / "clean")


@pytest.mark.parametrize(
    "damage",
    [b"", b"{niet: json", b'{"key": 1, "articles": []}', b"[]", b"\xff\xfe"],
    ids=["empty", "broken-json", "wrong-types", "list", "not-utf8"],
)
def test_a_corrupt_cache_is_ignored(
    damage: bytes, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    build(run_cli, project, tmp_path / "clean", "--no-cache")
    (project / CACHE_DIR).mkdir()
    (project / CACHE_DIR / CACHE_FILE).write_bytes(damage)
    build(run_cli, project, tmp_path / "out")
    assert tree_bytes(tmp_path / "out") == tree_bytes(tmp_path / "clean")


def test_a_damaged_entry_is_parsed_again(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    import json

    build(run_cli, project, tmp_path / "clean", "--no-cache")
    build(run_cli, project, tmp_path / "warm")
    path = project / CACHE_DIR / CACHE_FILE
    data = json.loads(path.read_text("utf-8"))
    for entry in data["articles"].values():
        entry["front"]["date"] = "geen datum"
    path.write_text(json.dumps(data), "utf-8")
    build(run_cli, project, tmp_path / "out")
    assert tree_bytes(tmp_path / "out") == tree_bytes(tmp_path / "clean")


def test_errors_are_found_with_a_warm_cache(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    build(run_cli, project, tmp_path / "out")
    write_article(project, "2025-11-20-dubbel.md", title="Dubbel", slug="winterdip")
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert "slug 'winterdip' is already used" in result.output


HEAVY = ("lxml", "babel", "mjml", "nh3", "markdown_it", "feedgen", "css_inline", "html2text")


def test_the_cli_starts_without_heavy_libraries() -> None:
    import subprocess
    import sys

    # A fresh interpreter: this test process has long imported everything.
    script = (
        "import sys, nieuwsbrief.cli\n"
        "print('\\n'.join(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "click" in loaded
    assert [name for name in HEAVY if name in loaded] == []
