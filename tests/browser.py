"""Open a built digest in headless Chromium at phone and desktop widths.

Used by tests/test_digest_browser.py, and to regenerate the README's screenshots:

    .venv/bin/python tests/browser.py docs/          # docs/digest-600.png, docs/digest-375.png
    .venv/bin/python tests/browser.py docs/ dark     # docs/digest-*-dark.png, in dark mode
    .venv/bin/python tests/browser.py docs/ nostyle  # the email with <style> removed, as
                                                     # Gmail's apps show it for other accounts
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import http.server
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # CI containers often give /dev/shm only 64 MB, where Chromium crashes mid-screenshot.
    "--disable-dev-shm-usage",
    # The article images point at the practice's real site, which a test machine cannot
    # reach; map every host but loopback to nothing so loading fails fast, offline.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
# Widths the digest must work at: its own 600 px layout, and a common phone.
WIDTHS = (600, 375)
# Phones lay out at the viewport meta's width; anything narrower than this is a phone.
PHONE_MAX_WIDTH = 480


def find_browser() -> tuple[str, str] | None:
    """Return the paths of chromium and chromedriver, or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on a free loopback port; yield its base URL."""
    from nieuwsbrief.preview import QuietHandler

    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium(browser: str, driver: str) -> Iterator[Any]:
    """Start headless Chromium through the given chromedriver; quit it afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="nieuwsbrief-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        # An explicit driver path: selenium must never try to download one.
        session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
        try:
            # The remote images fail at DNS at once; this only bounds a broken page.
            session.set_page_load_timeout(30)
            yield session
        finally:
            session.quit()


@dataclass
class PageReport:
    """What the page looked like at one width and colour scheme."""

    width: int
    scroll_width: int
    titles: dict[str, dict[str, Any]]
    resources: list[dict[str, Any]]
    requested: list[str]
    texts: list[dict[str, Any]]
    screenshot: Path


_MEASURE = r"""
const titles = arguments[0];
const found = {};
const links = [...document.querySelectorAll('a')];
for (const title of titles) {
  const match = links.find(a => a.textContent.trim() === title);
  if (!match) { found[title] = {found: false}; continue; }
  const box = match.getBoundingClientRect();
  const style = getComputedStyle(match);
  // Whatever is painted at the middle of the title's first line must be the title itself,
  // not something covering it (the box's own centre may fall between two lines).
  const line = match.getClientRects()[0];
  const hit = document.elementFromPoint(line.left + line.width / 2, line.top + line.height / 2);
  found[title] = {found: true, left: box.left, right: box.right, width: box.width,
                  height: box.height, on_top: hit !== null && match.contains(hit),
                  visible: style.visibility !== 'hidden' && style.display !== 'none'
                           && parseFloat(style.opacity) > 0};
}
const resources = [];
for (const el of document.querySelectorAll(
    'img, link, script, iframe, frame, object, embed, video, audio, source, input[type=image]')) {
  resources.push({tag: el.tagName.toLowerCase(),
                  url: el.getAttribute('src') || el.getAttribute('href')
                       || el.getAttribute('data') || '',
                  rel: el.getAttribute('rel'), alt: el.getAttribute('alt'),
                  width: el.getAttribute('width')});
}
for (const el of document.querySelectorAll('*')) {
  const image = getComputedStyle(el).backgroundImage;
  for (const m of image.matchAll(/url\("?([^")]*)"?\)/g)) {
    resources.push({tag: 'css', url: m[1], rel: null, alt: null, width: null});
  }
}
// Every piece of text a reader sees, with its colour and the colour painted behind it.
const background = el => {
  for (let node = el; node; node = node.parentElement) {
    const color = getComputedStyle(node).backgroundColor;
    if (!/^rgba\(.*,\s*0\)$/.test(color) && color !== 'transparent') return color;
  }
  // Nothing painted: the canvas, which is dark only when the page opts in to dark mode.
  const dark = getComputedStyle(document.documentElement).colorScheme.includes('dark')
    && matchMedia('(prefers-color-scheme: dark)').matches;
  return dark ? 'rgb(18, 18, 18)' : 'rgb(255, 255, 255)';
};
const texts = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const text = node.textContent.trim();
  const el = node.parentElement;
  if (!text || !el) continue;
  const range = document.createRange();
  range.selectNodeContents(node);
  const box = range.getBoundingClientRect();
  const style = getComputedStyle(el);
  // Skip what is not painted: the preheader and off-screen labels for screen readers.
  if (box.width === 0 || box.height === 0 || box.right <= 0 || box.left >= innerWidth
      || style.visibility === 'hidden' || parseFloat(style.opacity) === 0
      || el.closest('[style*="display:none"], [style*="display: none"]')) continue;
  texts.push({text: text.slice(0, 60), color: style.color, background: background(el),
              font_size: parseFloat(style.fontSize), font_weight: parseInt(style.fontWeight)});
}
return {titles: found, resources: resources, texts: texts,
        requested: performance.getEntriesByType('resource').map(e => e.name)};
"""


def inspect_digest(
    session: Any,
    url: str,
    width: int,
    titles: list[str],
    screenshot: Path,
    scheme: str = "light",
) -> PageReport:
    """Load ``url`` in a viewport ``width`` px wide; measure it and save a full-page PNG."""
    mobile = width <= PHONE_MAX_WIDTH

    def viewport(height: int) -> None:
        # Emulate the viewport itself: a window size would include the window frame, and
        # headless Chromium caps windows at its 1080 px high virtual screen.
        session.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    session.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )
    viewport(900)
    session.get(url)
    # Make the viewport as tall as the page, so the screenshot and elementFromPoint see it all.
    viewport(int(session.execute_script("return document.documentElement.scrollHeight")))
    measured = session.execute_script(_MEASURE, titles)
    report = PageReport(
        width=int(session.execute_script("return window.innerWidth")),
        scroll_width=int(session.execute_script("return document.documentElement.scrollWidth")),
        titles=measured["titles"],
        resources=measured["resources"],
        requested=measured["requested"],
        texts=measured["texts"],
        screenshot=screenshot,
    )
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    session.save_screenshot(str(screenshot))
    return report


def parse_color(css: str) -> tuple[float, float, float, float]:
    """Parse a computed CSS colour, ``rgb(r, g, b)`` or ``rgba(r, g, b, a)``."""
    match = re.fullmatch(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)", css)
    if match is None:
        raise ValueError(f"not a computed CSS colour: {css!r}")
    red, green, blue, alpha = match.groups()
    return float(red), float(green), float(blue), float(alpha) if alpha is not None else 1.0


def contrast_ratio(foreground: str, background: str) -> float:
    """Return the WCAG 2 contrast ratio of text colour ``foreground`` on ``background``."""

    def luminance(rgb: tuple[float, float, float]) -> float:
        def channel(value: float) -> float:
            value /= 255
            return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

        red, green, blue = (channel(value) for value in rgb)
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    back = parse_color(background)[:3]
    *front, alpha = parse_color(foreground)
    # Semi-transparent text is blended over what is behind it.
    blended = (
        front[0] * alpha + back[0] * (1 - alpha),
        front[1] * alpha + back[1] * (1 - alpha),
        front[2] * alpha + back[2] * (1 - alpha),
    )
    lighter, darker = sorted((luminance(blended), luminance(back)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def strip_styles(html: str) -> str:
    """Remove every <style> element, as Gmail does where it drops them."""
    return re.sub(r"<style\b[^>]*>.*?</style>", "", html, flags=re.S | re.I)


def main(destination: Path, scheme: str = "light") -> None:
    """Build the example digest and write screenshots at 600 and 375 px.

    ``scheme`` is light, dark, or nostyle: the email's HTML part without its <style>.
    """
    import email
    import email.policy
    import json

    from nieuwsbrief.build import build

    found = find_browser()
    if found is None:
        raise SystemExit(
            "chromium and chromedriver are needed: apt-get install chromium chromium-driver"
        )
    repo = Path(__file__).resolve().parent.parent
    now = dt.datetime.fromisoformat("2025-11-24T09:00:00+01:00")
    suffix = "" if scheme == "light" else f"-{scheme}"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "public"
        week = build(repo, out, now).digest_week
        if week is None:
            raise SystemExit("the example project has no digest for 2025-11-24")
        manifest = json.loads((out / "digests" / week / "manifest.json").read_text("utf-8"))
        titles = [article["title"] for article in manifest["articles"]]
        page = f"digests/{week}/digest.html"
        if scheme == "nostyle":
            raw = (out / "digests" / week / "digest.eml").read_bytes()
            part = email.message_from_bytes(raw, policy=email.policy.default).get_body(("html",))
            assert part is not None
            page = "nostyle.html"
            (out / page).write_text(strip_styles(part.get_content()), encoding="utf-8")
        with serve(out) as base, chromium(*found) as session:
            for width in WIDTHS:
                report = inspect_digest(
                    session,
                    f"{base}/{page}",
                    width,
                    titles,
                    destination / f"digest-{width}{suffix}.png",
                    "light" if scheme == "nostyle" else scheme,
                )
                print(f"{width}px {scheme}: scrollWidth {report.scroll_width}, {report.screenshot}")


if __name__ == "__main__":
    main(
        Path(sys.argv[1] if len(sys.argv) > 1 else "docs"),
        sys.argv[2] if len(sys.argv) > 2 else "light",
    )
