"""Open a built digest in headless Chromium at phone and desktop widths.

Used by tests/test_digest_browser.py, and to regenerate the README's screenshots:

    .venv/bin/python tests/browser.py docs/
"""

from __future__ import annotations

import contextlib
import functools
import http.server
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
    # The article images point at the practice's real site, which a test machine cannot
    # reach; map every host but loopback to nothing so loading fails fast, offline.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def find_browser() -> tuple[str, str] | None:
    """Return the paths of chromium and chromedriver, or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on a free loopback port; yield its base URL."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class PageReport:
    """What the page looked like at one width."""

    width: int
    scroll_width: int
    client_width: int
    titles: dict[str, dict[str, float | bool]]
    screenshot: Path


@contextlib.contextmanager
def chromium(browser: str, driver: str) -> Iterator[Any]:
    """Start headless Chromium through chromedriver; quit it afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="nieuwsbrief-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
        try:
            session.set_page_load_timeout(30)
            yield session
        finally:
            session.quit()


_MEASURE_TITLES = """
const titles = arguments[0];
const result = {};
for (const title of titles) {
  const match = [...document.querySelectorAll('h2 a')].find(a => a.textContent.trim() === title);
  if (!match) { result[title] = {found: false}; continue; }
  const box = match.getBoundingClientRect();
  const style = getComputedStyle(match);
  result[title] = {found: true, left: box.left, right: box.right, width: box.width,
                   height: box.height, visible: style.visibility !== 'hidden'
                   && style.display !== 'none' && parseFloat(style.opacity) > 0};
}
return result;
"""


def inspect_digest(
    session: Any, url: str, width: int, titles: list[str], screenshot: Path
) -> PageReport:
    """Load ``url`` with a viewport ``width`` px wide; measure titles, overflow, screenshot."""
    # Set the window so the *viewport* (not the window frame) is exactly ``width`` wide.
    session.set_window_size(width, 900)
    session.get("about:blank")
    inner = session.execute_script("return window.innerWidth")
    session.set_window_size(width + (width - inner), 900)
    session.get(url)
    height = session.execute_script("return document.documentElement.scrollHeight")
    session.set_window_size(width + (width - inner), min(int(height) + 100, 6000))
    report = PageReport(
        width=int(session.execute_script("return window.innerWidth")),
        scroll_width=int(session.execute_script("return document.documentElement.scrollWidth")),
        client_width=int(session.execute_script("return document.documentElement.clientWidth")),
        titles=session.execute_script(_MEASURE_TITLES, titles),
        screenshot=screenshot,
    )
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    session.save_screenshot(str(screenshot))
    return report


def main(destination: Path) -> None:
    """Build the example digest and write docs screenshots at 600 and 375 px."""
    import json

    from nieuwsbrief.build import build
    from nieuwsbrief.cli import NowParam

    found = find_browser()
    if found is None:
        raise SystemExit(
            "chromium and chromedriver are needed: apt-get install chromium chromium-driver"
        )
    repo = Path(__file__).resolve().parent.parent
    now = NowParam().convert("2025-11-24T09:00:00+01:00", None, None)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "public"
        result = build(repo, out, now)
        week = result.digest_week
        manifest = json.loads((out / "digests" / f"{week}" / "manifest.json").read_text("utf-8"))
        titles = [article["title"] for article in manifest["articles"]]
        with serve(out) as base, chromium(*found) as session:
            for width in (600, 375):
                report = inspect_digest(
                    session,
                    f"{base}/digests/{week}/digest.html",
                    width,
                    titles,
                    destination / f"digest-{width}.png",
                )
                print(f"{width}px: scrollWidth {report.scroll_width}, {report.screenshot}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
