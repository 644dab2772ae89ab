"""The website's list and related-article fragments in real headless Chromium at 375 px.

Each fragment is put, as a website would include it server-side, into a bare page with
only a viewport meta tag and no CSS of its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from browser import contrast_ratio, inspect_digest, serve
from conftest import NOW, write_article
from test_topics import run, topic_project

pytestmark = pytest.mark.browser
PHONE = 375
AA_NORMAL, AA_LARGE = 4.5, 3.0
LONG_WORD = "Arbeidsongeschiktheidsverzekeringsvoorwaardenonderhandelingen"
HOST_PAGE = """<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body>{fragment}</body></html>
"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    """Build the topic project with a long-word article; wrap each fragment in a host page."""
    root = tmp_path_factory.mktemp("topics-browser")
    project = topic_project(root)
    write_article(
        project,
        "2025-11-22-lange-woorden.md",
        f"Over de {LONG_WORD} en zelfdoding. {LONG_WORD * 2}",
        title=f"Werk en {LONG_WORD}",
        date="2025-11-22T09:00:00+01:00",
        tags=["zelfdoding", "werk"],
    )
    out = root / "public"
    assert run("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    site = root / "site"
    site.mkdir()
    sources = {
        "all": out / "lists" / "all",
        "topic-angst": out / "tags" / "angst" / "list",
        "topic-zelfdoding": out / "tags" / "zelfdoding" / "list",
        "related-lange-woorden": out / "related" / "lange-woorden",
        "related-praten-over-zelfdoding": out / "related" / "praten-over-zelfdoding",
    }
    titles = {}
    for name, stem in sources.items():
        fragment = stem.with_suffix(".html").read_text("utf-8")
        items = json.loads(stem.with_suffix(".json").read_text("utf-8"))["items"]
        assert items, name
        titles[name] = [item["title"] for item in items]
        (site / f"{name}.html").write_text(
            HOST_PAGE.format(title=name, fragment=fragment), encoding="utf-8"
        )
    return site, titles


def test_lists_fit_a_phone_are_readable_and_load_nothing(
    session: Any, pages: tuple[Path, dict[str, list[str]]], tmp_path: Path
) -> None:
    site, titles = pages
    with serve(site) as base:
        for name, expected in sorted(titles.items()):
            report = inspect_digest(
                session, f"{base}/{name}.html", PHONE, expected, tmp_path / f"{name}.png"
            )
            assert report.width == PHONE
            assert report.scroll_width <= PHONE, f"{name} scrolls sideways"
            for title in expected:
                box = report.titles[title]
                assert box["found"] and box["visible"] and box["on_top"], (name, title)
                assert box["left"] >= 0 and box["right"] <= PHONE, (name, title, box)
            # No scripts, images, fonts or style sheets: only the page itself was fetched.
            assert report.resources == [], (name, report.resources)
            # (Chromium asks the host for its favicon by itself.)
            fetched = [url for url in report.requested if not url.endswith("/favicon.ico")]
            assert fetched == [], (name, fetched)
            for text in report.texts:
                large = text["font_size"] >= 24 or (
                    text["font_size"] >= 18.66 and text["font_weight"] >= 700
                )
                ratio = contrast_ratio(text["color"], text["background"])
                assert ratio >= (AA_LARGE if large else AA_NORMAL), (name, text, ratio)
                assert text["font_size"] >= 13, (name, text)
            painted = " ".join(text["text"] for text in report.texts)
            assert "Lees verder" in painted
            if name.endswith("zelfdoding"):
                assert "Denk je aan zelfdoding?" in painted, name
