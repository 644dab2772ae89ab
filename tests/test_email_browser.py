"""The email in headless Chromium as the clients that drop CSS show it.

- with every <style> element removed (Gmail's apps for other than Google accounts, Gmail's
  mobile webmail): margins, link colours and buttons hold, and no hidden text appears;
- with images blocked: alt text in the email's font, size and colour, not underlined;
- in dark mode: dividers, the contact block and the title hierarchy stay readable;
- the archive page passes WCAG AA contrast in dark mode as well as light.
"""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from browser import (
    WIDTHS,
    contrast_ratio,
    inspect_digest,
    serve,
    strip_styles,
)
from conftest import NOW, REPO, copy_example_project, set_setting
from nieuwsbrief.cli import cli

pytestmark = pytest.mark.browser
WEEK = "2025-W48"
BRAND = "rgb(47, 107, 91)"  # #2f6b5b
DEFAULT_LINK_BLUE = "rgb(0, 0, 238)"

_MEASURE = r"""
const visible = el => {
  const box = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  return box.width > 0 && box.height > 0 && style.visibility !== 'hidden'
    && style.display !== 'none' && parseFloat(style.opacity) > 0;
};
const texts = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const text = node.textContent.replace(/\s+/g, ' ').trim();
  if (!text || !node.parentElement) continue;
  const range = document.createRange();
  range.selectNodeContents(node);
  const box = range.getBoundingClientRect();
  if (box.width === 0 || box.height === 0 || !visible(node.parentElement)) continue;
  texts.push(text);
}
const headings = [...document.querySelectorAll('h1, h2')].map(h => {
  const s = getComputedStyle(h);
  return {text: h.textContent.trim(), margin_top: s.marginTop, margin_bottom: s.marginBottom,
          font_size: parseFloat(s.fontSize), color: s.color,
          link_color: h.querySelector('a') ? getComputedStyle(h.querySelector('a')).color : null};
});
const links = [...document.querySelectorAll('a')].filter(visible).map(a => {
  const s = getComputedStyle(a);
  return {text: a.textContent.trim(), href: a.getAttribute('href'), color: s.color,
          decoration: s.textDecorationLine};
});
const buttons = [...document.querySelectorAll('.nb-button a')].map(a => {
  const box = a.getBoundingClientRect();
  const s = getComputedStyle(a);
  return {text: a.textContent.trim(), name: a.getAttribute('aria-label'), height: box.height,
          width: box.width, right: box.right, background: s.backgroundColor, color: s.color,
          line_height: parseFloat(s.lineHeight) || parseFloat(s.fontSize) * 1.25};
});
const cell = el => {
  for (let node = el; node; node = node.parentElement) {
    const color = getComputedStyle(node).backgroundColor;
    if (!/^rgba\(.*,\s*0\)$/.test(color) && color !== 'transparent') return color;
  }
  return 'rgb(255, 255, 255)';
};
const rules = [...document.querySelectorAll('.nb-rule')].map(p => ({
  color: getComputedStyle(p).borderTopColor, width: parseFloat(getComputedStyle(p).borderTopWidth),
  background: cell(p)}));
const cards = [...document.querySelectorAll('.nb-card td')].map(td => cell(td));
const contact = [...document.querySelectorAll('.nb-contact td')].map(td => cell(td));
const images = [...document.querySelectorAll('img')].map(img => {
  const s = getComputedStyle(img);
  const link = img.closest('a');
  return {alt: img.getAttribute('alt'), font_family: s.fontFamily,
          font_size: parseFloat(s.fontSize), color: s.color, complete: img.complete,
          natural_width: img.naturalWidth,
          link_decoration: link ? getComputedStyle(link).textDecorationLine : null};
});
return {texts, headings, links, buttons, rules, cards, contact, images,
        height: document.documentElement.scrollHeight,
        scroll_width: document.documentElement.scrollWidth};
"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's email HTML as sent, the same without <style>, and the archive page."""
    root = tmp_path_factory.mktemp("email-browser")
    project = copy_example_project(root / "project")
    set_setting(
        project,
        "site",
        "logo",
        {"url": "https://www.praktijkdelinde.nl/logo.png", "alt": "Praktijk De Linde"},
    )
    out = root / "public"
    result = CliRunner().invoke(cli, ["build", "-p", str(project), "-o", str(out), "--now", NOW])
    assert result.exit_code == 0, result.output
    raw = (out / "digests" / WEEK / "digest.eml").read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    part = message.get_body(("html",))
    assert part is not None
    html = part.get_content()
    (out / "email.html").write_text(html, encoding="utf-8")
    stripped = strip_styles(html)
    assert "<style" not in stripped.lower() and "<style" in html.lower()
    (out / "nostyle.html").write_text(stripped, encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def measure(session: Any, pages: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    shots = tmp_path_factory.mktemp("email-shots")
    seen: dict[tuple[str, int, str], dict[str, Any]] = {}
    with serve(pages) as base:

        def at(page: str, width: int, scheme: str = "light") -> dict[str, Any]:
            key = (page, width, scheme)
            if key not in seen:
                # inspect_digest sets the viewport and colour scheme, loads and screenshots.
                inspect_digest(
                    session, f"{base}/{page}", width, [], shots / f"{page}-{width}.png", scheme
                )
                seen[key] = session.execute_script(_MEASURE)
            return seen[key]

        yield at


@pytest.mark.parametrize("width", WIDTHS)
def test_without_style_elements_the_email_holds(width: int, measure: Any) -> None:
    styled = measure("email.html", width)
    bare = measure("nostyle.html", width)
    # No hidden text appears: the preheader stays hidden by its inline display:none.
    assert set(bare["texts"]) == set(styled["texts"])
    assert bare["scroll_width"] <= width
    # Heading margins are inline: the page is as long as with <style> (it grew by 145 px).
    assert abs(bare["height"] - styled["height"]) <= 0.01 * styled["height"]
    for heading in bare["headings"]:
        assert heading["margin_top"] == heading["margin_bottom"] == "0px", heading
    # Link colours are inline: the same colours, never the browser's default blue.
    assert [(link["href"], link["color"]) for link in bare["links"]] == [
        (link["href"], link["color"]) for link in styled["links"]
    ]
    assert DEFAULT_LINK_BLUE not in {link["color"] for link in bare["links"]}
    contact = [link for link in bare["links"] if link["href"].startswith(("tel:", "mailto:"))]
    assert contact and {link["color"] for link in contact} == {BRAND}
    # Buttons: one line each, inside the page, brand green with a white label.
    assert bare["buttons"] == styled["buttons"]
    for button in bare["buttons"]:
        assert button["height"] < 2 * button["line_height"] + 26, button
        assert button["right"] <= width and button["background"] == BRAND, button
        assert button["color"] == "rgb(255, 255, 255)", button


def test_every_button_has_an_accessible_name_without_hidden_text(measure: Any) -> None:
    report = measure("email.html", 375)
    titles = [h["text"] for h in report["headings"][1:]]
    reads = [b for b in report["buttons"] if b["text"] == "Lees verder"]
    assert len(reads) == len(titles) >= 2
    # The name a screen reader says starts with the visible label (WCAG 2.5.3) and names
    # the article, without any off-screen text.
    assert [b["name"] for b in reads] == [f"Lees verder: {title}" for title in titles]
    assert not [t for t in report["texts"] if t.startswith("over ")]


def test_with_images_blocked_alt_text_looks_like_the_email(measure: Any) -> None:
    report = measure("email.html", 600)
    images = report["images"]
    # The test machine cannot reach the practice's site: every image is "blocked".
    assert images and all(image["natural_width"] == 0 for image in images)
    for image in images:
        assert image["alt"], image
        family = image["font_family"].lower()
        assert "times" not in family and "helvetica" in family, image
        assert image["font_size"] >= 14, image
        assert image["color"] in ("rgb(92, 106, 112)", BRAND), image
        assert image["link_decoration"] in (None, "none"), image


def test_dark_mode_dividers_contact_block_and_titles(measure: Any) -> None:
    light = measure("email.html", 375, "light")
    dark = measure("email.html", 375, "dark")
    for report, limit in ((light, 3.0), (dark, 3.0)):
        assert report["rules"]
        for rule in report["rules"]:
            ratio = contrast_ratio(rule["color"], rule["background"])
            # Visible, but a quiet line, not a glaring one (#e4e0d8 on the dark card: 12:1).
            assert 1.2 <= ratio <= limit, rule
        # The contact block has its own tint, set apart from the cards around it.
        assert report["contact"] and set(report["contact"]).isdisjoint(
            set(report["cards"]) - set(report["contact"])
        )
    site_title, *article_titles = dark["headings"]
    assert site_title["color"] == "rgb(143, 208, 189)"  # the brand's light green in dark mode
    for title in article_titles:
        # Article titles stay a step below the site's name: smaller, not in the brand colour.
        assert title["font_size"] < site_title["font_size"]
        assert title["link_color"] != site_title["color"]
    assert light["headings"][0]["color"] == BRAND


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_archive_page_passes_aa_in_both_schemes(scheme: str, session: Any, tmp_path: Path) -> None:
    out = tmp_path / "public"
    result = CliRunner().invoke(cli, ["build", "-p", str(REPO), "-o", str(out), "--now", NOW])
    assert result.exit_code == 0, result.output
    with serve(out) as base:
        report = inspect_digest(
            session, f"{base}/digests/index.html", 375, [], tmp_path / "archive.png", scheme
        )
    assert report.texts
    for text in report.texts:
        large = text["font_size"] >= 24 or (
            text["font_size"] >= 18.66 and text["font_weight"] >= 700
        )
        ratio = contrast_ratio(text["color"], text["background"])
        assert ratio >= (3.0 if large else 4.5), (scheme, text, ratio)
