"""Render a week's digest: the MJML email fitted to the size limit, its text and web copy.

The .eml is mail.py's, the manifest manifest.py's, the archive page archive.py's; reading old
digests back from the output folder is the build's (build.read_manifests).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nieuwsbrief.articles import Article
from nieuwsbrief.config import Settings
from nieuwsbrief.dutch import dutch_date, phone_href, whatsapp_href
from nieuwsbrief.errors import BuildError
from nieuwsbrief.jsonout import json_bytes
from nieuwsbrief.mail import digest_message, unsubscribe_link
from nieuwsbrief.manifest import MANIFEST_FILE, digest_manifest
from nieuwsbrief.notice import digest_notice
from nieuwsbrief.schedule import Window
from nieuwsbrief.services import MAIL_SERVICES
from nieuwsbrief.templating import TEMPLATES_DIR, filter_links, render_template
from nieuwsbrief.urls import with_utm

DIGESTS_DIR = "digests"
HTML_TEMPLATE = "digest.mjml.j2"
TEXT_TEMPLATE = "digest.txt.j2"
# A URL the template can carry through Jinja, MRML and css-inline untouched marks where the
# unsubscribe link goes afterwards. Its last part is derived from the week's content and
# checked against it (see _unsubscribe_token), so no article can contain it: only what the
# template put there is ever replaced.
UNSUBSCRIBE_TOKEN = "https://nieuwsbrief.invalid/unsubscribe-placeholder"  # noqa: S105 - not a secret
# The preheader by default: this week's first titles, cut at a word to about this length.
PREHEADER_LIMIT = 110
# The .eml's HTML part as a file of its own: what editors upload to a mail service.
EMAIL_HTML = "email.html"


@dataclass(frozen=True)
class Digest:
    """One week's digest, rendered."""

    window: Window
    subject: str
    preheader: str
    items: list[Article]
    overflow: list[Article]
    html: str
    text: str
    eml: bytes
    manifest: dict[str, Any] = field(repr=False)
    # The HTML part of the .eml (``html`` is the copy for the website, without placeholders)
    # and the MJML source it was compiled from, for tests against official MJML.
    email_html: str = field(default="", repr=False)
    mjml: str = field(default="", repr=False)
    # The topic's slug of a per-topic digest (docs/topics.md); None for the main digest.
    topic: str | None = None

    @property
    def week(self) -> str:
        """Return the ISO week this digest belongs to, as ``YYYY-Www``."""
        return self.window.week

    def files(self) -> dict[str, bytes]:
        """Return the digest's files by path relative to the output folder."""
        folder = f"{DIGESTS_DIR}/{self.week}" + (f"/{self.topic}" if self.topic else "")
        return {
            f"{folder}/digest.html": self.html.encode("utf-8"),
            # The HTML part of the .eml on its own, with the service's unsubscribe placeholder:
            # the file to upload to a mail service (digest.html is the web copy, without it).
            # Its bytes are the decoded part's, with LF line ends: CRLF is the .eml's transport
            # form (RFC 5322), and no other output holds a carriage return.
            f"{folder}/{EMAIL_HTML}": self.email_html.encode("utf-8"),
            f"{folder}/digest.txt": self.text.encode("utf-8"),
            f"{folder}/digest.eml": self.eml,
            f"{folder}/{MANIFEST_FILE}": json_bytes(self.manifest),
        }


def web_url(settings: Settings, week: str, topic: str | None = None) -> str:
    """Return the absolute URL of a digest's web version (of a topic's digest with ``topic``)."""
    folder = f"{week}/{topic}" if topic else week
    return settings.site.url(f"{settings.feeds.path.strip('/')}/{DIGESTS_DIR}/{folder}/digest.html")


def subject_line(settings: Settings, window: Window, count: int) -> str:
    """Fill the subject template from the settings for this week."""
    year, week_number, _ = window.send_moment.isocalendar()
    return settings.digest.subject.format(
        site=settings.site.title,
        week=window.week,
        week_number=week_number,
        year=year,
        count=count,
        date=dutch_date(window.send_moment.astimezone(settings.digest.timezone)),
    )


def default_preheader(items: Sequence[Article], address_form: str) -> str:
    """Return the inbox preview text: this week's first titles, so it changes every week."""
    if not items:
        return (
            "Deze week geen nieuwe artikelen, wel hoe je ons bereikt."
            if address_form == "je"
            else "Deze week geen nieuwe artikelen, wel hoe u ons bereikt."
        )
    text = "Deze week: " + " · ".join(article.title for article in items)
    if len(text) <= PREHEADER_LIMIT:
        return text
    cut = text[: PREHEADER_LIMIT - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ·,;:") + "…"


def _reason(settings: Settings) -> str:
    if settings.site.address_form == "je":
        return f"Je ontvangt deze nieuwsbrief omdat je je hebt aangemeld bij {settings.site.title}."
    return f"U ontvangt deze nieuwsbrief omdat u zich heeft aangemeld bij {settings.site.title}."


def web_unsubscribe(settings: Settings) -> tuple[str | None, str]:
    """Return the web copy's unsubscribe link (None: there is none) and the hint without one.

    The website never shows a mail service's placeholder or a per-recipient URL: a fixed
    unsubscribe page or mailto address works for anyone, otherwise the text says where the
    link is.
    """
    digest = settings.digest
    url, placeholder = digest.unsubscribe_url, digest.recipient_placeholder
    if url and not (placeholder and placeholder in url):
        return url, ""
    if digest.unsubscribe_mailto:
        return f"mailto:{digest.unsubscribe_mailto}?subject=afmelden", ""
    mailbox = "je mailbox" if settings.site.address_form == "je" else "uw mailbox"
    return None, f"Afmelden kan met de link onderaan de nieuwsbrief in {mailbox}."


def _unsubscribe_token(*texts: object) -> str:
    """Return a marker URL that occurs in none of ``texts`` (same texts, same marker)."""
    seen = json.dumps(texts, ensure_ascii=False, default=str)
    salt = hashlib.sha256(seen.encode("utf-8")).hexdigest()[:16]
    for attempt in range(1000):
        token = f"{UNSUBSCRIBE_TOKEN}-{salt}-{attempt}"
        if token not in seen:
            return token
    raise BuildError("no unsubscribe marker is free of the digest's text")  # pragma: no cover


def _item(article: Article, settings: Settings, week: str) -> dict[str, Any]:
    return {
        "title": article.title,
        "summary": article.summary,
        "date_text": dutch_date(article.date.astimezone(settings.site.timezone)),
        "author": article.author,
        "image": article.image,
        "image_alt": article.image_alt or "",
        "link": with_utm(article.url, week),
        "url": article.url,
        "crisis": digest_notice(settings, article),
    }


def _context(
    settings: Settings,
    window: Window,
    subject: str,
    items: Sequence[Article],
    overflow: Sequence[Article],
    unsubscribe_url: str | None,
    *,
    preheader: str,
    web_copy: bool = False,
    unsubscribe_hint: str = "",
    topic: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    contact = settings.site.contact
    local_send = window.send_moment.astimezone(settings.digest.timezone)
    je = settings.site.address_form == "je"
    default_intro = f"Dit zijn de artikelen die we deze week voor {'je' if je else 'u'} schreven."
    return {
        "site": settings.site,
        "address_form": settings.site.address_form,
        "contact": {
            "phone": contact.phone,
            "phone_href": phone_href(contact.phone) if contact.phone else None,
            "whatsapp": contact.whatsapp,
            "whatsapp_href": whatsapp_href(contact.whatsapp) if contact.whatsapp else None,
            "email": contact.email,
            "booking_url": contact.booking_url,
            "booking_text": contact.booking_text,
            "address": contact.address,
        },
        "subject": subject,
        "preheader": preheader,
        "intro": settings.digest.intro or default_intro,
        "reason": _reason(settings),
        "web_copy": web_copy,
        "unsubscribe_hint": unsubscribe_hint,
        "week": window.week,
        "week_number": local_send.isocalendar()[1],
        "send_date": dutch_date(local_send),
        "items": [_item(article, settings, window.week) for article in items],
        "overflow": [_item(article, settings, window.week) for article in overflow],
        "web_url": web_url(settings, window.week, topic["slug"] if topic else None),
        "unsubscribe_url": unsubscribe_url,
        "topic": topic,
    }


def compile_mjml(source: str, template: Path) -> str:
    """Compile MJML to HTML without remote fonts; a parse error names the template."""
    from mjml import mjml2html

    try:
        return str(mjml2html(source, disable_comments=True, fonts={}))
    except ValueError as exc:
        raise BuildError(f"{template}: MJML error: {exc}") from None


def inline_css(html: str) -> str:
    """Copy the CSS of the <style> blocks into style attributes, keeping the blocks.

    Gmail's apps (with other than Google accounts) and Gmail's mobile webmail drop <style>;
    what carries layout and colour must be inline. Media queries (phone layout, dark mode)
    cannot be inlined and stay in <style> for the clients that read it.
    """
    import css_inline

    inliner = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False)
    return str(inliner.inline(html))


def _html(
    settings: Settings, context: Mapping[str, Any], token: str, unsubscribe: str | None
) -> tuple[str, str]:
    """Return the compiled, inlined HTML with the unsubscribe link put in, and its MJML."""
    templates = settings.project_dir / TEMPLATES_DIR
    source = render_template(templates, HTML_TEMPLATE, context, html=True)
    try:
        html = inline_css(compile_mjml(source, templates / HTML_TEMPLATE))
    except ValueError as exc:  # css_inline.InlineError
        raise BuildError(f"{templates / HTML_TEMPLATE}: CSS error: {str(exc)[:200]}") from None
    html = filter_links(html, templates / HTML_TEMPLATE)  # web and mail: no javascript: etc.
    if unsubscribe is not None:
        # Placeholders are the services' own syntax (SendGrid's holds < and >): put them in
        # after Jinja, MRML and css-inline, raw, because the service looks for them byte for
        # byte. Only the marker the template put there is replaced (see _unsubscribe_token).
        if MAIL_SERVICES[settings.digest.mail_service].placeholder is None:
            unsubscribe = _escape_attribute(unsubscribe)  # a real URL from the settings
        html = html.replace(token, unsubscribe)
    # End with a newline like the text part, so the file and the MIME part are equal.
    return (html if html.endswith("\n") else html + "\n"), source


def _escape_attribute(value: str) -> str:
    from markupsafe import escape

    return str(escape(value))


def render_digest(
    settings: Settings,
    window: Window,
    articles: Sequence[Article],
    *,
    topic: Mapping[str, str] | None = None,
) -> tuple[Digest, list[str]]:
    """Render the digest of ``window`` from its articles (newest first); return warnings too.

    With ``topic`` (its slug and name) it is that topic's digest (docs/topics.md).
    """
    warnings: list[str] = []
    limit = settings.digest.max_items
    items = list(articles[:limit])
    overflow = list(articles[limit:])
    unsubscribe = unsubscribe_link(settings.digest)
    token = _unsubscribe_token(
        [_item(article, settings, window.week) for article in articles],
        settings.raw,
    )
    while True:
        subject = subject_line(settings, window, len(articles))
        preheader = settings.digest.preheader or default_preheader(
            items or overflow, settings.site.address_form
        )
        context = _context(
            settings, window, subject, items, overflow, token, preheader=preheader, topic=topic
        )
        html, source = _html(settings, context, token, unsubscribe)
        if len(html.encode("utf-8")) <= settings.digest.max_html_bytes or not items:
            break
        # Too big for Gmail's clipping limit: list the oldest full item by title only.
        overflow.insert(0, items.pop())
    if overflow:
        warnings.append(
            f"digest {window.week}: {len(overflow)} article(s) listed by title only "
            f"(at most {limit} items and {settings.digest.max_html_bytes:,} bytes of HTML)"
        )
    templates = settings.project_dir / TEMPLATES_DIR
    text = render_template(templates, TEXT_TEMPLATE, context, html=False).replace(
        token, unsubscribe
    )
    web_link, hint = web_unsubscribe(settings)
    web_context = _context(
        settings,
        window,
        subject,
        items,
        overflow,
        None if web_link is None else token,
        preheader=preheader,
        web_copy=True,
        unsubscribe_hint=hint,
        topic=topic,
    )
    web_html, _ = _html(settings, web_context, token, web_link)
    envelope, eml = digest_message(
        settings, window, subject, text, html, topic["slug"] if topic else None
    )
    folder_files = {
        "digest.html": web_html.encode("utf-8"),
        EMAIL_HTML: html.encode("utf-8"),
        "digest.txt": text.encode("utf-8"),
        "digest.eml": eml,
    }
    manifest = digest_manifest(
        settings,
        window,
        subject,
        preheader,
        items,
        overflow,
        envelope,
        folder_files,
        web_url(settings, window.week, topic["slug"] if topic else None),
    )
    if topic:
        manifest["topic"] = {"slug": topic["slug"], "name": topic["name"]}
    digest = Digest(
        window,
        subject,
        preheader,
        items,
        overflow,
        web_html,
        text,
        eml,
        manifest,
        email_html=html,
        mjml=source,
        topic=topic["slug"] if topic else None,
    )
    return digest, warnings


