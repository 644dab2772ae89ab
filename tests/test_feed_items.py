"""Each feed item is built once and shared by every feed and page: the bytes stay feedgen's.

The reference below is the straightforward rendering the shared items replaced: a
feedgen entry per item per page, filled with the setters and serialized by rss_str /
atom_str, and a JSON Feed item dict per item per page. Every page of the main feed and of
topic feeds, current and archive, under settings an item shows (the default author, the
language, the crisis-line notice) and settings it does not (a topic's title and path), is
compared byte for byte, with the same article objects rendered under each in turn so a
shared item built for one settings is offered to the others.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import (
    REPO,
    assert_same_paged_builds,
)
from nieuwsbrief import feeds
from nieuwsbrief.articles import Article, parse_article
from nieuwsbrief.config import Settings, load_settings
from nieuwsbrief.errors import ArticleError
from nieuwsbrief.feeds import (
    ATOM_FILE,
    IMAGE_WIDTH,
    JSON_FILE,
    READ_MORE,
    RSS_FILE,
    Page,
    feed_url,
    image_type,
    last_updated,
    page_name,
    paginate,
)
from nieuwsbrief.jsonout import json_bytes
from nieuwsbrief.markup import strip_xml_illegal
from nieuwsbrief.topics import Topic, group_topics, topic_feeds, topic_settings

SETTINGS = load_settings(REPO / "schedule.yaml")
MOMENT = dt.datetime(2025, 11, 20, 10, tzinfo=SETTINGS.site.timezone)


# --- The reference: one feedgen entry per item and page, as feeds.py rendered before --------


def reference_content_html(article: Article, settings: Settings, archived: bool) -> str:
    from nieuwsbrief.notice import has_notice, notice_html

    if archived:
        body = (
            f"<p>{html.escape(article.summary)}</p>\n"
            f'<p><a href="{html.escape(article.url)}">{READ_MORE}</a></p>\n'
        )
    else:
        body = article.content_html
    body += notice_html(settings) if has_notice(settings, article) else ""
    if not article.image:
        return body
    image = (
        f'<p><img src="{html.escape(article.image)}" alt="{html.escape(article.image_alt or "")}"'
        f' width="{IMAGE_WIDTH}" style="max-width:100%;height:auto"></p>\n'
    )
    return image + body


def reference_fill(
    generator: Any, settings: Settings, articles: Sequence[Article], atom: bool, archived: bool
) -> None:
    newest = last_updated(articles)
    generator.updated(newest)
    generator.lastBuildDate(newest)
    if articles:
        generator.pubDate(max(article.date for article in articles))
    for article in articles:
        entry = generator.add_entry(order="append")
        entry.id(article.id)
        entry.guid(article.id, permalink=False)
        entry.title(article.title)
        entry.published(article.date)
        entry.updated(article.last_modified)
        entry.pubDate(article.date)
        author_name = article.author or settings.site.author.name
        entry.author({"name": author_name})
        for tag in article.tags:
            entry.category(term=tag, label=tag)
        extras = entry.nieuwsbrief
        if article.image:
            extras.image = (article.image, image_type(article.image), article.image_alt)
        content = reference_content_html(article, settings, archived)
        if atom:
            extras.links = [{"rel": "alternate", "type": "text/html", "href": article.url}]
            if article.image:
                extras.links.append(
                    {"rel": "enclosure", "type": image_type(article.image), "href": article.image}
                )
            entry.summary(article.summary, type="text")
            entry.content(content, type="html")
        else:
            entry.link(href=article.url, rel="alternate")
            entry.dc.dc_creator(author_name)
            entry.description(html.escape(article.summary, quote=False))
            entry.content(content, type="CDATA")
            if article.image:
                entry.enclosure(article.image, "0", image_type(article.image))


def reference_rss(
    settings: Settings, articles: Sequence[Article], page: Page | None = None
) -> bytes:
    page = page or Page(None, articles)
    generator = feeds._generator(settings, RSS_FILE, page)
    reference_fill(generator, settings, page.articles, False, page.number is not None)
    return generator.rss_str(pretty=True)  # type: ignore[no-any-return]


def reference_atom(
    settings: Settings, articles: Sequence[Article], page: Page | None = None
) -> bytes:
    page = page or Page(None, articles)
    generator = feeds._generator(settings, ATOM_FILE, page)
    reference_fill(generator, settings, page.articles, True, page.number is not None)
    return generator.atom_str(pretty=True)  # type: ignore[no-any-return]


def reference_json(
    settings: Settings, articles: Sequence[Article], page: Page | None = None
) -> bytes:
    page = page or Page(None, articles)
    site = settings.site
    items: list[dict[str, Any]] = []
    for article in page.articles:
        author = {"name": article.author or site.author.name}
        item: dict[str, Any] = {
            "id": article.id,
            "url": article.url,
            "title": article.title,
            "content_html": reference_content_html(article, settings, page.number is not None),
            "summary": article.summary,
            "date_published": article.date.isoformat(),
            "date_modified": article.last_modified.isoformat(),
            "authors": [author],
            "author": author,
            "tags": list(article.tags),
            "language": site.language,
        }
        if article.image:
            item["image"] = article.image
        items.append(item)
    site_author: dict[str, str] = {"name": site.author.name}
    document: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": site.title,
        "home_page_url": site.base_url + "/",
        "feed_url": feed_url(settings, page.name(JSON_FILE)),
        "description": site.description,
        "language": site.language,
        "authors": [site_author],
        "author": site_author,
    }
    if site.logo:
        document["icon"] = site.logo.url
    if site.icon:
        document["favicon"] = site.icon
    if settings.feeds.websub_hub:
        document["hubs"] = [{"type": "WebSub", "url": settings.feeds.websub_hub}]
    if page.prev_archive is not None:
        document["next_url"] = feed_url(settings, page_name(JSON_FILE, page.prev_archive))
    document["items"] = items
    if page.number is not None:
        return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    return json_bytes(document)


REFERENCE = {RSS_FILE: reference_rss, ATOM_FILE: reference_atom, JSON_FILE: reference_json}
SHARED = {
    RSS_FILE: feeds.render_rss,
    ATOM_FILE: feeds.render_atom,
    JSON_FILE: feeds.render_json_feed,
}


# --- Articles and settings ------------------------------------------------------------------


def make_article(
    number: int,
    *,
    title: str = "Titel",
    body: str = "Tekst van het artikel.",
    tags: Sequence[str] = (),
    author: str | None = None,
    image: str | None = None,
    image_alt: str | None = None,
    summary: str | None = None,
    crisis_notice: bool | None = None,
    days: int = 0,
) -> Article:
    front: dict[str, object] = {
        "title": title,
        "date": (MOMENT - dt.timedelta(days=days, minutes=number)).isoformat(),
        "tags": list(tags),
    }
    for key, value in (
        ("author", author),
        ("image", image),
        ("image_alt", image_alt),
        ("summary", summary),
        ("crisis_notice", crisis_notice),
    ):
        if value is not None:
            front[key] = value
    text = "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + body
    path = Path(f"2025-11-{20 - days % 19:02d}-artikel-{number}.md")
    return parse_article(path, strip_xml_illegal(text), SETTINGS.site)


def newest_first(articles: Sequence[Article]) -> list[Article]:
    return sorted(articles, key=lambda article: (article.date, article.slug), reverse=True)


def small_pages(base: Settings, limit: int = 2, size: int = 2) -> Settings:
    return dataclasses.replace(
        base, feeds=dataclasses.replace(base.feeds, limit=limit, archive_size=size)
    )


def variants(base: Settings) -> list[Settings]:
    """Settings that change what items show, and a topic's, which changes only the page."""
    other_author = dataclasses.replace(
        base.site, author=dataclasses.replace(base.site.author, name="Iemand Anders")
    )
    notice_text = dataclasses.replace(
        base.topics, crisis_notice="Praat erover: bel 113 of kijk op 113.nl."
    )
    no_crisis_topics = dataclasses.replace(base.topics, crisis_topics=("slaap",))
    topic = Topic("slaap", "Slaap & rust", None, ("slaap",))
    return [
        base,
        dataclasses.replace(base, site=other_author),
        dataclasses.replace(base, site=dataclasses.replace(base.site, language="en")),
        dataclasses.replace(base, topics=notice_text),
        dataclasses.replace(base, topics=no_crisis_topics),
        topic_settings(base, topic),
        base,
    ]


def assert_pages_equal(settings: Settings, articles: Sequence[Article]) -> int:
    """Render every page both ways; return how many documents were compared."""
    compared = 0
    for page in paginate(settings, articles):
        for kind, reference in REFERENCE.items():
            expected = reference(settings, page.articles, page)
            assert SHARED[kind](settings, page.articles, page) == expected, page.name(kind)
            compared += 1
    return compared


# --- Tests ----------------------------------------------------------------------------------


RICH = [
    make_article(
        1,
        title="Slapen & <piekeren>",
        body="Lig je wakker? *Schrijf* het op.\n\n```\n]]> en <item> in code\n```\n",
        tags=("Slaap", "piekeren"),
        image="https://voorbeeld.example.nl/beelden/maan.jpg",
        image_alt='Een maan "boven" een huis',
    ),
    make_article(
        2,
        title="Over zelfdoding praten",
        body="Praat erover, ook als het moeilijk is.",
        tags=("zelfdoding",),
        author="Dr. J. de Vries",
        days=1,
    ),
    make_article(
        3,
        title="Eigen samenvatting",
        body="Lange tekst " * 50,
        tags=("slaap",),
        summary="Een samenvatting met ]]> en & erin.",
        crisis_notice=True,
        days=2,
    ),
    make_article(
        4,
        title="Geen melding",
        body="Over zelfmoord, maar zonder melding.",
        tags=("zelfmoord", "Slaap"),
        crisis_notice=False,
        image="https://voorbeeld.example.nl/beelden/notitie.png?v=2#boven",
        days=3,
    ),
    make_article(5, title="Zonder tags", body="Kort.", days=4),
    make_article(6, title="Ünïcode — “quotes” 🌙", body="Tekst met ü en 🌙.", days=5),
]


def test_every_page_of_every_settings_is_the_reference_rendering() -> None:
    articles = newest_first(RICH)
    compared = 0
    for one in variants(small_pages(SETTINGS)):
        compared += assert_pages_equal(one, articles)
    # 7 settings, a current page and 3 archive pages, 3 formats.
    assert compared == 7 * 4 * 3
    # The shared items were used: each article has them, for more than one settings.
    assert all(len(feeds._memo(article)) > 3 for article in articles)


def test_the_main_and_topic_feeds_are_the_reference_rendering() -> None:
    settings = small_pages(SETTINGS, limit=2, size=2)
    published = newest_first(RICH)
    main = feeds.render_feeds(settings, published)
    topics = group_topics(settings, published)
    assert len(topics) >= 3
    files = dict(main)
    for topic in topics:
        files.update(topic_feeds(settings, topic))
    # After its last topic (in slug order), no article keeps shared items.
    assert not any(id(article) in feeds._ITEMS for article in published if article.tags)
    # The same, with every page rendered the old way.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(feeds, "render_rss", reference_rss)
        patch.setattr(feeds, "render_atom", reference_atom)
        patch.setattr(feeds, "render_json_feed", reference_json)
        expected = dict(feeds.render_feeds(settings, published))
        for topic in topics:
            expected.update(topic_feeds(settings, topic))
    assert sorted(files) == sorted(expected)
    assert any(name.startswith("tags/slaap/archive/") for name in files)
    for name in sorted(expected):
        assert files[name] == expected[name], name


def test_a_page_whose_layout_is_not_the_expected_one_is_built_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # If lxml ever pretty-printed the end of a page differently, the items are not spliced.
    monkeypatch.setattr(feeds, "_XML_ENDS", {RSS_FILE: b"</niet>\n", ATOM_FILE: b"</niet>\n"})
    articles = newest_first(RICH)
    assert assert_pages_equal(small_pages(SETTINGS), articles) == 4 * 3


def test_shared_items_are_dropped_with_their_articles() -> None:
    articles = [make_article(number, title=f"Weg {number}", days=number) for number in (7, 8)]
    feeds.render_rss(SETTINGS, articles)
    keys = [id(article) for article in articles]
    assert all(key in feeds._ITEMS for key in keys)
    del articles
    gc.collect()
    assert not any(key in feeds._ITEMS for key in keys)


def test_an_article_with_the_same_fields_gets_its_own_items() -> None:
    # A changed article is a new object: nothing of the old one's items is reused.
    old = make_article(9, title="Oud", body="Eerste versie.")
    new = make_article(9, title="Oud", body="Tweede versie.")
    assert b"Eerste versie." in feeds.render_rss(SETTINGS, [old])
    rendered = feeds.render_rss(SETTINGS, [new])
    assert b"Tweede versie." in rendered and b"Eerste versie." not in rendered
    assert rendered == reference_rss(SETTINGS, [new])


TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
TITLES = TEXT.filter(lambda title: strip_xml_illegal(title).strip() != "")
ARTICLES = st.lists(
    st.fixed_dictionaries(
        {
            "title": TITLES,
            "body": st.text(st.characters(exclude_categories=("Cs",)), max_size=120)
            | st.sampled_from(["]]>", "<b>&amp;</b>", "a\n\n```\n]]>\n```"]),
            "tags": st.lists(
                st.sampled_from(["slaap", "Slaap", "zelfdoding", "Ångst"]), max_size=3
            ),
            "author": st.none() | TITLES,
            "image": st.none()
            | st.sampled_from(["https://a.example/b.png", "https://a.example/c d.webp?x=1&y=2"]),
            "image_alt": st.none() | TEXT,
            "summary": st.none() | TEXT,
            "crisis_notice": st.sampled_from([None, True, False]),
        }
    ),
    min_size=1,
    max_size=5,
)


def valid_article(number: int, fields: dict[str, Any]) -> Article | None:
    """Return the article, or None for an input the article parser refuses (not a case)."""
    try:
        return make_article(number, days=number, **fields)
    except ArticleError:
        return None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=ARTICLES, limit=st.integers(1, 3), size=st.integers(1, 3))
def test_any_articles_give_the_reference_bytes(
    fields: list[dict[str, Any]], limit: int, size: int
) -> None:
    articles = newest_first(
        [found for number, one in enumerate(fields) if (found := valid_article(number, one))]
    )
    for one in variants(small_pages(SETTINGS, limit, size))[:4]:
        assert_pages_equal(one, articles)


def test_a_build_with_shared_items_equals_one_without(tmp_path: Path) -> None:
    """The whole build: every output file and the build's report, with the reference feeds."""

    def reference_feeds(patch: pytest.MonkeyPatch) -> None:
        patch.setattr(feeds, "render_rss", reference_rss)
        patch.setattr(feeds, "render_atom", reference_atom)
        patch.setattr(feeds, "render_json_feed", reference_json)

    assert_same_paged_builds(tmp_path, reference_feeds)
