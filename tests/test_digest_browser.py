"""The digest in real headless Chromium at desktop (600 px) and phone (375 px) widths."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import chromium, find_browser, inspect_digest, serve
from conftest import NOW, REPO, RunCli

pytestmark = pytest.mark.browser
WEEK = "2025-W48"


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    found = find_browser()
    if found is None:
        message = (
            "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        )
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run must install them")
        pytest.skip(message)
    with chromium(*found) as browser:
        yield browser


@pytest.mark.parametrize("width", [600, 375])
def test_digest_fits_and_shows_every_title(
    width: int, session: Any, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "public"
    assert run_cli("build", "-p", REPO, "-o", out, "--now", NOW).exit_code == 0
    manifest = json.loads((out / "digests" / WEEK / "manifest.json").read_text("utf-8"))
    titles = [article["title"] for article in manifest["articles"]]
    assert titles
    screenshot = tmp_path / f"digest-{width}.png"
    with serve(out) as base:
        report = inspect_digest(
            session, f"{base}/digests/{WEEK}/digest.html", width, titles, screenshot
        )
    assert report.width == width
    assert report.scroll_width <= width, "the digest scrolls sideways"
    for title in titles:
        box = report.titles[title]
        assert box["found"] and box["visible"], title
        assert box["width"] > 0 and box["height"] > 0, title
        assert box["left"] >= 0 and box["right"] <= width, title
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert screenshot.stat().st_size > 10_000
