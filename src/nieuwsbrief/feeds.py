"""Render RSS 2.0 and Atom 1.0 (with feedgen) and JSON Feed 1.1."""

from __future__ import annotations

import datetime as dt
import html
import json
import mimetypes
from collections.abc import Sequence
from typing import Any

from nieuwsbrief import __version__
from nieuwsbrief.articles import Article
from nieuwsbrief.config import Settings

RSS_FILE = "feed.xml"
ATOM_FILE = "atom.xml"
JSON_FILE = "feed.json"

GENERATOR = "nieuwsbrief"
GENERATOR_URI = "https://pypi.org/project/nieuwsbrief/"
# When there is nothing published yet, the feed still needs a stable date.
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def feed_url(settings: Settings, name: str) -> str:
    """Return the absolute URL a feed file is published at."""
    return settings.site.url(settings.feeds.path.rstrip("/") + "/" + name)


def image_type(url: str) -> str:
    """Guess an image's MIME type from its URL."""
    guessed, _ = mimetypes.guess_type(url.split("?", 1)[0])
    return guessed if guessed and guessed.startswith("image/") else "image/jpeg"


def last_updated(articles: Sequence[Article]) -> dt.datetime:
    """Return the newest change among the articles: the feed's build date."""
    return max((article.last_modified for article in articles), default=EPOCH)


def _generator(settings: Settings, self_name: str) -> Any:
    from feedgen.feed import FeedGenerator

    site = settings.site
    generator = FeedGenerator()
    generator.load_extension("dc", atom=False, rss=True)
    generator.id(site.base_url + "/")
    generator.title(site.title)
    generator.subtitle(site.description)
    generator.description(site.description)
    generator.language(site.language)
    generator.author(
        {"name": site.author.name, **({"email": site.author.email} if site.author.email else {})}
    )
    generator.generator(GENERATOR, version=__version__, uri=GENERATOR_URI)
    # feedgen uses the last link() call as RSS <channel><link>, so the site comes last.
    generator.link(href=feed_url(settings, self_name), rel="self")
    generator.link(href=site.base_url + "/", rel="alternate")
    if site.contact.email:
        generator.managingEditor(f"{site.contact.email} ({site.title})")
        generator.webMaster(f"{site.contact.email} ({site.title})")
    return generator


class _AtomEntryLinks:
    """Write an Atom entry's links ourselves: feedgen 1.0 drops their rel and type."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, entry: Any) -> Any:
        from lxml import etree

        # Match the entry's own tag form so the link lands in the same namespace.
        namespace = entry.tag[: entry.tag.index("}") + 1] if entry.tag.startswith("{") else ""
        for attributes in self.links:
            etree.SubElement(entry, namespace + "link", attributes)
        return entry

    def extend_rss(self, item: Any) -> Any:
        return item


def _fill(generator: Any, settings: Settings, articles: Sequence[Article], *, atom: bool) -> None:
    newest = last_updated(articles)
    generator.updated(newest)
    generator.lastBuildDate(newest)
    if articles:
        generator.pubDate(articles[0].date)
    for article in articles:
        # feedgen prepends by default; append keeps our newest-first order.
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
        if atom:
            links = [{"rel": "alternate", "type": "text/html", "href": article.url}]
            if article.image:
                links.append(
                    {"rel": "enclosure", "type": image_type(article.image), "href": article.image}
                )
            entry.register_extension("nieuwsbrief_links", _AtomEntryLinks, atom=True, rss=False)
            entry.nieuwsbrief_links.links = links
            entry.summary(article.summary, type="text")
            entry.content(article.content_html, type="html")
        else:
            entry.link(href=article.url, rel="alternate")
            entry.dc.dc_creator(author_name)
            # RSS readers render <description> as HTML; the summary is plain text.
            entry.description(html.escape(article.summary, quote=False))
            entry.content(article.content_html, type="CDATA")
            if article.image:
                entry.enclosure(article.image, "0", image_type(article.image))


def render_rss(settings: Settings, articles: Sequence[Article]) -> bytes:
    """Return the RSS 2.0 document for these articles (newest first)."""
    generator = _generator(settings, RSS_FILE)
    _fill(generator, settings, articles, atom=False)
    return generator.rss_str(pretty=True)  # type: ignore[no-any-return]


def render_atom(settings: Settings, articles: Sequence[Article]) -> bytes:
    """Return the Atom 1.0 document for these articles (newest first)."""
    generator = _generator(settings, ATOM_FILE)
    _fill(generator, settings, articles, atom=True)
    return generator.atom_str(pretty=True)  # type: ignore[no-any-return]


def render_json_feed(settings: Settings, articles: Sequence[Article]) -> bytes:
    """Return the JSON Feed 1.1 document for these articles (newest first)."""
    site = settings.site
    items: list[dict[str, Any]] = []
    for article in articles:
        item: dict[str, Any] = {
            "id": article.id,
            "url": article.url,
            "title": article.title,
            "content_html": article.content_html,
            "summary": article.summary,
            "date_published": article.date.isoformat(),
            "date_modified": article.last_modified.isoformat(),
            "authors": [{"name": article.author or site.author.name}],
            "tags": list(article.tags),
            "language": site.language,
        }
        if article.image:
            item["image"] = article.image
        items.append(item)
    document: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": site.title,
        "home_page_url": site.base_url + "/",
        "feed_url": feed_url(settings, JSON_FILE),
        "description": site.description,
        "language": site.language,
        "authors": [{"name": site.author.name}],
        "items": items,
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def render_feeds(settings: Settings, articles: Sequence[Article]) -> dict[str, bytes]:
    """Return every feed file, keyed by its file name."""
    return {
        RSS_FILE: render_rss(settings, articles),
        ATOM_FILE: render_atom(settings, articles),
        JSON_FILE: render_json_feed(settings, articles),
    }
