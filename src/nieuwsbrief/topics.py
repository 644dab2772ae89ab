"""The topic layer: tags as topics with stable slugs, related articles, topic feeds and digests.

A topic is every tag that folds to the same slug (``Fobieën`` and ``fobieen`` are one topic,
at ``tags/fobieen/``). Per topic this module renders the feeds (by calling the feed module's
own renderer with the topic's self path), ``tags/index.json`` and the weekly per-topic
digests; :mod:`nieuwsbrief.lists` renders the website's lists. See docs/topics.md.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nieuwsbrief.articles import Article
from nieuwsbrief.config import Settings
from nieuwsbrief.errors import quote
from nieuwsbrief.jsonout import json_bytes
from nieuwsbrief.notice import (
    crisis_word,
    gives_help_line,
    has_notice,
    is_crisis_tag,
    notice_segments,
    notice_warnings,
)
from nieuwsbrief.urls import tag_slugs, topic_slug

if TYPE_CHECKING:
    from nieuwsbrief.digest import Digest
    from nieuwsbrief.reuse import Reuse
    from nieuwsbrief.schedule import Window

TAGS_DIR = "tags"
INDEX_FILE = f"{TAGS_DIR}/index.json"



def article_topics(article: Article) -> tuple[str, ...]:
    """Return the slugs of an article's topics, in the order of its tags, without repeats."""
    return tag_slugs(article.tags)


@dataclass
class Topic:
    """One topic: its slug, how it is shown, and its published articles (newest first)."""

    slug: str
    name: str
    description: str | None
    spellings: tuple[str, ...]
    articles: list[Article] = field(default_factory=list)


def _configured(settings: Settings) -> dict[str, tuple[str | None, str | None]]:
    return {topic_slug(tag): (info.name, info.description) for tag, info in settings.topics.names}


def group_topics(settings: Settings, published: Sequence[Article]) -> list[Topic]:
    """Return the topics of the published articles (newest first), sorted by slug.

    The name is the one ``topics.names`` gives, else the spelling most articles use (ties:
    the first in code point order), so the same articles always give the same name.
    """
    spellings: dict[str, Counter[str]] = {}
    members: dict[str, list[Article]] = {}
    for article in published:
        for tag in article.tags:
            spellings.setdefault(topic_slug(tag), Counter())[tag] += 1
        for slug in article_topics(article):
            members.setdefault(slug, []).append(article)
    configured = _configured(settings)
    topics = []
    for slug in sorted(members):
        counts = spellings[slug]
        written = sorted(counts, key=lambda tag: (-counts[tag], tag))
        name, description = configured.get(slug, (None, None))
        topics.append(
            Topic(slug, name or written[0], description, tuple(sorted(counts)), members[slug])
        )
    return topics


# --- Related articles -------------------------------------------------------------------


def related_articles(published: Sequence[Article], limit: int) -> dict[str, list[Article]]:
    """Return, per published article's slug, up to ``limit`` other published articles.

    Ranked by the number of shared topics, then newest first, then by slug (the order of
    ``published``, which is newest first with the slug as tie-breaker). Never the article
    itself; only what ``published`` holds, so never drafts or future articles.
    """
    by_topic: dict[str, list[int]] = {}
    slugs_of = [article_topics(article) for article in published]
    for rank, slugs in enumerate(slugs_of):
        for slug in slugs:
            by_topic.setdefault(slug, []).append(rank)
    # Each topic's members as a bit set (bit n: the article of rank n), made once.
    members = {slug: _bits(ranks) for slug, ranks in by_topic.items()}
    result: dict[str, list[Article]] = {}
    # Articles with the same topics share their ranking; only the article itself differs.
    ranked: dict[frozenset[str], list[int]] = {}
    for rank, article in enumerate(published):
        key = frozenset(slugs_of[rank])
        if key not in ranked:
            ordered = sorted(key)
            ranked[key] = _top_ranks(
                [by_topic[slug] for slug in ordered],
                limit + 1,
                [members[slug] for slug in ordered],
            )
        result[article.slug] = [published[other] for other in ranked[key] if other != rank][:limit]
    return result


def _bits(ranks: Iterable[int]) -> int:
    """Return the ranks as one integer with bit ``rank`` set for each."""
    found = bytearray()
    for rank in ranks:
        byte = rank >> 3
        if byte >= len(found):
            found.extend(bytes(byte + 1 - len(found)))
        found[byte] |= 1 << (rank & 7)
    return int.from_bytes(found, "little")


# Above this many topics an article's ranking counts every candidate (_ranks_by_count):
# the layers below cost an operation per topic and layer.
_MAX_LAYERED_TOPICS = 8


def _top_ranks(
    lists: Sequence[list[int]], count: int, masks: Sequence[int] | None = None
) -> list[int]:
    """Return the ``count`` ranks found in most of ``lists`` (each sorted, without repeats),
    lowest rank first.

    The same order as sorting every rank by (-number of lists holding it, rank), without
    looking at most of them. ``masks`` are the lists as bit sets (:func:`_bits`; made here
    when not given): ``layers[n]`` has the bits of the ranks in more than ``n`` lists, built
    with a few integer operations per list. From the top layer down, each layer's own ranks
    are taken lowest first until ``count`` are found.
    """
    if len(lists) == 1:
        return lists[0][:count]
    if count <= 0:
        return []
    if len(lists) > _MAX_LAYERED_TOPICS:
        return _ranks_by_count(lists, count)
    layers: list[int] = []
    for members in masks if masks is not None else [_bits(ranks) for ranks in lists]:
        # From the top down, so each layer grows from the layer below as it was before.
        for level in range(len(layers), 0, -1):
            more = layers[level - 1] & members
            if level == len(layers):
                if more:
                    layers.append(more)
            else:
                layers[level] |= more
        if layers:
            layers[0] |= members
        else:
            layers.append(members)
    found: list[int] = []
    for level in range(len(layers) - 1, -1, -1):
        tier = layers[level] & ~layers[level + 1] if level + 1 < len(layers) else layers[level]
        while tier and len(found) < count:
            lowest = tier & -tier
            found.append(lowest.bit_length() - 1)
            tier ^= lowest
        if len(found) == count:
            break
    return found


def _ranks_by_count(lists: Sequence[list[int]], count: int) -> list[int]:
    """Return what :func:`_top_ranks` returns by counting every rank (many lists)."""
    counts: Counter[int] = Counter()
    for ranks in lists:
        counts.update(ranks)
    histogram = Counter(counts.values())
    threshold, seen = 1, 0
    for shared in sorted(histogram, reverse=True):
        seen += histogram[shared]
        if seen >= count:
            threshold = shared
            break
    candidates = [rank for rank, shared in counts.items() if shared >= threshold]
    candidates.sort()
    candidates.sort(key=counts.__getitem__, reverse=True)  # stable: ties stay by rank
    return candidates[:count]


# --- Per-topic feeds and the index ---------------------------------------------------------


def topic_path(settings: Settings, slug: str) -> str:
    """Return the site path of a topic's folder, below the feeds' path."""
    return settings.feeds.path.rstrip("/") + f"/{TAGS_DIR}/{slug}"


def topic_settings(settings: Settings, topic: Topic) -> Settings:
    """Return the settings a topic's feeds render with: their own path, title and description."""
    site = dataclasses.replace(
        settings.site,
        title=f"{settings.site.title}: {topic.name}",
        description=topic.description or f"Artikelen over {topic.name} van {settings.site.title}.",
    )
    feeds = dataclasses.replace(settings.feeds, path=topic_path(settings, topic.slug))
    return dataclasses.replace(settings, site=site, feeds=feeds)


def topic_feeds(settings: Settings, topic: Topic, reuse: Reuse | None = None) -> dict[str, bytes]:
    """Return a topic's feed files (RSS, Atom, JSON Feed, archives) by output path.

    The items are the main feeds' items, with the same ids; the Atom feed's own id is the
    topic's page, so a reader can tell the feeds apart. With ``reuse``, unchanged pages
    come from the last build (see :func:`nieuwsbrief.feeds.render_feeds`).
    """
    from nieuwsbrief.feeds import ATOM_FILE, forget_items, render_feeds

    own = topic_settings(settings, topic)
    main_id = f"<id>{settings.site.base_url}/</id>".encode()
    topic_id = f"<id>{settings.site.url(topic_path(settings, topic.slug))}/</id>".encode()
    prefix = f"{TAGS_DIR}/{topic.slug}/"

    def adjust(name: str, data: bytes) -> tuple[str, bytes]:
        if name.rsplit("/", 1)[-1].startswith(ATOM_FILE.split(".")[0]):
            data = data.replace(main_id, topic_id, 1)
        return prefix + name, data

    scope = ("topic", topic.slug, topic.name, topic.description)
    files = render_feeds(own, topic.articles, reuse, scope=scope, adjust=adjust)
    # A build renders the main feeds, then the topics' in slug order (group_topics): the
    # items an article shares between its feeds are not needed after its last topic. At
    # 10,000 articles they would hold ~50 MB until the end of the build.
    forget_items(
        article for article in topic.articles if max(article_topics(article)) == topic.slug
    )
    return files


def feed_links(settings: Settings, topic: Topic) -> dict[str, str]:
    """Return the absolute URLs of a topic's three feeds."""
    from nieuwsbrief.feeds import ATOM_FILE, JSON_FILE, RSS_FILE, feed_url

    own = topic_settings(settings, topic)
    return {
        "rss": feed_url(own, RSS_FILE),
        "atom": feed_url(own, ATOM_FILE),
        "json": feed_url(own, JSON_FILE),
    }


def topic_index(settings: Settings, topics: Sequence[Topic]) -> bytes:
    """Return ``tags/index.json``: every topic with its feeds, lists and digest."""
    digest_slugs = {topic_slug(tag) for tag in settings.digest.topics}
    entries = []
    for topic in topics:
        base = settings.site.url(topic_path(settings, topic.slug)) + "/"
        entries.append(
            {
                "slug": topic.slug,
                "name": topic.name,
                "description": topic.description,
                "tags": list(topic.spellings),
                "count": len(topic.articles),
                "newest": topic.articles[0].date.isoformat() if topic.articles else None,
                "feeds": feed_links(settings, topic),
                "list": {"html": base + "list.html", "json": base + "list.json"},
                "digest": topic.slug in digest_slugs,
                "crisis_notice": any(is_crisis_tag(settings, tag) for tag in topic.spellings),
            }
        )
    return json_bytes(
        {"version": 1, "site": settings.site.base_url + "/", "topics": entries}, sort_keys=True
    )


# --- Per-topic digests -----------------------------------------------------------------


def digest_topics(settings: Settings, topics: Sequence[Topic]) -> list[tuple[str, str]]:
    """Return (slug, name) of each topic in ``digest.topics``, in the order written."""
    names = {topic.slug: topic.name for topic in topics}
    configured = _configured(settings)
    chosen: dict[str, str] = {}
    for tag in settings.digest.topics:
        slug = topic_slug(tag)
        chosen.setdefault(slug, names.get(slug) or configured.get(slug, (None, None))[0] or tag)
    return list(chosen.items())


def render_topic_digests(
    settings: Settings,
    window: Window,
    articles: Sequence[Article],
    topics: Sequence[Topic],
) -> tuple[list[Digest], list[str]]:
    """Render the week's digest of every topic in ``digest.topics`` that has articles.

    Each is the main digest's rendering, with the topic's articles, its own subject and
    intro, and a manifest naming the topic; it goes to ``digests/<week>/<topic>/``.
    """
    from nieuwsbrief.digest import render_digest

    digests: list[Digest] = []
    warnings: list[str] = []
    for slug, name in digest_topics(settings, topics):
        chosen = [article for article in articles if slug in article_topics(article)]
        if not chosen:
            warnings.append(
                f"no digest about {quote(name)} for {window.week}: no articles this week"
            )
            continue
        escaped = name.replace("{", "{{").replace("}", "}}")
        je = settings.site.address_form == "je"
        digest_settings = dataclasses.replace(
            settings.digest,
            subject=f"{settings.digest.subject} · {escaped}",
            intro=f"Dit zijn de artikelen over {name} die we deze week voor "
            f"{'je' if je else 'u'} schreven.",
        )
        digest, found = render_digest(
            dataclasses.replace(settings, digest=digest_settings),
            window,
            chosen,
            topic={"slug": slug, "name": name},
        )
        digests.append(digest)
        warnings.extend(found)
    return digests, warnings


def missing_notices(settings: Settings, digest: Digest) -> list[str]:
    """Warn when a digest's templates leave out the crisis notice an item must carry.

    A project's own copy of digest.mjml.j2 or digest.txt.j2 from before the notice existed
    does not show it; the build then says so instead of sending the digest silently without.
    """
    import html

    shown = [*digest.items]
    if not any(has_notice(settings, article) for article in shown):
        return []
    segments = notice_segments(settings)
    # Compared with white space made one space: the text part wraps a long notice.
    first = " ".join(str(segments[0]["text"] or "").split())
    count = sum(1 for article in shown if has_notice(settings, article))
    missing = [
        name
        for name, text in (
            ("digest.mjml.j2", html.unescape(digest.email_html)),
            ("digest.txt.j2", digest.text),
        )
        if " ".join(text.split()).count(first) < count
    ]
    if not missing:
        return []
    folder = settings.project_dir / "templates"
    return [
        f"{folder / name}: digest {digest.week} holds an article about suicide, but the "
        "template does not show the crisis-line notice (item.crisis); copy its block from "
        "the template of 'nieuwsbrief init' (docs/topics.md)"
        for name in missing
    ]


def archive_topics(
    manifests: Iterable[Mapping[str, Any]],
) -> dict[str, list[dict[str, str]]]:
    """Return, per week, the topic digests to list in the archive: name and link."""
    weeks: dict[str, dict[str, dict[str, str]]] = {}
    for manifest in manifests:
        topic = manifest["topic"]
        weeks.setdefault(str(manifest["week"]), {})[str(topic["slug"])] = {
            "name": str(topic.get("name") or topic["slug"]),
            "href": f"{manifest['week']}/{topic['slug']}/digest.html",
        }
    return {week: [found[slug] for slug in sorted(found)] for week, found in weeks.items()}


# --- What check warns about ---------------------------------------------------------------


def _near(one: str, other: str) -> bool:
    """Tell whether two different topic slugs look like the same topic written twice."""
    short, long = sorted((one, other), key=lambda slug: (len(slug), slug))
    if long.startswith(short) and long[len(short) :] in {"s", "e", "n", "en", "es", "-s"}:
        return len(short) >= 3
    if len(short) < 5 or len(long) - len(short) > 1:
        return False
    # One letter added, dropped or changed: a typing error.
    import difflib

    return (
        difflib.SequenceMatcher(None, short, long).ratio() >= 0.85
        and sum(a != b for a, b in zip(short, long, strict=False)) + (len(long) - len(short)) <= 2
    )


def mentions_crisis(settings: Settings, text: str) -> str | None:
    """Return the crisis word a text speaks of, or None (notice.crisis_word: also inside
    compounds, and through look-alike letters)."""
    return crisis_word(settings, text)





def topic_warnings(settings: Settings, articles: Sequence[Article]) -> list[tuple[str, str, str]]:
    """Return (file, field, message) for near-duplicate topics and forgotten crisis notices."""
    warnings: list[tuple[str, str, str]] = []
    spellings: dict[str, set[str]] = {}
    first_file: dict[str, str] = {}
    for article in articles:
        for tag in article.tags:
            spellings.setdefault(topic_slug(tag), set()).add(tag)
            first_file.setdefault(topic_slug(tag), str(article.source))
    for slug in sorted(spellings):
        if len(spellings[slug]) > 1:
            written = ", ".join(quote(tag) for tag in sorted(spellings[slug]))
            warnings.append(
                (
                    first_file[slug],
                    "tags",
                    f"the tags {written} are one topic ({slug}); write them the same way",
                )
            )
    slugs = sorted(spellings)
    for index, one in enumerate(slugs):
        for other in slugs[index + 1 :]:
            if _near(one, other):
                warnings.append(
                    (
                        first_file[other],
                        "tags",
                        f"the topics {quote(one)} and {quote(other)} look like the same topic "
                        "written twice; use one of them, or ignore this if they differ",
                    )
                )
    for article in articles:
        if article.crisis_notice is not None or has_notice(settings, article):
            continue
        word = mentions_crisis(settings, f"{article.title}\n{article.summary}\n{article.body}")
        # An article that gives the help line itself has not forgotten it.
        if word and not gives_help_line(article.body):
            topics = ", ".join(quote(topic) for topic in settings.topics.crisis_topics[:4])
            warnings.append(
                (
                    str(article.source),
                    "tags",
                    f"the text mentions {quote(word)} but the article has none of the topics "
                    f"that carry the crisis-line notice ({topics}); add one of them to tags, "
                    "or write crisis_notice: true (or false, if the notice does not belong)",
                )
            )
    warnings.extend(notice_warnings(settings))
    digest_slugs = {topic_slug(tag): tag for tag in settings.digest.topics}
    for slug, tag in sorted(digest_slugs.items()):
        if slug not in spellings:
            warnings.append(
                (
                    str(settings.path),
                    "digest.topics",
                    f"{quote(tag)} is the tag of no article, so its digest is never sent; "
                    "check the spelling",
                )
            )
    return warnings


# --- Everything the topic layer adds to a build --------------------------------------------


def archive_feeds(settings: Settings, published: Sequence[Article]) -> list[dict[str, str]]:
    """Return the topic feeds the archive page advertises with autodiscovery links."""
    return [
        {"name": topic.name, **feed_links(settings, topic)}
        for topic in group_topics(settings, published)
    ]
