"""Send a built digest as a test mail over SMTP."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
import smtplib
import socket
import ssl
import stat
from pathlib import Path

from nieuwsbrief.config import SmtpSettings
from nieuwsbrief.errors import ArgumentError, NieuwsbriefError, quote


class SendError(NieuwsbriefError):
    """The test mail could not be delivered to the SMTP server."""


_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def check_address(address: str) -> str:
    """Return ``address`` if it is one plain e-mail address; raise ``ValueError`` otherwise."""
    if not _ADDRESS.fullmatch(address):
        raise ValueError(
            f"{quote(address)} is not a single e-mail address such as redactie@example.nl"
        )
    return address


_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


# The largest digest.eml a build writes. Its HTML part is at most digest.max_html_bytes
# (config.py allows up to 10,000,000) and its text part is smaller; quoted-printable (mail.py)
# writes a byte as at most "=XX", plus a soft break per 76 characters, so each part is at
# most 3.1 times its text. 64 MB holds both and the headers (the example's digest is 80 kB).
MAX_DIGEST_BYTES = 64_000_000
# How much of an SMTP server's reply a message shows (errors.quote cuts the rest).
REPLY_LIMIT = 200
_REBUILD = "move it away and run 'nieuwsbrief build' again"


def _read_regular(path: Path, limit: int, fix: str) -> bytes:
    """Return the bytes of ``path``, a regular file (not a link) of at most ``limit`` bytes.

    Raises ``FileNotFoundError`` when there is none. The kind and size are those of what is
    read: a link is never followed, a FIFO never waited on, a file that grows is read no
    further than ``limit`` + 1 bytes.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SendError(f"{path} is not a regular file but a symbolic link; {fix}") from None
        if exc.errno == errno.ENXIO:
            raise SendError(f"{path} is not a regular file but a socket; {fix}") from None
        raise SendError(f"{path} cannot be read: {exc.strerror}; {fix}") from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)  # before fdopen, which refuses a folder
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "a special file")
        raise SendError(f"{path} is not a regular file but {kind}; {fix}")
    too_large = SendError(
        f"{path} is larger than {limit:,} bytes, more than nieuwsbrief ever writes there; {fix}"
    )
    with os.fdopen(descriptor, "rb") as file:
        if info.st_size > limit:
            raise too_large
        try:
            data = file.read(limit + 1)
        except OSError as exc:
            raise SendError(f"{path} cannot be read: {exc.strerror}; {fix}") from None
    if len(data) > limit:
        raise too_large
    return data


def read_digest_file(eml: Path) -> bytes:
    """Return the bytes of a built ``digest.eml``: a regular file, not a link; refuse others.

    A build writes it as a plain file of at most :data:`MAX_DIGEST_BYTES`, so anything else
    was put there by hand: following a link would mail whatever file it points at, opening a
    FIFO without O_NONBLOCK would wait for a writer forever, and a huge file would be read
    into memory whole.
    """
    fix = f"a build writes it as a plain file: {_REBUILD}"
    try:
        return _read_regular(eml, MAX_DIGEST_BYTES, fix)
    except FileNotFoundError:
        raise SendError(
            f"{eml}: no digest to send; run 'nieuwsbrief build' first (or pick a built week)"
        ) from None


def read_built_digest(eml: Path) -> bytes:
    """Return the bytes of ``eml`` (``OUT/digests/WEEK/digest.eml``) if nieuwsbrief wrote them.

    They must be the bytes whose SHA-256 the week's ``manifest.json`` lists for
    ``digest.eml`` and the output record of OUT (output.RECORD_FILE) lists as written by
    nieuwsbrief: a digest edited, swapped or put there by hand is never mailed, also not
    when its manifest or the record is gone.
    """
    from nieuwsbrief.manifest import MANIFEST_FILE, MAX_MANIFEST_BYTES, check_manifest
    from nieuwsbrief.output import RECORD_FILE, written_hash

    folder = eml.parent
    out = folder.parent.parent
    manifest_path = folder / MANIFEST_FILE
    # The manifest holds the SHA-256 of the digest the build wrote: without a manifest
    # nieuwsbrief wrote, send cannot tell whether digest.eml is that digest.
    try:
        raw_manifest = _read_regular(manifest_path, MAX_MANIFEST_BYTES, _REBUILD)
    except FileNotFoundError:
        raise SendError(
            f"{manifest_path} is missing, so nothing says digest.eml is the digest "
            "nieuwsbrief built; run 'nieuwsbrief build' again"
        ) from None
    try:
        manifest = check_manifest(json.loads(raw_manifest.decode("utf-8")), folder.name)
    except (ValueError, RecursionError):
        raise SendError(
            f"{manifest_path} is not a manifest nieuwsbrief wrote; {_REBUILD}"
        ) from None
    listed = [entry["sha256"] for entry in manifest.get("files", []) if entry["name"] == eml.name]
    if not listed:
        raise SendError(
            f"{manifest_path}: field 'files' does not list {eml.name} with its SHA-256, so "
            f"nothing says {eml.name} is the digest nieuwsbrief built; {_REBUILD}"
        )
    data = read_digest_file(eml)
    digest = hashlib.sha256(data).hexdigest()
    if digest != listed[0]:
        raise SendError(
            f"{eml} was changed after the build: its SHA-256 is not the one {MANIFEST_FILE} "
            f"lists for it; {_REBUILD}"
        )
    record = out / RECORD_FILE
    try:
        written = written_hash(out, eml.relative_to(out).as_posix())
    except OSError as exc:  # read_record refuses links and FIFOs itself; a folder lands here
        raise SendError(
            f"{record} cannot be read ({exc.strerror}); it is the record of what nieuwsbrief "
            f"wrote, which send checks {eml.name} against: {_REBUILD}"
        ) from None
    if written != digest:
        why = (
            "is missing"
            if not (record.exists() or record.is_symlink())
            else "does not list these bytes as nieuwsbrief's"
        )
        raise SendError(f"{eml}: the output record {record} {why}; {_REBUILD}")
    return data


def addressed_copy(eml: Path, to: str, now: dt.datetime | None = None) -> tuple[bytes, str]:
    """Return the .eml's bytes addressed to ``to`` only, and the envelope sender.

    To, Date and Message-ID change, in place: a test mail is a message of its own, sent now
    (a corrected test must not reuse the earlier test's Message-ID, nor carry the future send
    date). Every other byte is the file's, so the test mail is what a mail service would get.
    """
    import email.utils

    moment = (now or dt.datetime.now(dt.UTC)).astimezone()

    try:
        address = check_address(to).encode("ascii")
    except ValueError as exc:
        raise ArgumentError("to", str(exc)) from None
    raw = read_built_digest(eml)
    newline = b"\r\n" if b"\r\n" in raw[:1000] else b"\n"
    head, separator, body = raw.partition(newline + newline)
    if not separator:
        raise SendError(f"{eml}: not an e-mail message (no blank line after the headers)")
    headers: list[bytes] = []
    for line in head.split(newline):
        if line[:1] in (b" ", b"\t") and headers:
            headers[-1] += newline + line  # a folded continuation of the previous header
        else:
            headers.append(line)

    def name(header: bytes) -> bytes:
        return header.partition(b":")[0].strip().lower()

    # A test goes to the editor, never to the list: one To where the first was (or after
    # From), every other header as it is.
    names = [name(header) for header in headers]
    at = (
        names.index(b"to")
        if b"to" in names
        else names.index(b"from") + 1
        if b"from" in names
        else 0
    )
    headers = [header for header in headers if name(header) != b"to"]
    headers.insert(at, b"To: " + address)
    stamp = email.utils.format_datetime(moment).encode("ascii")
    message_ids = [h for h in headers if name(h) == b"message-id"]
    domain = message_ids[0].rpartition(b"@")[2].strip(b" \t\r\n>") if message_ids else b""
    unique = hashlib.sha256(raw + stamp + address + os.urandom(8)).hexdigest()[:20]
    replace = {
        b"date": b"Date: " + stamp,
        b"message-id": b"Message-ID: <test."
        + unique.encode()
        + b"@"
        + (domain or b"localhost")
        + b">",
    }
    headers = [replace.get(name(header), header) for header in headers]
    sender_headers = [h for h in headers if name(h) == b"from"]
    sender = email.utils.parseaddr(
        sender_headers[0].partition(b":")[2].decode("utf-8", "replace") if sender_headers else ""
    )[1]
    if not sender:
        raise SendError(f"{eml}: field 'From': no sender address; rebuild the digest")
    return newline.join(headers) + separator + body, sender


def send_test(eml: Path, to: str, settings: SmtpSettings, now: dt.datetime | None = None) -> str:
    """Deliver ``eml`` to ``to`` through the configured SMTP server; return a summary.

    ``eml`` is ``OUT/digests/WEEK/digest.eml``, sent only as the build wrote it
    (:func:`read_built_digest`). The test mail gets its own Date (``now``, default the
    clock) and Message-ID.
    """
    data, sender = addressed_copy(eml, to, now)
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
    except ssl.SSLError as exc:
        raise SendError(
            f"the TLS handshake with {where} failed: {exc.reason or exc}; check smtp.security "
            "and smtp.port (ssl is usually port 465, starttls port 587)"
        ) from None
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
            f"{where} refused the login of {quote(settings.user)}: {_reason(exc)}; "
            f"check smtp.user and {settings.password_env}"
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        reasons = "; ".join(_reason(error) for error in exc.recipients.values())
        raise SendError(f"{where} rejected the recipient {to}: {reasons}") from None
    except smtplib.SMTPNotSupportedError as exc:
        reason = _reason(exc).rstrip(". ")
        fix = (
            "remove smtp.user (the server takes mail without a login), or use one that offers login"
            if "AUTH" in reason
            else "check smtp.security (starttls, ssl or none)"
        )
        raise SendError(f"{where} does not support that ({reason}); {fix}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"sending through {where} failed: {_reason(exc)}") from None
    return f"sent {eml} to {to} through {where}"


def _reason(error: object) -> str:
    if isinstance(error, tuple) and len(error) == 2:
        code, message = error
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
        # The server's words, quoted short: a reply may be kilobytes long or hold escapes.
        return f"{code} {quote(text, REPLY_LIMIT)}"
    if isinstance(error, smtplib.SMTPResponseException):
        return _reason((error.smtp_code, error.smtp_error))
    if isinstance(error, socket.timeout):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
