"""A person who opens a feed in a browser sees a Dutch page explaining it, not raw XML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner

from browser import serve
from conftest import NOW, copy_example_project, set_setting, write_article
from nieuwsbrief.cli import cli

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_example_project(tmp_path_factory.mktemp("feed-browser") / "project")
    set_setting(project, "feeds", "limit", 3)
    set_setting(project, "feeds", "archive_size", 4)
    write_article(
        project,
        "2025-11-21-tekens.md",
        title="Angst & <paniek>",
        date="2025-11-21T10:00:00+01:00",
        summary="Over angst & <paniek>: wat helpt?",
    )
    out = project.parent / "public"
    result = CliRunner().invoke(cli, ["build", "-p", str(project), "-o", str(out), "--now", NOW])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize(
    "name, kind",
    [("feed.xml", "RSS"), ("atom.xml", "Atom"), ("archive/feed-1.xml", "RSS")],
)
def test_a_feed_opened_in_chromium_shows_the_dutch_page(
    session: Any, site: Path, name: str, kind: str
) -> None:
    entries = feedparser.parse((site / name).read_bytes()).entries
    assert entries
    with serve(site) as base:
        session.get(f"{base}/{name}")
        page = session.execute_script(
            """
            return {
              contentType: document.contentType,
              url: document.URL,
              heading: document.querySelector('h1') && document.querySelector('h1').textContent,
              text: document.body ? document.body.innerText : '',
              titles: [...document.querySelectorAll('li h2 a')].map(a => a.textContent.trim()),
              links: [...document.querySelectorAll('li h2 a')].map(a => a.href),
              lang: document.documentElement.lang,
            };
            """
        )
    # The XML document at this address became the XSLT's HTML page, not the XML tree viewer.
    assert page["url"].endswith("/" + name)
    assert page["contentType"] == "text/html"
    assert "does not appear to have any style information" not in page["text"]
    assert page["lang"] == "nl"
    assert page["heading"] == "Praktijk De Linde"
    assert f"Dit is een {kind}-feed: kopieer dit adres in je feedlezer" in " ".join(
        page["text"].split()
    )
    assert f"https://www.praktijkdelinde.nl/{name}" in page["text"]
    assert page["titles"] == [entry.title for entry in entries]
    assert page["links"] == [entry.link for entry in entries]
    # Dates the Dutch way, and the teaser as readable text (no escaped markup).
    first = entries[0]
    day = int(first.published[8:10]) if kind == "Atom" else int(first.published[5:7])
    assert f"{day} " in page["text"]
    if name != "archive/feed-1.xml":
        # Text with & and < reads as written: not escaped twice, not taken for markup.
        assert "Angst & <paniek>" in page["titles"]
        assert "Over angst & <paniek>: wat helpt?" in page["text"]
        assert "&amp;" not in page["text"] and "&lt;" not in page["text"]
    months = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus")
    assert any(month in page["text"] for month in (*months, "september", "oktober", "november"))
    assert first.summary[:40].split("&")[0] in page["text"]
