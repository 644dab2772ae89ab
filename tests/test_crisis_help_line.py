"""Only a 113 to call spares an article the crisis-notice warning (probe 12, finding 2).

check warns when an article speaks of suicide without the notice, unless its text gives the
help line itself. A house number, a page number or the link text "[113
Zelfmoordpreventie](https://www.113.nl)" gives a reader in crisis no number to call, so it
no longer counts; "bel 113", "113 bellen", 0800-0113 and a tel: link do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import NOW, REPO, RunCli, write_article
from nieuwsbrief.articles import load_articles
from nieuwsbrief.config import load_settings
from nieuwsbrief.notice import crisis_word, gives_help_line, has_notice

CALLS = [
    "Bel 113.",
    "Bel **113** of gratis 0800-0113.",
    "Bel gratis 0800 0113, dag en nacht.",
    "Bel 08000113.",
    "Je kunt 113 bellen, ook 's nachts.",
    "Bel je huisarts of 113.",
    "Bel of chat met 113.",
    "Telefoon: 113.",
    "[Bel ons](tel:113) of chat via 113.nl.",
    '<a href="tel:0800-0113">gratis</a>',
]
NOT_CALLS = [
    "Je kunt terecht bij ons, Lindengracht 113.",
    "Lees meer op pagina 113 van het boek.",
    "Neem contact op met [113 Zelfmoordpreventie](https://www.113.nl).",
    "Chat via 113.nl.",
    "Bel 1130 voor een afspraak.",
    "Bel ons op 020 123 4567, Lindengracht 113.",
    "Zie pagina 113 of bel de huisarts.",
    "113",
]
TEXT = "Jongeren met zelfmoordgedachten kunnen hulp vinden. "


@pytest.mark.parametrize("sentence", CALLS)
def test_a_113_to_call_gives_the_help_line(sentence: str) -> None:
    assert gives_help_line(TEXT + sentence)


@pytest.mark.parametrize("sentence", NOT_CALLS)
def test_a_113_that_is_not_a_number_to_call_does_not(sentence: str) -> None:
    assert not gives_help_line(TEXT + sentence)


def _crisis_lines(project: Path, run_cli: RunCli, sentence: str) -> list[str]:
    write_article(
        project,
        "2025-11-20-jong.md",
        TEXT + sentence,
        title="Zelfmoordgedachten bij jongeren",
        date="2025-11-20",
        summary="Waar je terecht kunt.",
    )
    result = run_cli("check", "-p", project, "--now", NOW)
    return [line for line in result.output.splitlines() if "jong.md" in line]


@pytest.mark.parametrize("sentence", NOT_CALLS[:3])
def test_check_warns_about_an_article_whose_113_is_no_number_to_call(
    sentence: str, project: Path, run_cli: RunCli
) -> None:
    [line] = _crisis_lines(project, run_cli, sentence)
    assert line.startswith("warning:") and "field 'tags'" in line
    assert "crisis-line notice" in line and "'zelfmoord'" in line


@pytest.mark.parametrize("sentence", CALLS[:3])
def test_check_does_not_warn_when_the_text_gives_a_number_to_call(
    sentence: str, project: Path, run_cli: RunCli
) -> None:
    assert _crisis_lines(project, run_cli, sentence) == []


def test_every_example_article_about_suicide_carries_the_notice() -> None:
    """The shipped examples show the guideline: the notice, not only a link to 113.nl."""
    settings = load_settings(REPO / "schedule.yaml")
    articles = load_articles(REPO / "articles", settings.site)
    about = [
        article
        for article in articles
        if crisis_word(settings, f"{article.title}\n{article.summary}\n{article.body}")
        or "zelfdoding" in article.body
    ]
    names = {article.source.name for article in about}
    assert "2025-11-03-winterdip.md" in names
    assert "2025-10-01-wanneer-hulp-zoeken-en-je-eerste-afspraak.md" in names
    assert [a.source.name for a in about if not has_notice(settings, a)] == []
    rouw = next(a for a in articles if a.source.name == "2025-12-08-rouw-rond-de-feestdagen.md")
    assert has_notice(settings, rouw)  # "Denk je aan de dood als uitweg?"


def test_the_example_feed_gives_the_numbers_with_winterdip(
    tmp_path: Path, project: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "out"
    assert run_cli("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    # The JSON feed as written: feedparser's sanitizer would drop the tel: links.
    items = json.loads((out / "feed.json").read_text("utf-8"))["items"]
    [winterdip] = [item for item in items if item["url"].endswith("/winterdip/")]
    content = winterdip["content_html"]
    for link in ('href="tel:113"', 'href="tel:08000113"', ">0800-0113<"):
        assert link in content, link
