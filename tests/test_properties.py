"""Properties over arbitrary input: every feed parses, every .eml parses, teasers cut cleanly."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from pathlib import Path

import feedparser
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from nieuwsbrief.articles import parse_article
from nieuwsbrief.config import load_settings
from nieuwsbrief.markup import strip_xml_illegal, teaser

# Any Unicode except surrogates (which no file can hold as UTF-8).
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)
TITLES = ANY_TEXT.filter(lambda title: strip_xml_illegal(title).strip() != "")
BODIES = st.text(st.characters(exclude_categories=("Cs",)), max_size=400)
TAGS = st.lists(ANY_TEXT, max_size=4)
SETTINGS = load_settings(REPO / "schedule.yaml")
MOMENT = dt.datetime(2025, 11, 20, 10, tzinfo=SETTINGS.site.timezone)


def article_text(title: str, tags: list[str], body: str, summary: str | None) -> str:
    front: dict[str, object] = {"title": title, "date": MOMENT.isoformat(), "tags": tags}
    if summary is not None:
        front["summary"] = summary
    return "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + body


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=TITLES, tags=TAGS, body=BODIES, summary=st.none() | ANY_TEXT)
def test_any_article_gives_valid_feeds_and_email(
    title: str, tags: list[str], body: str, summary: str | None
) -> None:
    from nieuwsbrief.digest import render_digest
    from nieuwsbrief.feeds import render_atom, render_json_feed, render_rss
    from nieuwsbrief.schedule import latest_send_moment, window_ending_at

    text = strip_xml_illegal(article_text(title, tags, body, summary))
    article = parse_article(Path("2025-11-20-eigenschap.md"), text, SETTINGS.site)
    for rendered in (render_rss(SETTINGS, [article]), render_atom(SETTINGS, [article])):
        parsed = feedparser.parse(rendered)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert len(parsed.entries) == 1
    assert json.loads(render_json_feed(SETTINGS, [article]))["items"][0]["title"] == article.title
    window = window_ending_at(
        SETTINGS.digest, latest_send_moment(SETTINGS.digest, MOMENT + dt.timedelta(days=7))
    )
    digest, _ = render_digest(SETTINGS, window, [article])
    message = email.message_from_bytes(digest.eml, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    assert plain is not None and article.title.split()[0] in plain.get_content()


WORDS = st.lists(
    st.one_of(
        st.text(
            st.characters(exclude_categories=("Cs", "Zs", "Cc", "Zl", "Zp")),
            min_size=1,
            max_size=12,
        ),
        st.sampled_from(["&amp;", "&eacute;", "&#8364;", "café", "’s", "één"]),
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(words=WORDS, limit=st.integers(min_value=10, max_value=300))
def test_teaser_never_cuts_a_word_or_entity(words: list[str], limit: int) -> None:
    text = " ".join(words)
    result = teaser(text, limit)
    if result == text:
        return
    assert result.endswith("…")
    kept = result[:-1].split()
    assert kept, "a teaser keeps at least the first word"
    # Every kept word is whole: the original words, in order, from the start.
    assert kept[:-1] == words[: len(kept) - 1]
    last = words[len(kept) - 1]
    assert kept[-1] == last or (last.startswith(kept[-1]) and kept[-1] == last.rstrip(" ,;:-–—"))
    assert len(result) <= limit or len(kept) == 1


def test_teaser_of_one_long_word_keeps_it_whole() -> None:
    word = "a" * 50
    assert teaser(word, 10) == word
