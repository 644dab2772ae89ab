"""The crisis-line notice: its text, links and template, and which articles carry it.

Articles on the topics in ``topics.crisis_topics`` (or with ``crisis_notice: true``) carry a
notice that points to 113 Zelfmoordpreventie, following its media guideline. Feeds, lists
and digests all read it from here (docs/topics.md).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from nieuwsbrief import templating
from nieuwsbrief.articles import Article
from nieuwsbrief.config import Settings
from nieuwsbrief.dutch import phone_href
from nieuwsbrief.templating import TEMPLATES_DIR, skeleton_dir
from nieuwsbrief.urls import tag_slugs, topic_slug

NOTICE_TEMPLATE = "crisis_notice.html.j2"
# The numbers and site of 113 Zelfmoordpreventie, linked wherever the notice names them.
CRISIS_LINKS: tuple[tuple[str, str], ...] = (
    (r"(?<![\w.-])0800[- ]?0113(?![\w-])", "tel:08000113"),
    (r"(?<![\w./-])(?:www\.)?113\.nl(?![\w/-])", "https://www.113.nl/"),
    (r"(?<![\w.-])113(?![\w.-])", "tel:113"),
)
HELP_LINE = re.compile(r"(?<![\w.-])(?:113|0800[- ]?0113)(?![\w-])")


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
    # A new list of new dicts each time (callers may change them), split once per notice.
    split = _split_notice(notice_text(settings), settings.site.contact.phone)
    return [dict(segment) for segment in split]


@lru_cache(maxsize=8)
def _split_notice(text: str, phone: str | None) -> tuple[dict[str, str | None], ...]:
    patterns = list(CRISIS_LINKS)
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
    return tuple(segments)


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
    return not crisis_slugs(settings).isdisjoint(tag_slugs(article.tags))


_NOTICES: dict[tuple[Any, str], str] = {}


def notice_html(settings: Settings) -> str:
    """Return the notice as an HTML paragraph from the editable ``crisis_notice.html.j2``.

    Rendered once per template version and text: a large build shows it thousands of times.
    """
    segments = notice_segments(settings)
    try:
        environment = templating._environment(
            (settings.project_dir / TEMPLATES_DIR, skeleton_dir() / TEMPLATES_DIR), True
        )
        template: Any = environment.get_template(NOTICE_TEMPLATE)
    except Exception:  # any problem is reported by render() below, naming file and line
        template = None
    key = (template, json.dumps(segments, sort_keys=True))
    if template is None or key not in _NOTICES:
        html = templating.render_web(settings.project_dir, NOTICE_TEMPLATE, {"segments": segments})
        if template is None:
            return html
        if len(_NOTICES) > 32:
            _NOTICES.clear()
        _NOTICES[key] = html
    return _NOTICES[key]


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


def notice_warnings(settings: Settings) -> list[tuple[str, str, str]]:
    """Return (file, field, message) when ``topics.crisis_notice`` names no help line.

    The same warning in check (topic_warnings) and build: a notice without 113 or 0800-0113
    sends a reader in crisis nowhere.
    """
    notice = settings.topics.crisis_notice
    if notice is None or HELP_LINE.search(notice):
        return []
    return [
        (
            str(settings.path),
            "topics.crisis_notice",
            "does not mention 113 or 0800-0113; add 'Bel 113 of gratis 0800-0113, of chat "
            "via 113.nl', or remove the setting to use the default notice",
        )
    ]
