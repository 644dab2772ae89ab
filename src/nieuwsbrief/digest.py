"""Render the weekly digest: MJML email, plain text, .eml and manifest, and the web archive."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from nieuwsbrief.articles import Article
from nieuwsbrief.config import Person, Settings
from nieuwsbrief.errors import BuildError, NieuwsbriefError
from nieuwsbrief.mail import (
    MAIL_SERVICES,
    Envelope,
    build_message,
    list_id,
    unsubscribe_headers,
    unsubscribe_link,
)
from nieuwsbrief.schedule import Window
from nieuwsbrief.templating import filter_links
from nieuwsbrief.topics import digest_notice

if TYPE_CHECKING:
    import jinja2

DIGESTS_DIR = "digests"
HTML_TEMPLATE = "digest.mjml.j2"
TEXT_TEMPLATE = "digest.txt.j2"
ARCHIVE_TEMPLATE = "archive.html.j2"
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
            f"{folder}/manifest.json": _json(self.manifest),
        }


def _json(data: Mapping[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# Templates are code that runs on every build: templating.py holds the one sandbox and its
# limits (size, output, loop steps, links out of templates/).
def _environment(templates: Path, autoescape: bool) -> jinja2.Environment:
    from nieuwsbrief import templating

    return templating._environment((templates,), autoescape)


def render_template(templates: Path, name: str, context: Mapping[str, Any], *, html: bool) -> str:
    """Render one of the editable templates; a broken template is a clear build error."""
    from nieuwsbrief import templating

    return templating.render(templates, name, context, html=html)


def dutch_date(moment: dt.datetime | dt.date) -> str:
    """Format a date the Dutch way: '7 november 2025'."""
    from babel.dates import format_date

    day = moment.date() if isinstance(moment, dt.datetime) else moment
    return str(format_date(day, "d MMMM y", locale="nl"))


def with_utm(url: str, week: str) -> str:
    """Add the digest's campaign parameters to an article link."""
    parts = urlsplit(url)
    utm = urlencode({"utm_source": "nieuwsbrief", "utm_medium": "email", "utm_campaign": week})
    query = f"{parts.query}&{utm}" if parts.query else utm
    return urlunsplit(parts._replace(query=query))


def phone_href(number: str) -> str:
    """Return a tel: link for a Dutch phone number as people write it ('020 123 4567')."""
    digits = re.sub(r"[^\d+]", "", number)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0"):
        digits = "+31" + digits[1:]
    return f"tel:{digits}"


def whatsapp_href(number: str) -> str:
    """Return the wa.me link for a phone number."""
    return "https://wa.me/" + phone_href(number).removeprefix("tel:+")


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
    templates = settings.project_dir / "templates"
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
    templates = settings.project_dir / "templates"
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
    sender = settings.digest.sender or settings.site.author
    if not sender.email:
        raise NieuwsbriefError(
            f"{settings.path}: field 'digest.from': needs an email address to send the digest"
        )
    host = urlsplit(settings.site.base_url).hostname or "localhost"
    headers = {"List-Id": list_id(settings.site.title, host)}
    headers.update(unsubscribe_headers(settings.digest))
    # A new Message-ID when the content changes (a corrected digest is a new message), the
    # same one for the same content, so rebuilding changes nothing.
    content = hashlib.sha256(
        "\0".join((subject, text, html, json.dumps(headers, sort_keys=True))).encode("utf-8")
    ).hexdigest()[:16]
    envelope = Envelope(
        sender=sender,
        to=Person(sender.name, sender.email),
        reply_to=settings.digest.reply_to,
        subject=subject,
        date=window.send_moment,
        message_id=f"<{window.week}{'.' + topic['slug'] if topic else ''}.{content}.digest@{host}>",
        extra=headers,
    )
    keep = [name.placeholder for name in MAIL_SERVICES.values() if name.placeholder]
    if settings.digest.recipient_placeholder:
        keep.append(settings.digest.recipient_placeholder)
    eml = build_message(envelope, text, html, keep)
    manifest = _manifest(
        settings, window, subject, preheader, items, overflow, web_html, text, eml, envelope, html
    )
    if topic:
        manifest["topic"] = {"slug": topic["slug"], "name": topic["name"]}
        manifest["web_url"] = web_url(settings, window.week, topic["slug"])
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


def _manifest(
    settings: Settings,
    window: Window,
    subject: str,
    preheader: str,
    items: Sequence[Article],
    overflow: Sequence[Article],
    html: str,
    text: str,
    eml: bytes,
    envelope: Envelope,
    email_html: str,
) -> dict[str, Any]:
    def describe(article: Article) -> dict[str, str]:
        return {
            "slug": article.slug,
            "title": article.title,
            "url": article.url,
            "link": with_utm(article.url, window.week),
            "date": article.date.isoformat(),
        }

    files = {
        "digest.html": html.encode("utf-8"),
        EMAIL_HTML: email_html.encode("utf-8"),
        "digest.txt": text.encode("utf-8"),
        "digest.eml": eml,
    }
    return {
        "week": window.week,
        "subject": subject,
        "preheader": preheader,
        "message_id": envelope.message_id,
        "send_at": window.send_moment.isoformat(),
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        "from": {"name": envelope.sender.name, "email": envelope.sender.email},
        "reply_to": envelope.reply_to,
        "mail_service": settings.digest.mail_service,
        "unsubscribe": unsubscribe_link(settings.digest),
        "headers": envelope.extra,
        "web_url": web_url(settings, window.week),
        "articles": [describe(article) for article in items],
        "overflow": [describe(article) for article in overflow],
        "files": [
            {
                "name": name,
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            for name, data in files.items()
        ],
    }


def render_archive(
    settings: Settings,
    manifests: Sequence[Mapping[str, Any]],
    topics: Mapping[str, Any] | None = None,
) -> bytes:
    """Render ``digests/index.html``: every digest, newest first.

    ``topics`` holds the topic layer's additions (docs/topics.md): ``feeds``, the per-topic
    feeds to advertise, and ``digests``, per week the per-topic digests.
    """
    from nieuwsbrief.feeds import RSS_FILE, feed_url

    digests = [
        {
            "week": manifest["week"],
            "subject": manifest["subject"],
            "send_date": dutch_date(
                dt.datetime.fromisoformat(manifest["send_at"]).astimezone(settings.digest.timezone)
            ),
            "count": len(manifest["articles"]) + len(manifest.get("overflow", [])),
            "href": f"{manifest['week']}/digest.html",
        }
        for manifest in sorted(manifests, key=lambda m: str(m["week"]), reverse=True)
    ]
    html = render_template(
        settings.project_dir / "templates",
        ARCHIVE_TEMPLATE,
        {
            "site": settings.site,
            "digests": digests,
            "rss_url": feed_url(settings, RSS_FILE),
            "topic_feeds": (topics or {}).get("feeds", []),
            "topic_digests": (topics or {}).get("digests", {}),
        },
        html=True,
    )
    html = filter_links(html, settings.project_dir / "templates" / ARCHIVE_TEMPLATE)
    return html.encode("utf-8")


MAX_MANIFEST_BYTES = 1_000_000
_MANIFEST_FILE = re.compile(r"^digests/(\d{4}-W\d{2})/manifest\.json$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def read_manifests(
    out: Path, owned: Iterable[str] | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Read back the manifests of the digests already in ``out``; return them and warnings.

    ``owned`` names the files nieuwsbrief wrote (its record); only their manifests are read.
    A manifest is untrusted input: one that fails the rules fresh input meets (see
    :func:`check_manifest`) is left out, with a warning naming the file.
    """
    if owned is None:
        names = [path.relative_to(out).as_posix() for path in (out / DIGESTS_DIR).glob("*/*")]
    else:
        names = list(owned)
    manifests: list[dict[str, Any]] = []
    warnings: list[str] = []
    for name in sorted(names):
        match = _MANIFEST_FILE.match(name)
        if not match:
            continue
        path = out / name
        try:
            real = Path(os.path.realpath(path))
            if path.is_symlink() or not path.is_file() or not real.is_relative_to(out.resolve()):
                raise ValueError("is not a regular file inside the output folder")
            if path.stat().st_size > MAX_MANIFEST_BYTES:
                raise ValueError(f"is larger than {MAX_MANIFEST_BYTES:,} bytes")
            data = json.loads(path.read_bytes().decode("utf-8"), parse_constant=_no_constant)
            manifests.append(check_manifest(data, match[1]))
        except FileNotFoundError:
            continue
        except (OSError, ValueError, RecursionError) as exc:
            problem = str(exc) if not isinstance(exc, RecursionError) else "is nested too deeply"
            warnings.append(
                f"{path}: left out of the digest archive: {_CONTROL.sub('?', problem)[:200]}; "
                "rebuild that week's digest or delete its folder"
            )
    return manifests, warnings


def _no_constant(name: str) -> Any:
    raise ValueError(f"holds {name}, which is not JSON")


def _text(value: Any, where: str, limit: int, *, lines: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"field '{where}' is not text")
    if len(value) > limit:
        raise ValueError(f"field '{where}' is longer than {limit} characters")
    if _CONTROL.search(value.replace("\n", "").replace("\t", "") if lines else value):
        raise ValueError(f"field '{where}' holds control characters")
    return value


def _walk(value: Any, where: str, depth: int = 0) -> None:
    """Check every value: bounded text without control characters, ints in range."""
    if depth > 8:
        raise ValueError(f"field '{where}' is nested too deeply")
    if isinstance(value, dict):
        if len(value) > 200:
            raise ValueError(f"field '{where}' has too many keys")
        for key, item in value.items():
            _text(key, where, 100)
            _walk(item, f"{where}.{key}" if where else key, depth + 1)
    elif isinstance(value, list):
        if len(value) > 10_000:
            raise ValueError(f"field '{where}' has more than 10,000 entries")
        for index, item in enumerate(value):
            _walk(item, f"{where}[{index}]", depth + 1)
    elif isinstance(value, str):
        # Fields a later version adds may hold lines; the fields the archive shows may not.
        _text(value, where, 20_000, lines=True)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not 0 <= value <= 1_000_000_000:
            raise ValueError(f"field '{where}' is not a count between 0 and 1,000,000,000")
    else:
        raise ValueError(f"field '{where}' is not text, a count, a list or a mapping")


def check_manifest(data: Any, week: str) -> dict[str, Any]:
    """Return a manifest read back from disk if it meets the rules of fresh output.

    Raise ValueError naming the field otherwise. ``week`` is the folder it was found in.
    """
    from nieuwsbrief.articles import SLUG
    from nieuwsbrief.schedule import parse_iso_week

    if not isinstance(data, dict):
        raise ValueError("is not a JSON object")
    _walk(data, "")
    for key in ("week", "subject", "send_at", "articles"):
        if key not in data:
            raise ValueError(f"field '{key}' is missing")
    parse_iso_week(_text(data["week"], "week", 8))
    if data["week"] != week:
        raise ValueError(f"field 'week' says {data['week']!r} in the folder of {week}")
    _text(data["subject"], "subject", 500)
    try:
        send_at = dt.datetime.fromisoformat(_text(data["send_at"], "send_at", 40))
    except ValueError:
        raise ValueError("field 'send_at' is not an ISO 8601 date-time") from None
    if send_at.tzinfo is None:
        raise ValueError("field 'send_at' has no UTC offset")
    for key in ("articles", "overflow"):
        items = data.get(key, [])
        if not isinstance(items, list):
            raise ValueError(f"field '{key}' is not a list")
        for item in items:
            if not isinstance(item, dict):
                raise ValueError(f"field '{key}' holds an entry that is not a mapping")
            if not SLUG.match(_text(item.get("slug"), f"{key}.slug", 200)):
                raise ValueError(f"field '{key}.slug' is not a slug")
            _text(item.get("title"), f"{key}.title", 500)
    for entry in data.get("files", []):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("bytes"), int)
            and isinstance(entry.get("sha256"), str)
            and _SHA256_HEX.match(entry["sha256"])
        ):
            raise ValueError("field 'files' holds an entry without name, bytes and sha256")
    return data
