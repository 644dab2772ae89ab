"""The digest in real headless Chromium at desktop (600 px) and phone (375 px) widths."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from click.testing import CliRunner

from browser import (
    WIDTHS,
    PageReport,
    contrast_ratio,
    inspect_digest,
    serve,
)
from conftest import NOW, REPO, copy_example_project, set_setting, write_article
from nieuwsbrief.cli import cli

pytestmark = pytest.mark.browser
WEEK = "2025-W48"
# WCAG 2 AA: 4.5:1 for body text, 3:1 for large text (24 px, or 18.66 px bold).
AA_NORMAL, AA_LARGE = 4.5, 3.0

OpenPage = Callable[[int, str], PageReport]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the example project as the README does; return the output folder."""
    out = tmp_path_factory.mktemp("browser") / "public"
    result = CliRunner().invoke(cli, ["build", "-p", str(REPO), "-o", str(out), "--now", NOW])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def titles(built: Path) -> list[str]:
    """The titles the digest's own manifest lists."""
    manifest = json.loads((built / "digests" / WEEK / "manifest.json").read_text("utf-8"))
    found = [article["title"] for article in manifest["articles"]]
    assert found, "the example digest has no articles"
    return found


@pytest.fixture(scope="module")
def open_page(
    session: Any, built: Path, titles: list[str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OpenPage]:
    """Return a function that loads the digest at a width and colour scheme, once each."""
    shots = tmp_path_factory.mktemp("screenshots")
    seen: dict[tuple[int, str], PageReport] = {}
    with serve(built) as base:

        def open_at(width: int, scheme: str) -> PageReport:
            if (width, scheme) not in seen:
                seen[width, scheme] = inspect_digest(
                    session,
                    f"{base}/digests/{WEEK}/digest.html",
                    width,
                    titles,
                    shots / f"digest-{width}-{scheme}.png",
                    scheme,
                )
            return seen[width, scheme]

        yield open_at


def is_large(text: dict[str, Any]) -> bool:
    """Tell whether WCAG counts this text as large."""
    return bool(
        text["font_size"] >= 24 or (text["font_size"] >= 18.66 and text["font_weight"] >= 700)
    )


def hard_to_read(report: PageReport) -> list[str]:
    """Describe every painted piece of text below WCAG AA contrast or smaller than 13 px."""
    problems = []
    for text in report.texts:
        ratio = contrast_ratio(text["color"], text["background"])
        if ratio < (AA_LARGE if is_large(text) else AA_NORMAL):
            problems.append(
                f"{text['text']!r}: contrast {ratio:.2f}:1"
                f" ({text['color']} on {text['background']})"
            )
        if text["font_size"] < 13:
            problems.append(f"{text['text']!r}: {text['font_size']} px")
    return problems


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", WIDTHS)
def test_every_title_is_visible_and_nothing_scrolls_sideways(
    width: int, scheme: str, titles: list[str], open_page: OpenPage
) -> None:
    report = open_page(width, scheme)
    assert report.width == width
    assert report.scroll_width <= width, "the digest scrolls sideways"
    for title in titles:
        box = report.titles[title]
        assert box["found"], f"{title!r} is not a link in the digest"
        assert box["visible"] and box["on_top"], f"{title!r} is hidden or covered"
        assert box["width"] > 0 and box["height"] > 0, title
        assert box["left"] >= 0 and box["right"] <= width, f"{title!r} sticks out: {box}"
    painted = {text["text"]: text for text in report.texts}
    for title in titles:
        # Titles are headings a reader must be able to read in both colour schemes.
        text = painted[title[:60]]
        assert contrast_ratio(text["color"], text["background"]) >= AA_NORMAL, text
    png = report.screenshot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # The PNG header's width and height: the whole page at exactly this width.
    assert int.from_bytes(png[16:20], "big") == width
    assert int.from_bytes(png[20:24], "big") > 600


def test_light_mode_text_is_readable(open_page: OpenPage) -> None:
    for width in WIDTHS:
        report = open_page(width, "light")
        assert report.texts, "no text found on the page"
        assert hard_to_read(report) == [], width


def test_dark_mode_text_is_readable(open_page: OpenPage) -> None:
    report = open_page(375, "dark")
    assert report.texts
    assert hard_to_read(report) == []


def test_nothing_loads_from_elsewhere_but_article_images(built: Path, open_page: OpenPage) -> None:
    settings = yaml.safe_load((REPO / "schedule.yaml").read_text("utf-8"))
    site_host = urlsplit(settings["site"]["base_url"]).hostname
    report = open_page(375, "light")
    images = [resource for resource in report.resources if resource["tag"] == "img"]
    others = [resource for resource in report.resources if resource["tag"] != "img"]
    assert others == [], "the digest must not load stylesheets, scripts, frames or CSS images"
    html = (built / "digests" / WEEK / "digest.html").read_text("utf-8")
    # The example has article images, so the image rules below are really exercised.
    assert images and html.count("<img") == len(images)
    for image in images:
        url = urlsplit(image["url"])
        assert url.scheme == "https" and url.hostname == site_host, image
        # Images are often blocked in mail clients: the alt text and width keep the layout.
        assert image["alt"] and image["alt"].strip(), image
        assert image["width"] and int(image["width"]) <= 600, image
    # What the browser really asked for: the page itself from loopback, and those images.
    allowed = {image["url"] for image in images}
    for url in report.requested:
        assert urlsplit(url).hostname == "127.0.0.1" or url in allowed, url


def test_contrast_ratio_matches_wcag_examples() -> None:
    assert contrast_ratio("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    assert contrast_ratio("rgb(255, 255, 255)", "rgb(255, 255, 255)") == pytest.approx(1)
    # #767676 on white is the classic lightest grey that still passes AA.
    assert contrast_ratio("rgb(118, 118, 118)", "rgb(255, 255, 255)") == pytest.approx(4.54, 0.01)
    # Half-transparent black on white blends to #808080.
    assert contrast_ratio("rgba(0, 0, 0, 0.5)", "rgb(255, 255, 255)") == pytest.approx(
        contrast_ratio("rgb(127.5, 127.5, 127.5)", "rgb(255, 255, 255)")
    )


def test_long_words_and_the_title_only_list_fit_on_a_phone(session: Any, tmp_path: Path) -> None:
    project = copy_example_project(tmp_path / "project")
    # Dutch compounds and pasted URLs have no break opportunities of their own.
    long_title = "Arbeidsongeschiktheidsverzekeringsmaatschappijenvergelijkingsonderzoek"
    write_article(
        project,
        "2025-11-20-lang.md",
        title=long_title,
        date="2025-11-20T10:00:00+01:00",
        summary="Lees https://www.example.nl/een/heel/lang/pad/zonder/spaties/dat/niet/past/op/"
        "een/telefoonscherm/van/driehonderdvijfenzeventig/pixels voor meer.",
    )
    # One article in full, the rest under "Ook nieuw deze week" by title only.
    set_setting(project, "digest", "max_items", 1)
    out = tmp_path / "public"
    result = CliRunner().invoke(cli, ["build", "-p", str(project), "-o", str(out), "--now", NOW])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "digests" / WEEK / "manifest.json").read_text("utf-8"))
    titles = [article["title"] for article in manifest["articles"] + manifest["overflow"]]
    assert long_title in titles and manifest["overflow"]
    with serve(out) as base:
        report = inspect_digest(
            session, f"{base}/digests/{WEEK}/digest.html", 375, titles, tmp_path / "long.png"
        )
    assert report.width == 375
    assert report.scroll_width <= 375, "a long word makes the digest scroll sideways"
    for title in titles:
        box = report.titles[title]
        assert box["found"] and box["visible"] and box["on_top"], title
        assert box["left"] >= 0 and box["right"] <= 375, f"{title!r} sticks out: {box}"
