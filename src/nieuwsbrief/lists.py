"""The website's article lists: embeddable HTML fragments and JSON, from ``list.html.j2``.

For all articles (``lists/all.*``), per topic (``tags/<slug>/list.*``) and per published
article its related articles (``related/<slug>.*``, the seed's "Lees meer over dit
onderwerp in onze artikelen"). Each item: the title, the date as ``(7-11-2025)`` (the
format is ``topics.date_format``), the teaser, a "Lees verder" link and, where it belongs,
the crisis-line notice. See docs/topics.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nieuwsbrief.articles import Article
from nieuwsbrief.config import Settings
from nieuwsbrief.dutch import MONTHS
from nieuwsbrief.jsonout import json_bytes
from nieuwsbrief.notice import has_notice, notice_plain, notice_segments
from nieuwsbrief.templating import WebRenderer
from nieuwsbrief.topics import TAGS_DIR, related_articles

if TYPE_CHECKING:
    from nieuwsbrief.reuse import Reuse
    from nieuwsbrief.topics import Topic

LIST_TEMPLATE = "list.html.j2"
LISTS_DIR = "lists"
RELATED_DIR = "related"


def list_date(settings: Settings, moment: dt.datetime) -> str:
    """Format a date with ``topics.date_format`` in the site's time zone: '7-11-2025'."""
    day = moment.astimezone(settings.site.timezone).date()
    return settings.topics.date_format.format(
        d=day.day,
        dd=f"{day.day:02d}",
        m=day.month,
        mm=f"{day.month:02d}",
        yyyy=f"{day.year:04d}",
        month=MONTHS[day.month - 1],
    )


class _Items:
    """Build list items once per article: many lists show the same article.

    Also what every list of one build shares: the template, rendered through one
    ``WebRenderer``, and each item's JSON, serialized once.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.segments = notice_segments(settings)
        self.plain = notice_plain(settings)
        self.done: dict[str, dict[str, Any]] = {}
        self.json_done: dict[str, bytes] = {}
        self.web = WebRenderer(settings.project_dir, LIST_TEMPLATE)

    def item(self, article: Article) -> dict[str, Any]:
        found = self.done.get(article.slug)
        if found is None:
            notice = has_notice(self.settings, article)
            found = {
                "title": article.title,
                "url": article.url,
                "date": article.date.isoformat(),
                "date_text": list_date(self.settings, article.date),
                "teaser": article.summary,
                "notice": self.segments if notice else None,
                "crisis_notice": self.plain if notice else None,
            }
            self.done[article.slug] = found
        return found

    def item_json(self, article: Article) -> bytes:
        """Return the item as it stands in a list's JSON file: indented for its place there."""
        found = self.json_done.get(article.slug)
        if found is None:
            alone = json_bytes(_json_item(self.item(article)), sort_keys=True).rstrip(b"\n")
            found = _ITEM_INDENT + alone.replace(b"\n", b"\n" + _ITEM_INDENT)
            self.json_done[article.slug] = found
        return found


def _json_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "notice"}


# Items stand at depth two of a list's JSON file (the file's object, its "items" array).
_ITEM_INDENT = b"    "
# JSON writes no raw line break inside a string: this can only be the file's own key.
_EMPTY_ITEMS = b'\n  "items": []'


def _list_json(data: dict[str, Any], item_jsons: Sequence[bytes]) -> bytes:
    """Return ``json_bytes({**data, "items": items}, sort_keys=True)``, items pre-serialized.

    json.dumps indents in pure Python: serializing each article's item once, not once per
    list showing it, saves most of that work (tests/test_lists_fast.py compares).
    """
    text = json_bytes({**data, "items": []}, sort_keys=True)
    if item_jsons:
        items = b'\n  "items": [\n' + b",\n".join(item_jsons) + b"\n  ]"
        text = text.replace(_EMPTY_ITEMS, items, 1)
    return text


def _pair(
    settings: Settings,
    kind: str,
    heading: str,
    articles: Sequence[Article],
    topic: Topic | None,
    items: _Items,
    extra: dict[str, Any] | None = None,
) -> tuple[bytes, bytes]:
    about = {"slug": topic.slug, "name": topic.name} if topic is not None else None
    html = items.web.render(
        {
            "kind": kind,
            "heading": heading,
            "topic": about,
            "address_form": settings.site.address_form,
            "items": [items.item(article) for article in articles],
        }
    )
    data = {"kind": kind, "heading": heading, "topic": about, **(extra or {})}
    item_jsons = [items.item_json(article) for article in articles]
    return html.encode("utf-8"), _list_json(data, item_jsons)


def related_heading(settings: Settings) -> str:
    """Return the heading of the related articles, as on the practice's own pages."""
    question = (
        "Wil je meer weten?" if settings.site.address_form == "je" else ("Wilt u meer weten?")
    )
    return f"{question} Lees meer over dit onderwerp in onze artikelen"


def render_lists(
    settings: Settings,
    published: Sequence[Article],
    topics: Sequence[Topic],
    reuse: Reuse | None = None,
) -> dict[str, bytes]:
    """Return every list fragment and JSON file, by output path.

    ``published`` is every published article, newest first; ``topics`` their topics. With
    ``reuse``, lists whose articles and templates are unchanged come from the last build.
    """
    from nieuwsbrief.reuse import Reuse

    reuse = reuse or Reuse(settings, None)
    limit = settings.topics.list_size
    items = _Items(settings)
    files: dict[str, bytes] = {}

    def all_list() -> dict[str, bytes]:
        html, data = _pair(settings, "all", "Onze artikelen", published[:limit], None, items)
        return {f"{LISTS_DIR}/all.html": html, f"{LISTS_DIR}/all.json": data}

    all_names = [f"{LISTS_DIR}/all.html", f"{LISTS_DIR}/all.json"]
    fingerprint = reuse.fingerprint("all", articles=published[:limit])
    files.update(reuse.group("all", fingerprint, all_list, all_names))
    for topic in topics:
        files.update(topic_list(settings, topic, items, reuse))
    heading = related_heading(settings)
    for slug, others in related_articles(published, settings.topics.related_size).items():

        def related(slug: str = slug, others: list[Article] = others) -> dict[str, bytes]:
            html, data = _pair(
                settings,
                "related",
                heading,
                others,
                None,
                items,
                {"article": slug},
            )
            return {f"{RELATED_DIR}/{slug}.html": html, f"{RELATED_DIR}/{slug}.json": data}

        key = f"related:{slug}"
        names = [f"{RELATED_DIR}/{slug}.html", f"{RELATED_DIR}/{slug}.json"]
        files.update(reuse.group(key, reuse.fingerprint(key, articles=others), related, names))
    return files


def topic_list(settings: Settings, topic: Topic, items: _Items, reuse: Reuse) -> dict[str, bytes]:
    """Return a topic's list fragment and JSON (``tags/<slug>/list.*``)."""
    limit = settings.topics.list_size
    shown = topic.articles[:limit]

    def render_list() -> dict[str, bytes]:
        html, data = _pair(
            settings,
            "topic",
            f"Artikelen over {topic.name}",
            shown,
            topic,
            items,
        )
        folder = f"{TAGS_DIR}/{topic.slug}"
        return {f"{folder}/list.html": html, f"{folder}/list.json": data}

    key = f"list:{topic.slug}"
    fingerprint = reuse.fingerprint(key, topic.name, topic.slug, articles=shown)
    folder = f"{TAGS_DIR}/{topic.slug}"
    names = [f"{folder}/list.html", f"{folder}/list.json"]
    return reuse.group(key, fingerprint, render_list, names)
