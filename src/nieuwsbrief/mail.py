"""The .eml (MIME) any mail service or sendmail can send, with the headers its profile asks."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from nieuwsbrief.config import Person
from nieuwsbrief.errors import NieuwsbriefError
from nieuwsbrief.services import MAIL_SERVICES

if TYPE_CHECKING:
    from nieuwsbrief.config import DigestSettings, Settings
    from nieuwsbrief.schedule import Window


def unsubscribe_link(settings: DigestSettings) -> str:
    """Return what the unsubscribe link points to: a service placeholder or the real URL."""
    service = MAIL_SERVICES[settings.mail_service]
    if service.placeholder is not None:
        return service.placeholder
    if settings.unsubscribe_url:
        return settings.unsubscribe_url
    return f"mailto:{settings.unsubscribe_mailto}?subject=afmelden"


def per_recipient(settings: DigestSettings) -> bool:
    """Tell whether the unsubscribe URL names the recipient by itself (RFC 8058 §3.1).

    A service placeholder is filled per recipient by the service; a generic URL only when it
    carries ``digest.recipient_placeholder``, which the sending tool fills for each recipient.
    """
    if MAIL_SERVICES[settings.mail_service].placeholder is not None:
        return True
    placeholder, url = settings.recipient_placeholder, settings.unsubscribe_url
    return bool(placeholder and url and placeholder in url)


def one_click_problem(settings: DigestSettings) -> str | None:
    """Say why the digest cannot offer one-click unsubscribe, and what to set; None if it can."""
    service = MAIL_SERVICES[settings.mail_service]
    if service.placeholder is not None:
        return None
    if not settings.unsubscribe_url:
        return (
            "only a mailto: unsubscribe is offered, so there is no one-click unsubscribe "
            "(Gmail and Yahoo require it of bulk senders since 2024); set "
            "digest.unsubscribe_url with digest.recipient_placeholder, or choose your mail "
            "service's profile in digest.mail_service"
        )
    if not per_recipient(settings):
        return (
            "the unsubscribe URL is the same for every reader, so it cannot be a one-click "
            "unsubscribe (RFC 8058 §3.1: the URL must name the recipient; Gmail and Yahoo "
            "require one-click of bulk senders since 2024); put the placeholder your sending "
            "tool fills per recipient in digest.unsubscribe_url and name it in "
            "digest.recipient_placeholder, or choose your mail service's profile"
        )
    return None


def unsubscribe_headers(settings: DigestSettings) -> dict[str, str]:
    """Return the List-Unsubscribe headers (RFC 2369, RFC 8058) the profile asks us to write.

    List-Unsubscribe-Post (one-click) only where the https URL names the recipient by itself:
    a one-click POST carries nothing but ``List-Unsubscribe=One-Click``.
    """
    service = MAIL_SERVICES[settings.mail_service]
    if not service.fills_headers:
        return {}
    targets = []
    url = unsubscribe_link(settings) if service.placeholder else settings.unsubscribe_url
    if url:
        targets.append(f"<{url}>")
    if settings.unsubscribe_mailto:
        targets.append(f"<mailto:{settings.unsubscribe_mailto}?subject=afmelden>")
    if not targets:
        return {}
    headers = {"List-Unsubscribe": ", ".join(targets)}
    if url and per_recipient(settings) and (url.startswith("https://") or service.placeholder):
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def list_id(title: str, host: str) -> str:
    """Return a List-Id header value (RFC 2919): the site's title and a label under its host."""
    # A phrase of plain words: RFC 5322 specials and quotes dropped, so non-ASCII words can
    # be encoded-words (RFC 2047 forbids those inside a quoted string).
    phrase = " ".join(re.sub(r'[()<>\[\]:;@\\,."\x00-\x1f\x7f]', " ", title).split())[:60].strip()
    label = "nieuwsbrief." + host.strip(".").lower()
    return f"{phrase} <{label}>" if phrase else f"<{label}>"


def _address(person: Person) -> Address:
    username, _, domain = (person.email or "").partition("@")
    return Address(display_name=person.name, username=username, domain=domain)


@dataclass(frozen=True)
class Envelope:
    """The headers of a digest message."""

    sender: Person
    to: Person
    reply_to: str | None
    subject: str
    date: dt.datetime
    message_id: str
    extra: dict[str, str]


# RFC 2045 §6.7: encoded lines are at most 76 characters, a soft break's "=" included.
QP_LINE = 76


# Printable ASCII but "=" stays as it is; every other character is written =XX per UTF-8 byte.
_QP_ESCAPE = re.compile(r"[^\t\x20-\x3c\x3e-\x7e]")


def _qp_escape(match: re.Match[str]) -> str:
    return "".join(f"={byte:02X}" for byte in match[0].encode("utf-8"))


def quoted_printable(text: str, keep: Iterable[str] = ()) -> str:
    """Encode ``text`` as quoted-printable, never breaking a line inside a ``keep`` string.

    Mail services look for their placeholders byte for byte in the raw message; the standard
    library's encoder puts soft line breaks wherever column 76 falls, splitting them. Here no
    soft break falls inside a placeholder (placeholders are printable ASCII without "=" and
    shorter than a line, so they are written as they are) or inside an =XX escape. Lines end
    in "\\n"; the generator writes them as CRLF.
    """
    tokens = sorted({token for token in keep if token}, key=len, reverse=True)
    finder = re.compile("|".join(re.escape(token) for token in tokens)) if tokens else None
    out: list[str] = []
    for line in text.split("\n"):
        encoded = _QP_ESCAPE.sub(_qp_escape, line)
        # Whitespace at the end of an encoded line would be lost in transport (§6.7 rule 3).
        if encoded.endswith((" ", "\t")):
            encoded = encoded[:-1] + f"={ord(encoded[-1]):02X}"
        spans = [m.span() for m in finder.finditer(encoded)] if finder else []
        start = 0
        while len(encoded) - start > QP_LINE:
            cut = start + QP_LINE - 1  # room for the soft break's "="
            # "=" only ever starts an escape here: never cut one in two.
            if encoded[cut - 1] == "=":
                cut -= 1
            elif encoded[cut - 2] == "=":
                cut -= 2
            for begin, end in spans:
                if begin < cut < end:
                    cut = begin
            out.append(encoded[start:cut] + "=")
            start = cut
        out.append(encoded[start:])
    return "\n".join(out)


def build_message(envelope: Envelope, text: str, html: str, keep: Iterable[str] = ()) -> bytes:
    """Return a complete RFC 5322 multipart/alternative message, byte-identical per input.

    No quoted-printable line break falls inside one of the ``keep`` strings (placeholders).
    """
    message = EmailMessage(policy=SMTP)
    message["From"] = _address(envelope.sender)
    message["To"] = _address(envelope.to)
    if envelope.reply_to:
        message["Reply-To"] = envelope.reply_to
    message["Subject"] = envelope.subject
    message["Date"] = email.utils.format_datetime(envelope.date)
    message["Message-ID"] = envelope.message_id
    for name, value in envelope.extra.items():  # List-Id, List-Unsubscribe, ...
        message[name] = value
    keep = tuple(keep)
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    for part, content in zip(message.iter_parts(), (text, html), strict=True):
        assert isinstance(part, EmailMessage)
        part.set_payload(quoted_printable(content, keep))
    # The standard library picks a random boundary; derive it from the content instead
    # so that the same digest always gives the same bytes.
    digest = hashlib.sha256((text + "\0" + html).encode("utf-8")).hexdigest()[:24]
    message.set_boundary(f"=_nieuwsbrief_{digest}")
    data = message.as_bytes(policy=SMTP)
    _check_headers(data, envelope)
    return data


def digest_message(
    settings: Settings,
    window: Window,
    subject: str,
    text: str,
    html: str,
    topic: str | None = None,
) -> tuple[Envelope, bytes]:
    """Return the envelope and the .eml of a week's digest (of a topic's with ``topic``).

    The Message-ID follows the content: a corrected digest is a new message, and the same
    content always gets the same one, so rebuilding changes nothing.
    """
    sender = settings.digest.sender or settings.site.author
    if not sender.email:
        raise NieuwsbriefError(
            f"{settings.path}: field 'digest.from': needs an email address to send the digest"
        )
    host = urlsplit(settings.site.base_url).hostname or "localhost"
    headers = {"List-Id": list_id(settings.site.title, host)}
    headers.update(unsubscribe_headers(settings.digest))
    content = hashlib.sha256(
        "\0".join((subject, text, html, json.dumps(headers, sort_keys=True))).encode("utf-8")
    ).hexdigest()[:16]
    envelope = Envelope(
        sender=sender,
        to=Person(sender.name, sender.email),
        reply_to=settings.digest.reply_to,
        subject=subject,
        date=window.send_moment,
        message_id=f"<{window.week}{'.' + topic if topic else ''}.{content}.digest@{host}>",
        extra=headers,
    )
    # Every service's placeholder stays whole in the quoted-printable parts, ours too.
    keep = [service.placeholder for service in MAIL_SERVICES.values() if service.placeholder]
    if settings.digest.recipient_placeholder:
        keep.append(settings.digest.recipient_placeholder)
    return envelope, build_message(envelope, text, html, keep)


def _same(one: str, other: str) -> bool:
    # Folding may change white space, no more: a long non-ASCII name becomes two encoded
    # words, and Python's parser reads a space between them that RFC 2047 says is not there.
    return "".join(one.split()) == "".join(other.split())


def _check_headers(data: bytes, envelope: Envelope) -> None:
    """Refuse a message whose headers, parsed as a mail program does, differ from the input.

    The second wall behind the settings' checks: a value holding an RFC 2047 encoded word
    ('=?...?=') is decoded by every reader, and a decoded line break makes a header of its
    own (an added Bcc:). Whatever the cause, no such message is written.
    """
    import email
    from email.policy import default

    from nieuwsbrief.errors import BuildError

    parsed = email.message_from_bytes(data, policy=default)
    expected = {"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"}
    expected |= set(envelope.extra) | ({"Reply-To"} if envelope.reply_to else set())
    known = {name.lower() for name in expected}
    problems = [name for name in sorted(expected) if len(parsed.get_all(name) or []) != 1]
    texts = {"Subject": envelope.subject, "Message-ID": envelope.message_id, **envelope.extra}
    if envelope.reply_to:
        texts["Reply-To"] = envelope.reply_to
    for name, value in texts.items():
        if not _same(str(parsed.get(name, "")), value):
            problems.append(name)
    for name, person in (("From", envelope.sender), ("To", envelope.to)):
        header = parsed.get(name)
        addresses: tuple[Address, ...] = getattr(header, "addresses", ())
        if len(addresses) != 1 or not (
            _same(addresses[0].display_name, person.name or "")
            and addresses[0].addr_spec == (person.email or "")
        ):
            problems.append(name)
    if not problems and any(name.lower() not in known for name in parsed):
        # A header of its own, named by the input: its name is not repeated here.
        problems.append("list (a header nieuwsbrief does not write)")
    if problems:
        raise BuildError(
            f"the digest's mail header {problems[0]} would not read as written "
            "(a setting holds an encoded word '=?...?=' or a line break); remove it from "
            "site.title, digest.subject and digest.from"
        )
