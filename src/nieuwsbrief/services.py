"""Mail-service profiles: data only, read by the settings (the names) and the MIME writer.

To add a service: one ``MailService`` line below (its unsubscribe placeholder, and whether it
fills our List-Unsubscribe header or writes its own), then a section in docs/mail-services.md.
"""

from __future__ import annotations

from dataclasses import dataclass


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
