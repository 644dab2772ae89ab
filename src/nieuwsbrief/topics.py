"""The topic layer: tags as topics with stable slugs, related articles, the crisis-line notice.

A topic is every tag that folds to the same slug (``Fobieën`` and ``fobieen`` are one topic,
at ``tags/fobieen/``). Per topic this module renders the feeds (by calling the feed module's
own renderer with the topic's self path), ``tags/index.json`` and the weekly per-topic
digests; :mod:`nieuwsbrief.lists` renders the website's lists. See docs/topics.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nieuwsbrief.articles import Article
from nieuwsbrief.config import Settings
from nieuwsbrief.templating import TEMPLATES_DIR

if TYPE_CHECKING:
    from nieuwsbrief.digest import Digest
    from nieuwsbrief.reuse import Reuse
    from nieuwsbrief.schedule import Window

TAGS_DIR = "tags"
INDEX_FILE = f"{TAGS_DIR}/index.json"
SLUG_LIMIT = 80
NOTICE_TEMPLATE = "crisis_notice.html.j2"
# The numbers and site of 113 Zelfmoordpreventie, linked wherever the notice names them.
CRISIS_LINKS: tuple[tuple[str, str], ...] = (
    (r"(?<![\w.-])0800[- ]?0113(?![\w-])", "tel:08000113"),
    (r"(?<![\w./-])(?:www\.)?113\.nl(?![\w/-])", "https://www.113.nl/"),
    (r"(?<![\w.-])113(?![\w.-])", "tel:113"),
)


def fold(text: str) -> str:
    """Return ``text`` lowercased without accents: 'Fobieën' -> 'fobieen'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=4096)
def topic_slug(tag: str) -> str:
    """Return the URL slug of a tag: ASCII letters, digits and hyphens, accents folded.

    A tag with nothing left after folding (only symbols, or a script without ASCII letters)
    gets a slug from its hash, so it still has a stable address of its own.
    """
    ascii_text = fold(tag).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:SLUG_LIMIT].strip("-")
    if slug:
        return slug
    return "onderwerp-" + hashlib.sha256(tag.encode("utf-8")).hexdigest()[:10]


def article_topics(article: Article) -> tuple[str, ...]:
    """Return the slugs of an article's topics, in the order of its tags, without repeats."""
    return tuple(dict.fromkeys(topic_slug(tag) for tag in article.tags))


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
    result: dict[str, list[Article]] = {}
    # Articles with the same topics share their ranking; only the article itself differs.
    ranked: dict[frozenset[str], list[int]] = {}
    for rank, article in enumerate(published):
        key = frozenset(slugs_of[rank])
        if key not in ranked:
            ranked[key] = _top_ranks([by_topic[slug] for slug in sorted(key)], limit + 1)
        result[article.slug] = [published[other] for other in ranked[key] if other != rank][:limit]
    return result


def _top_ranks(lists: Sequence[list[int]], count: int) -> list[int]:
    """Return the ``count`` ranks found in most of ``lists`` (each sorted), lowest rank first.

    The same order as sorting every rank by (-number of lists holding it, rank), without
    sorting them all: only the ranks at or above the count's threshold are sorted.
    """
    if len(lists) == 1:
        return lists[0][:count]
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


# --- The crisis-line notice --------------------------------------------------------------


def default_notice(settings: Settings) -> str:
    """Return the notice of 113 Zelfmoordpreventie's media guideline, in the site's address."""
    question = (
        "Denk je aan zelfdoding?"
        if settings.site.address_form == "je"
        else ("Denkt u aan zelfdoding?")
    )
    return f"{question} Praat erover. Bel 113 of gratis 0800-0113, of chat via 113.nl."


def notice_text(settings: Settings) -> str:
    """Return the notice as text: the setting, or the default, plus the practice's phone."""
    text = settings.topics.crisis_notice or default_notice(settings)
    phone = settings.site.contact.phone
    if phone and phone not in text:
        text += f" Liever met ons praten? Bel ons op {phone}."
    return text


def notice_segments(settings: Settings) -> list[dict[str, str | None]]:
    """Split the notice into text and links: 113 and 0800-0113 as ``tel:``, 113.nl as https.

    The practice's own phone number (``site.contact.phone``) is linked too.
    """
    from nieuwsbrief.digest import phone_href

    text = notice_text(settings)
    patterns = list(CRISIS_LINKS)
    phone = settings.site.contact.phone
    if phone:
        patterns.insert(0, (re.escape(phone), phone_href(phone)))
    combined = re.compile("|".join(f"({pattern})" for pattern, _ in patterns))
    segments: list[dict[str, str | None]] = []
    position = 0
    for match in combined.finditer(text):
        if match.start() > position:
            segments.append({"text": text[position : match.start()], "href": None})
        index = next(i for i, group in enumerate(match.groups()) if group is not None)
        segments.append({"text": match[0], "href": patterns[index][1]})
        position = match.end()
    if position < len(text):
        segments.append({"text": text[position:], "href": None})
    return segments


def crisis_slugs(settings: Settings) -> frozenset[str]:
    """Return the slugs of the topics whose articles carry the notice."""
    return frozenset(topic_slug(tag) for tag in settings.topics.crisis_topics)


def has_notice(settings: Settings, article: Article) -> bool:
    """Tell whether an article carries the crisis-line notice.

    Front matter ``crisis_notice: true`` or ``false`` decides; without it, any of the
    article's topics in ``topics.crisis_topics`` does.
    """
    if article.crisis_notice is not None:
        return article.crisis_notice
    return not crisis_slugs(settings).isdisjoint(article_topics(article))


_NOTICES: dict[tuple[Any, str], str] = {}


def notice_html(settings: Settings) -> str:
    """Return the notice as an HTML paragraph from the editable ``crisis_notice.html.j2``.

    Rendered once per template version and text: a large build shows it thousands of times.
    """
    segments = notice_segments(settings)
    try:
        environment = _environment(settings.project_dir / TEMPLATES_DIR, _defaults())
        template: Any = environment.get_template(NOTICE_TEMPLATE)
    except Exception:  # any problem is reported by render() below, naming file and line
        template = None
    key = (template, json.dumps(segments, sort_keys=True))
    if template is None or key not in _NOTICES:
        html = render(settings, NOTICE_TEMPLATE, {"segments": segments})
        if template is None:
            return html
        if len(_NOTICES) > 32:
            _NOTICES.clear()
        _NOTICES[key] = html
    return _NOTICES[key]


@lru_cache(maxsize=1)
def _defaults() -> Path:
    """Return the package's default templates folder (looked up once: a build asks often)."""
    from nieuwsbrief.scaffold import skeleton_dir

    return skeleton_dir() / "templates"


def notice_plain(settings: Settings) -> str:
    """Return the notice for text: every linked number followed by its link."""
    parts = []
    for segment in notice_segments(settings):
        text, href = segment["text"] or "", segment["href"]
        parts.append(f"{text} ({href})" if href and href.startswith("https:") else text)
    return "".join(parts)


def digest_notice(settings: Settings, article: Article) -> dict[str, Any] | None:
    """Return what the digest templates show of the notice for an article, or None."""
    if not has_notice(settings, article):
        return None
    return {"segments": notice_segments(settings), "text": notice_plain(settings)}


# --- Templates with the package's defaults behind the project's ----------------------------


def _environment(project_templates: Path, defaults: Path) -> Any:
    from nieuwsbrief import templating

    return templating._environment((project_templates, defaults), True)


def render(settings: Settings, name: str, context: Mapping[str, Any]) -> str:
    """Render an HTML template of the topic layer; a project without it uses the default."""
    from nieuwsbrief import templating

    templates = settings.project_dir / TEMPLATES_DIR
    html = templating.render(
        templates, name, context, html=True, defaults=True, missing="reinstall nieuwsbrief"
    )
    return templating.filter_links(html, templates / name)


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
    from nieuwsbrief.feeds import ATOM_FILE, render_feeds

    own = topic_settings(settings, topic)
    main_id = f"<id>{settings.site.base_url}/</id>".encode()
    topic_id = f"<id>{settings.site.url(topic_path(settings, topic.slug))}/</id>".encode()
    prefix = f"{TAGS_DIR}/{topic.slug}/"

    def adjust(name: str, data: bytes) -> tuple[str, bytes]:
        if name.rsplit("/", 1)[-1].startswith(ATOM_FILE.split(".")[0]):
            data = data.replace(main_id, topic_id, 1)
        return prefix + name, data

    scope = ("topic", topic.slug, topic.name, topic.description)
    return render_feeds(own, topic.articles, reuse, scope=scope, adjust=adjust)


def feed_links(settings: Settings, topic: Topic) -> dict[str, str]:
    """Return the absolute URLs of a topic's three feeds."""
    from nieuwsbrief.feeds import ATOM_FILE, JSON_FILE, RSS_FILE, feed_url

    own = topic_settings(settings, topic)
    return {
        "rss": feed_url(own, RSS_FILE),
        "atom": feed_url(own, ATOM_FILE),
        "json": feed_url(own, JSON_FILE),
    }


def dump_json(data: Any) -> bytes:
    """Serialize like every JSON output here: sorted keys, UTF-8, a final newline."""
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


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
                "crisis_notice": topic.slug in crisis_slugs(settings),
            }
        )
    return dump_json({"version": 1, "site": settings.site.base_url + "/", "topics": entries})


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
            warnings.append(f"no digest about {name!r} for {window.week}: no articles this week")
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


_TOPIC_MANIFEST = re.compile(r"^digests/(\d{4}-W\d{2})/([a-z0-9]+(?:-[a-z0-9]+)*)/manifest\.json$")


def read_topic_manifests(out: Path, owned: Iterable[str]) -> list[dict[str, Any]]:
    """Read back the per-topic digest manifests a build wrote into ``out`` (its record).

    Untrusted input: each must pass the rules of a fresh manifest and name its topic;
    anything else is left out of the archive.
    """
    from nieuwsbrief.digest import MAX_MANIFEST_BYTES, check_manifest

    found = []
    for name in sorted(owned):
        match = _TOPIC_MANIFEST.match(name)
        if not match:
            continue
        path = out / name
        try:
            real = Path(os.path.realpath(path))
            if path.is_symlink() or not path.is_file() or not real.is_relative_to(out.resolve()):
                continue
            if path.stat().st_size > MAX_MANIFEST_BYTES:
                continue
            data = check_manifest(json.loads(path.read_bytes().decode("utf-8")), match[1])
        except (OSError, ValueError, RecursionError):
            continue
        topic = data.get("topic")
        if isinstance(topic, dict) and topic.get("slug") == match[2]:
            found.append(data)
    return found


def read_topic_stale(owned: Iterable[str], files: Mapping[str, bytes]) -> list[str]:
    """Return the topic-layer files an earlier build wrote that this build no longer writes.

    A topic without published articles loses its folder (feeds, list); a retracted article
    its related list. Only names in the record (``owned``) are returned.
    """
    from nieuwsbrief.lists import LISTS_DIR, RELATED_DIR

    prefixes = (f"{TAGS_DIR}/", f"{RELATED_DIR}/", f"{LISTS_DIR}/")
    return sorted(name for name in owned if name.startswith(prefixes) and name not in files)


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


def _words(settings: Settings) -> list[str]:
    return sorted({fold(word) for word in settings.topics.crisis_topics if fold(word).strip()})


_HELP_LINE = re.compile(r"(?<![\w.-])(?:113|0800[- ]?0113)(?![\w-])")


def mentions_crisis(settings: Settings, text: str) -> str | None:
    """Return the first crisis word a text mentions (at the start of a word), or None."""
    words = _words(settings)
    if not words:
        return None
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(word) for word in words) + ")")
    match = pattern.search(fold(text))
    return match[1] if match else None


def notice_warnings(settings: Settings) -> list[tuple[str, str, str]]:
    """Return (file, field, message) when ``topics.crisis_notice`` names no help line.

    The same warning in check (topic_warnings) and build: a notice without 113 or 0800-0113
    sends a reader in crisis nowhere.
    """
    notice = settings.topics.crisis_notice
    if notice is None or _HELP_LINE.search(notice):
        return []
    return [
        (
            str(settings.path),
            "topics.crisis_notice",
            "does not mention 113 or 0800-0113; add 'Bel 113 of gratis 0800-0113, of chat "
            "via 113.nl', or remove the setting to use the default notice",
        )
    ]


def topic_warnings(settings: Settings, articles: Sequence[Article]) -> list[tuple[str, str, str]]:
    """Return (file, field, message) for near-duplicate topics and forgotten crisis notices."""
    from nieuwsbrief.errors import quote

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
        if word and not _HELP_LINE.search(article.body):
            topics = ", ".join(settings.topics.crisis_topics[:4])
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


def render_topics(
    settings: Settings, published: Sequence[Article], reuse: Reuse | None = None
) -> dict[str, bytes]:
    """Return every topic file of a build: per-topic feeds and lists, the index, related lists.

    With ``reuse`` (a build with the cache on), files whose fingerprint is unchanged are
    taken from the previous build's output instead of rendered again (see reuse.py).
    """
    from nieuwsbrief.lists import render_lists
    from nieuwsbrief.reuse import Reuse

    reuse = reuse or Reuse(settings, None)
    topics = group_topics(settings, published)
    files: dict[str, bytes] = {}
    for topic in topics:
        # Page by page: an article changed or added re-renders only the pages it is on.
        files.update(topic_feeds(settings, topic, reuse))
    files[INDEX_FILE] = topic_index(settings, topics)
    files.update(render_lists(settings, published, topics, reuse))
    return files


def archive_feeds(settings: Settings, published: Sequence[Article]) -> list[dict[str, str]]:
    """Return the topic feeds the archive page advertises with autodiscovery links."""
    return [
        {"name": topic.name, **feed_links(settings, topic)}
        for topic in group_topics(settings, published)
    ]
