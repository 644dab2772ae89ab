"""Mail-service profiles and the MIME message (.eml) any of them, or sendmail, can send."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only for annotations: config imports this module for the profile names.
    from nieuwsbrief.config import DigestSettings, Person


@dataclass(frozen=True)
class MailService:
    """How one mail service writes its unsubscribe link, and who writes the headers."""

    name: str
    placeholder: str | None
    # True: the service substitutes its placeholder in our List-Unsubscribe header.
    # False: the service adds List-Unsubscribe and List-Unsubscribe-Post headers itself.
    fills_headers: bool
    note: str


MAIL_SERVICES: dict[str, MailService] = {
    service.name: service
    for service in (
        MailService("generic", None, True, "digest.unsubscribe_url, as it is"),
        MailService("mailchimp", "*|UNSUB|*", False, "Mailchimp adds the headers itself"),
        MailService(
            "sendgrid",
            "<%asm_group_unsubscribe_raw_url%>",
            False,
            "SendGrid adds the headers for unsubscribe groups",
        ),
        MailService("mailgun", "%unsubscribe_url%", True, "Mailgun fills variables in headers"),
        MailService(
            "postmark", "{{{ pm:unsubscribe }}}", False, "Postmark adds the headers on broadcasts"
        ),
        MailService("brevo", "{{ unsubscribe }}", False, "Brevo adds the headers itself"),
        MailService("mailjet", "[[UNSUB_LINK_NL]]", False, "Mailjet adds the headers itself"),
        MailService("listmonk", "{{ UnsubscribeURL }}", False, "listmonk adds the headers itself"),
        MailService(
            "ses",
            "{{amazonSESUnsubscribeUrl}}",
            False,
            "SES subscription management adds the headers",
        ),
    )
}


def unsubscribe_link(settings: DigestSettings) -> str:
    """Return what the unsubscribe link points to: a service placeholder or the real URL."""
    service = MAIL_SERVICES[settings.mail_service]
    if service.placeholder is not None:
        return service.placeholder
    if settings.unsubscribe_url:
        return settings.unsubscribe_url
    return f"mailto:{settings.unsubscribe_mailto}?subject=afmelden"


def unsubscribe_headers(settings: DigestSettings) -> dict[str, str]:
    """Return the List-Unsubscribe headers (RFC 2369, RFC 8058) the profile asks us to write."""
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
    if url and (url.startswith("https://") or service.placeholder):
        # One-click unsubscribe needs an https URL that accepts a POST (Gmail, Yahoo, 2024).
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


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


def build_message(envelope: Envelope, text: str, html: str) -> bytes:
    """Return a complete RFC 5322 multipart/alternative message, byte-identical per input."""
    message = EmailMessage(policy=SMTP)
    message["From"] = _address(envelope.sender)
    message["To"] = _address(envelope.to)
    if envelope.reply_to:
        message["Reply-To"] = envelope.reply_to
    message["Subject"] = envelope.subject
    message["Date"] = email.utils.format_datetime(envelope.date)
    message["Message-ID"] = envelope.message_id
    for name, value in envelope.extra.items():
        message[name] = value
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    # The standard library picks a random boundary; derive it from the content instead
    # so that the same digest always gives the same bytes.
    digest = hashlib.sha256((text + "\0" + html).encode("utf-8")).hexdigest()[:24]
    message.set_boundary(f"=_nieuwsbrief_{digest}")
    return message.as_bytes(policy=SMTP)
