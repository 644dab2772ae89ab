"""Render RSS 2.0 and Atom 1.0 (with feedgen) and JSON Feed 1.1, with RFC 5005 archives.

The current feeds (``feed.xml``, ``atom.xml``, ``feed.json``) hold the newest
``feeds.limit`` articles. When more articles are published than that, every published
article also goes into archive pages of ``feeds.archive_size`` items, numbered oldest
first (``archive/feed-1.xml`` holds the oldest), so a full page never changes again and a
new subscriber's reader can page back to the first article (RFC 5005 section 4).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import mimetypes
import re
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nieuwsbrief import __version__
from nieuwsbrief.articles import Article
from nieuwsbrief.config import Settings
from nieuwsbrief.errors import quote
from nieuwsbrief.jsonout import json_bytes
from nieuwsbrief.markup import strip_xml_illegal
from nieuwsbrief.spool import Spooled, spool_pieces

if TYPE_CHECKING:
    from nieuwsbrief.reuse import Reuse

RSS_FILE = "feed.xml"
ATOM_FILE = "atom.xml"
JSON_FILE = "feed.json"
STYLESHEET_FILE = "feed.xsl"
ARCHIVE_DIR = "archive"
FEED_FILES = (RSS_FILE, ATOM_FILE, JSON_FILE)

GENERATOR = "nieuwsbrief"
GENERATOR_URI = "https://pypi.org/project/nieuwsbrief/"
# When there is nothing published yet, the feed still needs a stable date.
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
MEDIA_NS = "http://search.yahoo.com/mrss/"
RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"
JSON_TYPE = "application/feed+json"
# The width the image is shown at on top of an item: the digest's column width.
IMAGE_WIDTH = 600
# The link under an archived item's teaser.
READ_MORE = "Lees het hele artikel"
# Old feeds in --out are untrusted input: read at most this much of each.
MAX_OLD_FEED_BYTES = 20_000_000
MAX_CHANGE_WARNINGS = 25


@dataclass(frozen=True)
class Page:
    """One document of a feed: the current feed (number None) or one archive page."""

    number: int | None
    articles: Sequence[Article]
    # Numbers of the neighbouring archive pages: older (prev) and newer (next).
    prev_archive: int | None = None
    next_archive: int | None = None

    def name(self, kind: str) -> str:
        """Return this page's path in the output folder, for ``kind`` RSS_FILE/ATOM_FILE/..."""
        return page_name(kind, self.number)


def page_name(kind: str, number: int | None) -> str:
    """Return the output path of the current feed (None) or of archive page ``number``."""
    if number is None:
        return kind
    stem, suffix = kind.rsplit(".", 1)
    return f"{ARCHIVE_DIR}/{stem}-{number}.{suffix}"


def feed_url(settings: Settings, name: str) -> str:
    """Return the absolute URL a feed file is published at."""
    return settings.site.url(settings.feeds.path.rstrip("/") + "/" + name)


def image_type(url: str) -> str:
    """Guess an image's MIME type from its URL."""
    guessed, _ = mimetypes.guess_type(url.split("?", 1)[0].split("#", 1)[0])
    return guessed if guessed and guessed.startswith("image/") else "image/jpeg"


def last_updated(articles: Iterable[Article]) -> dt.datetime:
    """Return the newest change among the articles: the feed's build date."""
    return max((article.last_modified for article in articles), default=EPOCH)


def paginate(settings: Settings, published: Sequence[Article]) -> list[Page]:
    """Split the published articles (newest first) into the current feed and archive pages."""
    limit, size = settings.feeds.limit, settings.feeds.archive_size
    if len(published) <= limit:
        return [Page(None, published[:limit])]
    oldest_first = list(reversed(published))
    chunks = [oldest_first[start : start + size] for start in range(0, len(oldest_first), size)]
    count = len(chunks)
    pages = [Page(None, published[:limit], prev_archive=count)]
    for number, chunk in enumerate(chunks, 1):
        pages.append(
            Page(
                number,
                list(reversed(chunk)),
                prev_archive=number - 1 if number > 1 else None,
                next_archive=number + 1 if number < count else None,
            )
        )
    return pages


def content_html(
    article: Article, settings: Settings | None = None, *, archived: bool = False
) -> str:
    """Return the item's HTML: the article's image (with alt text and width), then the body.

    Readers that ignore enclosures and Media RSS (newsboat, many web readers) still show the
    image this way. Archive pages carry the teaser and a link instead of the whole body:
    rendering every article ever published would make a build of thousands of articles
    take minutes, and a reader paging back needs to find an article, not read it there.
    With ``settings``, an article about suicide ends with the crisis-line notice
    (docs/topics.md).
    """
    notice = _ItemSettings(settings).notice(article) if settings is not None else ""
    return _item_html(article, archived, notice)


def _text(value: str) -> str:
    return strip_xml_illegal(value)


def _link_element(parent: Any, rss: bool, attributes: Mapping[str, str]) -> None:
    from lxml import etree

    if rss:
        tag = f"{{{ATOM_NS}}}link"
    else:
        # Match the parent's own tag form so the link lands in the same namespace.
        tag = (
            parent.tag[: parent.tag.index("}") + 1] + "link"
            if parent.tag.startswith("{")
            else "link"
        )
    etree.SubElement(parent, tag, dict(attributes))


class _FeedExtras:
    """Feed-level additions feedgen 1.0 cannot write: RFC 5005 links, WebSub, a stylesheet."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.archive = False
        self.stylesheet: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"fh": HISTORY_NS, "media": MEDIA_NS} if self.archive else {"media": MEDIA_NS}

    def _extend(self, root: Any, parent: Any, rss: bool) -> Any:
        from lxml import etree

        for attributes in self.links:
            _link_element(parent, rss, attributes)
        if self.archive:
            etree.SubElement(parent, f"{{{HISTORY_NS}}}archive")
        if self.stylesheet:
            root.addprevious(
                etree.ProcessingInstruction(
                    "xml-stylesheet", f'type="text/xsl" href="{html.escape(self.stylesheet)}"'
                )
            )
        return root

    def extend_atom(self, feed: Any) -> Any:
        return self._extend(feed, feed, rss=False)

    def extend_rss(self, feed: Any) -> Any:
        return self._extend(feed, feed.find("channel"), rss=True)


class _EntryExtras:
    """Entry-level additions: Atom links with rel and type (feedgen 1.0 drops them), Media RSS."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.image: tuple[str, str, str | None] | None = None

    def extend_ns(self) -> dict[str, str]:
        return {}

    def _media(self, parent: Any) -> None:
        from lxml import etree

        if self.image is None:
            return
        url, kind, alt = self.image
        media = etree.SubElement(
            parent, f"{{{MEDIA_NS}}}content", {"url": url, "type": kind, "medium": "image"}
        )
        if alt:
            description = etree.SubElement(media, f"{{{MEDIA_NS}}}description", {"type": "plain"})
            description.text = alt

    def extend_atom(self, entry: Any) -> Any:
        for attributes in self.links:
            _link_element(entry, False, attributes)
        self._media(entry)
        return entry

    def extend_rss(self, item: Any) -> Any:
        self._media(item)
        return item


def _generator(settings: Settings, kind: str, page: Page) -> Any:
    from feedgen.feed import FeedGenerator

    site = settings.site
    rss = kind == RSS_FILE
    generator = FeedGenerator()
    generator.load_extension("dc", atom=False, rss=True)
    generator.register_extension("nieuwsbrief", _FeedExtras, _EntryExtras, atom=True, rss=True)
    generator.id(site.base_url + "/")
    generator.title(_text(site.title))
    # feedgen keeps one text for both. RSS readers render the channel description as HTML
    # (escape the plain-text setting once more); Atom's subtitle is declared text.
    description = _text(site.description)
    generator.subtitle(html.escape(description, quote=False) if rss else description)
    generator.language(site.language)
    generator.author(
        {"name": site.author.name, **({"email": site.author.email} if site.author.email else {})}
    )
    generator.generator(GENERATOR, version=__version__, uri=GENERATOR_URI)
    if site.copyright:
        generator.rights(_text(site.copyright))
    if site.logo:
        generator.image(site.logo.url, title=_text(site.title), link=site.base_url + "/")
    if site.icon:
        generator.icon(site.icon)
    # feedgen uses the last link() call as RSS <channel><link>, so the site comes last.
    generator.link(
        href=feed_url(settings, page.name(kind)), rel="self", type=RSS_TYPE if rss else ATOM_TYPE
    )
    generator.link(href=site.base_url + "/", rel="alternate", type="text/html")
    extras: _FeedExtras = generator.nieuwsbrief
    extras.stylesheet = ("../" if page.number is not None else "") + STYLESHEET_FILE
    extras.archive = page.number is not None
    if settings.feeds.websub_hub:
        extras.links.append({"rel": "hub", "href": settings.feeds.websub_hub})
    kind_type = RSS_TYPE if rss else ATOM_TYPE
    if page.number is not None:
        extras.links.append({"rel": "current", "type": kind_type, "href": feed_url(settings, kind)})
    for rel, number in (("prev-archive", page.prev_archive), ("next-archive", page.next_archive)):
        if number is not None:
            extras.links.append(
                {"rel": rel, "type": kind_type, "href": feed_url(settings, page_name(kind, number))}
            )
    if site.contact.email:
        generator.managingEditor(f"{site.contact.email} ({site.title})")
        generator.webMaster(f"{site.contact.email} ({site.title})")
    return generator


def _dates(generator: Any, articles: Sequence[Article]) -> None:
    newest = last_updated(articles)
    generator.updated(newest)
    generator.lastBuildDate(newest)
    if articles:
        generator.pubDate(max(article.date for article in articles))


# Each article's items, built once per format and item settings and shared by every feed
# and page that shows the article: at 10,000 articles the main feed and ~40 topic feeds
# hold each item about four times per format, and building it (feedgen's setters, its
# lxml elements, the HTML with image and notice) was most of a cold build. Keyed by the
# article object, which is frozen, and dropped when the article is (weakref.finalize),
# so the memo lives at most as long as a build holds its articles (topic_feeds drops it
# sooner). It holds serialized items, not lxml trees (those took ~150 MB at 10,000
# articles), and those not in memory but in a temporary file (spool.py): held from the main
# feed to an article's last topic, they were ~30 MB of a 10,000-article build's peak. Only
# the current JSON Feed page's few items are dicts.
_ITEMS: dict[int, dict[tuple[object, ...], Any]] = {}


def _stored_bytes(found: Any) -> bytes | memoryview | None:
    """Return a memo entry's bytes, read back from its spool; None when that fails."""
    if not isinstance(found, Spooled):
        return found  # type: ignore[no-any-return]
    try:
        return found.read()
    except OSError:
        return None  # the caller builds the item again


def _memo(article: Article) -> dict[tuple[object, ...], Any]:
    found = _ITEMS.get(id(article))
    if found is None:
        found = _ITEMS.setdefault(id(article), {})
        # Runs when the article is freed, before its id can name another object.
        weakref.finalize(article, _ITEMS.pop, id(article), None).atexit = False
    return found


def forget_items(articles: Iterable[Article]) -> None:
    """Drop the shared items of these articles: no feed still to render shows them.

    Memory only: a feed that shows one of them after all builds its items again.
    """
    for article in articles:
        _ITEMS.pop(id(article), None)


class _ItemSettings:
    """What of the settings an item shows: the default author, the language, the notice.

    The topic feeds render with their own title, description and path (topics.py), which
    no item shows, so the main feed and every topic feed share their items.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.author = settings.site.author.name
        self.language = settings.site.language
        self._notice: str | None = None
        # Whether an article has the notice depends on it and on the crisis words alone.
        self._crisis = ("has_notice", settings.topics.crisis_topics)

    def notice(self, article: Article) -> str:
        """Return the crisis-line notice the article's items end with, or ''."""
        from nieuwsbrief.notice import has_notice, notice_html

        memo = _memo(article)
        noticed = memo.get(self._crisis)
        if noticed is None:
            noticed = memo[self._crisis] = has_notice(self.settings, article)
        if not noticed:
            return ""
        if self._notice is None:
            self._notice = notice_html(self.settings)
        return self._notice


def _item_html(article: Article, archived: bool, notice: str) -> str:
    """Return :func:`content_html` with the settings' ``notice`` ('' for none)."""
    if archived:
        body = (
            f"<p>{html.escape(article.summary)}</p>\n"
            f'<p><a href="{html.escape(article.url)}">{READ_MORE}</a></p>\n'
        )
    else:
        body = article.content_html
    body += notice
    if not article.image:
        return body
    image = (
        f'<p><img src="{html.escape(article.image)}" alt="{html.escape(article.image_alt or "")}"'
        f' width="{IMAGE_WIDTH}" style="max-width:100%;height:auto"></p>\n'
    )
    return image + body


def _entry(article: Article, author: str, content: str, *, atom: bool) -> Any:
    """Return the feedgen entry of one item, with the extensions a page's generator loads."""
    from feedgen.entry import FeedEntry
    from feedgen.ext.dc import DcEntryExtension

    entry = FeedEntry()
    # What FeedGenerator.add_entry registers, in _generator's order: feedgen writes the
    # extensions' elements in this order. (The class, not load_extension("dc"): that one
    # first tries to import a module feedgen.ext.dc_entry, and a failed import searches
    # sys.path again each time.)
    entry.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    entry.register_extension("nieuwsbrief", _EntryExtras, atom=True, rss=True)
    entry.id(article.id)
    entry.guid(article.id, permalink=False)
    entry.title(article.title)
    entry.published(article.date)
    entry.updated(article.last_modified)
    entry.pubDate(article.date)
    entry.author({"name": author})
    for tag in article.tags:
        entry.category(term=tag, label=tag)
    extras: _EntryExtras = entry.nieuwsbrief
    if article.image:
        extras.image = (article.image, image_type(article.image), article.image_alt)
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
        entry.dc.dc_creator(author)
        # RSS readers render <description> as HTML; the summary is plain text.
        entry.description(html.escape(article.summary, quote=False))
        entry.content(content, type="CDATA")
        if article.image:
            entry.enclosure(article.image, "0", image_type(article.image))
    return entry


def _element(article: Article, item: _ItemSettings, kind: str, archived: bool) -> Any:
    """Return the article's RSS <item> or Atom <entry> element, as feedgen builds it."""
    author = article.author or item.author
    content = _item_html(article, archived, item.notice(article))
    entry = _entry(article, author, content, atom=kind == ATOM_FILE)
    return entry.atom_entry() if kind == ATOM_FILE else entry.rss_entry()


def _serialize(document: Any) -> bytes:
    """Serialize a feed document exactly as feedgen's rss_str/atom_str(pretty=True) do."""
    from lxml import etree

    return etree.tostring(  # type: ignore[no-any-return]
        document, pretty_print=True, encoding="UTF-8", xml_declaration=True
    )


# How a pretty-printed page without items ends: the items go right before it. Each
# item's bytes depend only on the item and the namespaces declared above it (the
# indentation is fixed: <item> in <channel>, <entry> in <feed>).
_XML_ENDS = {RSS_FILE: b"  </channel>\n</rss>\n", ATOM_FILE: b"</feed>\n"}


def _xml_page(settings: Settings, kind: str, page: Page) -> bytes:
    """Return one RSS or Atom page: feedgen's document, with each item's bytes built once.

    The bytes are those of feedgen's rss_str/atom_str for the page: the page without
    items, split where its items go, and each item serialized once in the same document
    (appended, serialized, taken out again), then shared by every page that shows it.
    """
    generator = _generator(settings, kind, page)
    _dates(generator, page.articles)
    atom = kind == ATOM_FILE
    root, document = generator._create_atom() if atom else generator._create_rss()
    parent = root if atom else root.find("channel")
    item = _ItemSettings(settings)
    archived = page.number is not None

    def whole() -> bytes:
        # Not lxml's layout as we know it: build the page's items here, as feedgen does.
        for article in page.articles:
            parent.append(_element(article, item, kind, archived))
        return _serialize(document)

    empty, end = _serialize(document), _XML_ENDS[kind]
    if not empty.endswith(end):
        return whole()
    head = empty[: -len(end)]
    # The namespaces in scope decide the items' prefixes: part of what an item's bytes are.
    context = (kind, archived, item.author, tuple(sorted(map(str, root.nsmap.items()))))
    parts: list[bytes | memoryview] = [head]
    fresh: list[tuple[int, dict[tuple[object, ...], Any], tuple[object, ...]]] = []
    for article in page.articles:
        memo = _memo(article)
        notice = item.notice(article)
        key = (*context, notice)
        found = _stored_bytes(memo.get(key))
        if found is None:
            element = _element(article, item, kind, archived)
            parent.append(element)
            try:
                alone = _serialize(document)
            finally:
                parent.remove(element)
            if not (alone.startswith(head) and alone.endswith(end)):
                return whole()
            found = alone[len(head) : -len(end)]
            fresh.append((len(parts), memo, key))
        parts.append(found)
    parts.append(end)
    return _join(parts, fresh)


def _join(
    parts: Sequence[bytes | memoryview],
    fresh: Sequence[tuple[int, dict[tuple[object, ...], Any], tuple[object, ...]]],
) -> bytes:
    """Return the page's parts joined; remember each fresh part (index, memo, key) in memo.

    The fresh parts go into the spool in one write; where that fails, each is kept as a
    view into the page (the page then stays in memory as long as the item).
    """
    data = b"".join(parts)
    if not fresh:
        return data
    view = memoryview(data)
    starts = [0]
    for part in parts:
        starts.append(starts[-1] + len(part))
    pieces = [view[starts[index] : starts[index + 1]] for index, _, _ in fresh]
    places: Sequence[Spooled | memoryview] = spool_pieces(pieces) or pieces
    for place, (_, memo, key) in zip(places, fresh, strict=True):
        memo[key] = place
    return data


def render_rss(settings: Settings, articles: Sequence[Article], page: Page | None = None) -> bytes:
    """Return the RSS 2.0 document for these articles (newest first)."""
    return _xml_page(settings, RSS_FILE, page or Page(None, articles))


def render_atom(settings: Settings, articles: Sequence[Article], page: Page | None = None) -> bytes:
    """Return the Atom 1.0 document for these articles (newest first)."""
    return _xml_page(settings, ATOM_FILE, page or Page(None, articles))


def _json_item(article: Article, item: _ItemSettings, archived: bool) -> dict[str, Any]:
    author = {"name": article.author or item.author}
    found: dict[str, Any] = {
        "id": article.id,
        "url": article.url,
        "title": article.title,
        "content_html": _item_html(article, archived, item.notice(article)),
        "summary": article.summary,
        "date_published": article.date.isoformat(),
        "date_modified": article.last_modified.isoformat(),
        "authors": [author],
        # JSON Feed 1.0 readers know only the single author.
        "author": author,
        "tags": list(article.tags),
        "language": item.language,
    }
    if article.image:
        # The main image; it is also at the top of content_html, which the spec allows.
        found["image"] = article.image
    return found


def _json_items(item: _ItemSettings, page: Page) -> list[dict[str, Any]]:
    """Return the current page's items; shared (see _ITEMS), so never changed once made."""
    context = (JSON_FILE, False, item.author, item.language)
    items = []
    for article in page.articles:
        memo = _memo(article)
        key = (*context, item.notice(article))
        found = memo.get(key)
        if found is None:
            found = memo[key] = _json_item(article, item, False)
        items.append(found)
    return items


def _json_archive(item: _ItemSettings, page: Page, document: dict[str, Any]) -> bytes:
    """Return an archive page: compact JSON, as json.dumps gives the document with items.

    The items (the document's last key) are spliced in as the bytes each gives inside it.
    """
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    parts: list[bytes | memoryview] = [text[:-1].encode() + b',"items":[']
    fresh: list[tuple[int, dict[tuple[object, ...], Any], tuple[object, ...]]] = []
    context = (JSON_FILE, True, item.author, item.language)
    for number, article in enumerate(page.articles):
        if number:
            parts.append(b",")
        memo = _memo(article)
        key = (*context, item.notice(article))
        found = _stored_bytes(memo.get(key))
        if found is None:
            data = _json_item(article, item, True)
            found = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
            fresh.append((len(parts), memo, key))
        parts.append(found)
    parts.append(b"]}\n")
    return _join(parts, fresh)


def render_json_feed(
    settings: Settings, articles: Sequence[Article], page: Page | None = None
) -> bytes:
    """Return the JSON Feed 1.1 document for these articles (newest first)."""
    page = page or Page(None, articles)
    site = settings.site
    item = _ItemSettings(settings)
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
        # JSON Feed pages backwards in time: next_url holds the older items.
        document["next_url"] = feed_url(settings, page_name(JSON_FILE, page.prev_archive))
    if page.number is not None:
        # Archive pages are for programs, and many: compact JSON uses the C encoder.
        return _json_archive(item, page, document)
    document["items"] = _json_items(item, page)
    return json_bytes(document)


def stylesheet(settings: Settings) -> bytes:
    """Return the XSLT page that shows the XML feeds to people who open them in a browser."""
    from nieuwsbrief.templating import read_static

    return read_static(settings.project_dir / "templates", STYLESHEET_FILE)


def render_feeds(
    settings: Settings,
    articles: Sequence[Article],
    reuse: Reuse | None = None,
    *,
    scope: tuple[object, ...] = ("main",),
    adjust: Callable[[str, bytes], tuple[str, bytes]] | None = None,
) -> dict[str, bytes]:
    """Return every feed file, keyed by its path in the output folder.

    ``articles`` are all published articles, newest first: the current feeds take the
    newest ``feeds.limit``, the archive pages all of them. With ``reuse``, a page (its RSS,
    Atom and JSON Feed files) whose fingerprint is unchanged comes from the last build: in
    a large build most archive pages never change. ``scope`` tells the feeds of one build
    apart in those fingerprints (the main feeds, or a topic with everything it shows of
    itself); ``adjust`` maps each rendered file to its final name and bytes.
    """
    files: dict[str, bytes] = {STYLESHEET_FILE: stylesheet(settings)}
    pages = paginate(settings, articles)
    for page in pages:

        def render(page: Page = page) -> dict[str, bytes]:
            rendered = {
                page.name(RSS_FILE): render_rss(settings, page.articles, page),
                page.name(ATOM_FILE): render_atom(settings, page.articles, page),
                page.name(JSON_FILE): render_json_feed(settings, page.articles, page),
            }
            return dict(adjust(*item) for item in rendered.items()) if adjust else rendered

        if reuse is None:
            files.update(render())
            continue
        key = f"feed-page:{json.dumps([*scope, page.number], ensure_ascii=False)}"
        numbers = (page.number, page.prev_archive, page.next_archive, len(pages))
        fingerprint = reuse.fingerprint(key, scope, numbers, articles=page.articles)
        names = [page.name(name) for name in (RSS_FILE, ATOM_FILE, JSON_FILE)]
        if adjust:
            names = [adjust(name, b"")[0] for name in names]
        files.update(reuse.group(key, fingerprint, render, names))
    if adjust:
        name, data = adjust(STYLESHEET_FILE, files.pop(STYLESHEET_FILE))
        files[name] = data
    return files


# --- What readers already have: compare the feeds in --out with this build -----------------


@dataclass(frozen=True)
class PublishedItem:
    """An item as an earlier build published it."""

    id: str
    link: str
    title: str


_SAFE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[!-~]{1,190}$")


def _short(text: str | None, limit: int = 200) -> str:
    return (text or "").strip()[:limit]


def _old_xml_items(data: bytes) -> list[PublishedItem]:
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError):
        return []
    items = []
    for item in root.iterfind("channel/item"):
        guid = _short(item.findtext("guid"))
        if guid:
            items.append(
                PublishedItem(guid, _short(item.findtext("link")), _short(item.findtext("title")))
            )
    atom = f"{{{ATOM_NS}}}"
    for entry in root.iterfind(f"{atom}entry"):
        entry_id = _short(entry.findtext(f"{atom}id"))
        link = next(
            (
                element.get("href") or ""
                for element in entry.iterfind(f"{atom}link")
                if element.get("rel", "alternate") == "alternate"
            ),
            "",
        )
        if entry_id:
            items.append(
                PublishedItem(entry_id, _short(link), _short(entry.findtext(f"{atom}title")))
            )
    return items


def _old_json_items(data: bytes) -> list[PublishedItem]:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return []
    raw_items = document.get("items") if isinstance(document, dict) else None
    items = []
    for item in raw_items if isinstance(raw_items, list) else []:
        if not isinstance(item, dict):
            continue
        values = [item.get(key) for key in ("id", "url", "title")]
        text = [value if isinstance(value, str) else "" for value in values]
        if text[0].strip():
            items.append(PublishedItem(_short(text[0]), _short(text[1]), _short(text[2])))
    return items


def published_items(old: Mapping[str, bytes]) -> list[PublishedItem]:
    """Return the items of old feed documents; unreadable documents give nothing."""
    items: dict[str, PublishedItem] = {}
    for name, data in sorted(old.items()):
        found = _old_json_items(data) if name.endswith(".json") else _old_xml_items(data)
        for item in found:
            items.setdefault(item.id, item)
    return list(items.values())


def feed_changes(old: Mapping[str, bytes], articles: Sequence[Article]) -> list[str]:
    """Warn about every item readers already have whose id or link this build changes.

    ``old`` holds the feed documents of the previous build; ``articles`` every article
    this build publishes. Feed readers know an item by its id: a changed id shows the
    article twice, a changed link sends readers to a page that is gone.
    """
    by_id = {article.id: article for article in articles}
    by_url = {article.url: article for article in articles}
    warnings = []
    for item in published_items(old):
        article = by_id.get(item.id)
        if article is not None:
            if item.link and item.link != article.url:
                warnings.append(
                    f"{article.source}: its link changed: was published as {quote(item.link)}, "
                    f"now {quote(article.url)}; readers following the old link find nothing"
                )
            continue
        article = by_url.get(item.link)
        if article is not None:
            keep = (
                f". To keep the old id, add to its front matter: id: {item.id}"
                if _SAFE_ID.match(item.id)
                else ""
            )
            warnings.append(
                f"{article.source}: its id changed: was published as {quote(item.id, 120)}, now "
                f"{quote(article.id, 120)}; readers will see it twice{keep}"
            )
        else:
            warnings.append(
                f"the item {quote(item.title)} was published as {quote(item.id, 120)} and is no "
                "longer in the feeds (deleted, made a draft, or dated in the future?)"
            )
    if len(warnings) > MAX_CHANGE_WARNINGS:
        hidden = len(warnings) - MAX_CHANGE_WARNINGS
        warnings = [*warnings[:MAX_CHANGE_WARNINGS], f"... and {hidden} more changed items"]
    return warnings
