"""Send a built digest as a test mail over SMTP."""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from pathlib import Path

from nieuwsbrief.config import SmtpSettings
from nieuwsbrief.errors import NieuwsbriefError


class SendError(NieuwsbriefError):
    """The test mail could not be delivered to the SMTP server."""


def test_message(eml: Path, to: str) -> tuple[bytes, str]:
    """Return the .eml's bytes addressed to ``to`` only, and the envelope sender."""
    import email
    import email.policy
    import email.utils

    try:
        raw = eml.read_bytes()
    except FileNotFoundError:
        raise SendError(
            f"{eml}: no digest to send; run 'nieuwsbrief build' first (or pick --digest-week)"
        ) from None
    message = email.message_from_bytes(raw, policy=email.policy.SMTP)
    sender = email.utils.parseaddr(str(message["From"]))[1]
    # A test goes to the editor, never to the list: replace To, keep everything else.
    del message["To"]
    message["To"] = to
    return message.as_bytes(policy=email.policy.SMTP), sender


def send_test(eml: Path, to: str, settings: SmtpSettings) -> str:
    """Deliver ``eml`` to ``to`` through the configured SMTP server; return a summary."""
    data, sender = test_message(eml, to)
    password = os.environ.get(settings.password_env)
    if settings.user and not password:
        raise SendError(
            f"smtp.user is set but the environment variable {settings.password_env} is empty; "
            f"export {settings.password_env}=... before sending"
        )
    where = f"{settings.host}:{settings.port}"
    client: smtplib.SMTP
    try:
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                timeout=settings.timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"cannot reach the SMTP server {where}: {_reason(exc)}") from None
    try:
        with client:
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.user and password:
                client.login(settings.user, password)
            client.sendmail(sender, [to], data)
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(
            f"{where} refused the login of {settings.user!r}: {_reason(exc)}; "
            f"check smtp.user and {settings.password_env}"
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        reasons = "; ".join(_reason(error) for error in exc.recipients.values())
        raise SendError(f"{where} rejected the recipient {to}: {reasons}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise SendError(
            f"{where} does not support that: {_reason(exc)}; "
            "check smtp.security (starttls, ssl or none)"
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"sending through {where} failed: {_reason(exc)}") from None
    return f"sent {eml} to {to} through {where}"


def _reason(error: object) -> str:
    if isinstance(error, tuple) and len(error) == 2:
        code, message = error
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
        return f"{code} {text}"
    if isinstance(error, smtplib.SMTPResponseException):
        return _reason((error.smtp_code, error.smtp_error))
    if isinstance(error, socket.timeout):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
