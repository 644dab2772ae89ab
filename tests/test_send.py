"""``nieuwsbrief send`` delivers the built .eml to a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from conftest import NOW, RunCli, set_setting

WEEK = "2025-W48"
# Plain AUTH without TLS is fine on loopback in a test; real servers use STARTTLS or SSL.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
PASSWORD = "geheim-wachtwoord"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what arrives and can refuse a recipient."""

    refuse: str | None = None
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address == self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 Message accepted"


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.password.decode() == PASSWORD
    return AuthResult(success=ok, handled=False)


@contextmanager
def login_server(handler: Any) -> Iterator[int]:
    """Run an SMTP server on loopback that requires the test login; yield its port."""
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=check_login,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox(refuse="onbekend@example.nl")
    with login_server(inbox) as port:
        yield inbox, port


@pytest.fixture
def built(project: Path, tmp_path: Path, run_cli: RunCli) -> Path:
    out = tmp_path / "public"
    assert run_cli("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    return out


def configure(project: Path, port: int, security: str = "none") -> None:
    for key, value in {
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "user": "redactie",
        "password_env": "TEST_SMTP_PASSWORD",
    }.items():
        set_setting(project, "smtp", key, value)


@pytest.fixture
def sender(
    project: Path, built: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Any]:
    """Return send(to, port=..., password=...): run 'nieuwsbrief send' against that server."""

    def send(to: str, port: int, password: str | None = PASSWORD, security: str = "none") -> Any:
        configure(project, port, security)
        if password is None:
            monkeypatch.delenv("TEST_SMTP_PASSWORD", raising=False)
        else:
            monkeypatch.setenv("TEST_SMTP_PASSWORD", password)
        return run_cli("send", "--to", to, "-p", project, "-o", built, "--now", NOW)

    return send


def test_send_delivers_the_eml(
    smtp_server: tuple[Inbox, int], built: Path, sender: Callable[..., Any]
) -> None:
    inbox, port = smtp_server
    result = sender("redactie@example.nl", port)
    assert result.exit_code == 0, result.output
    assert len(inbox.received) == 1
    mail_from, recipients, raw = inbox.received[0]
    assert mail_from == "nieuwsbrief@praktijkdelinde.nl"
    assert recipients == ["redactie@example.nl"]
    # The mail that arrives is the file on disk, byte for byte, but for To, and a Date and
    # Message-ID of its own: a test mail is sent now, and a corrected one is a new message.
    on_disk = (built / "digests" / WEEK / "digest.eml").read_bytes()
    original = email.message_from_bytes(on_disk, policy=email.policy.default)
    arrived = email.message_from_bytes(raw, policy=email.policy.default)
    assert arrived["To"] == "redactie@example.nl"
    assert arrived["Message-ID"] != original["Message-ID"]
    assert re.fullmatch(r"<test\.[0-9a-f]{20}@www\.praktijkdelinde\.nl>", arrived["Message-ID"])
    sent_at = email.utils.parsedate_to_datetime(arrived["Date"])
    assert abs(sent_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    expected = on_disk
    for header in ("To", "Date", "Message-ID"):
        [line] = re.findall(rb"^" + header.encode() + rb": .*\r\n", on_disk, flags=re.M)
        [new] = re.findall(rb"^" + header.encode() + rb": .*\r\n", raw, flags=re.M)
        expected = expected.replace(line, new)
    assert b"redactie@example.nl" not in on_disk
    assert raw == expected
    # A second test mail of the same digest is another message again.
    assert sender("redactie@example.nl", port).exit_code == 0
    again = email.message_from_bytes(inbox.received[1][2], policy=email.policy.default)
    assert again["Message-ID"] != arrived["Message-ID"]
    assert [part.get_content_type() for part in arrived.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]


def test_refused_login(smtp_server: tuple[Inbox, int], sender: Callable[..., Any]) -> None:
    inbox, port = smtp_server
    result = sender("redactie@example.nl", port, password="fout")
    assert result.exit_code == 1
    assert "refused the login of 'redactie'" in result.output
    assert "TEST_SMTP_PASSWORD" in result.output
    assert inbox.received == []


def test_login_on_a_server_without_auth(tmp_path: Path, sender: Callable[..., Any]) -> None:
    # A relay that takes mail without a login (no AUTH in its EHLO answer), while the
    # settings name a user: the editor hears what to change, and nothing is sent.
    inbox = Inbox(refuse="onbekend@example.nl")
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        result = sender("redactie@example.nl", port)
    finally:
        controller.stop()
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "does not support that" in lines[0], result.output
    assert "AUTH" in lines[0] and "remove smtp.user" in lines[0]
    assert inbox.received == []


def test_missing_password(sender: Callable[..., Any]) -> None:
    result = sender("redactie@example.nl", free_port(), password=None)
    assert result.exit_code == 1
    assert "TEST_SMTP_PASSWORD is empty" in result.output


def test_unreachable_server(sender: Callable[..., Any]) -> None:
    result = sender("redactie@example.nl", free_port())  # nothing listens there
    assert result.exit_code == 1
    assert "cannot reach the SMTP server 127.0.0.1:" in result.output


def test_rejected_recipient(smtp_server: tuple[Inbox, int], sender: Callable[..., Any]) -> None:
    inbox, port = smtp_server
    result = sender("onbekend@example.nl", port)
    assert result.exit_code == 1
    assert "rejected the recipient onbekend@example.nl: 550" in result.output
    assert inbox.received == []


def test_no_built_digest(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli(
        "send", "--to", "redactie@example.nl", "-p", project, "-o", tmp_path / "nergens"
    )
    assert result.exit_code == 1
    assert "run 'nieuwsbrief build' first" in result.output


def test_password_in_settings_is_refused(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    set_setting(project, "smtp", "password", "hunter2")
    result = run_cli("build", "-p", project, "-o", tmp_path / "o", "--now", NOW)
    assert result.exit_code == 1
    assert "smtp.password" in result.output and "environment variable" in result.output


@pytest.mark.parametrize(
    "to", ["redactie", "a@b.nl, c@d.nl", "redactie@example.nl\r\nBcc: lijst@example.nl"]
)
def test_to_must_be_one_plain_address(
    smtp_server: tuple[Inbox, int], sender: Callable[..., Any], to: str
) -> None:
    inbox, port = smtp_server
    result = sender(to, port)
    assert result.exit_code == 2
    assert "is not a single e-mail address" in result.output
    assert inbox.received == []


def test_starttls_on_a_server_without_it(
    smtp_server: tuple[Inbox, int], sender: Callable[..., Any]
) -> None:
    inbox, port = smtp_server
    result = sender("redactie@example.nl", port, security="starttls")
    assert result.exit_code == 1
    assert "does not support that" in result.output and "smtp.security" in result.output
    assert inbox.received == []


def test_ssl_on_a_plain_server(smtp_server: tuple[Inbox, int], sender: Callable[..., Any]) -> None:
    inbox, port = smtp_server
    result = sender("redactie@example.nl", port, security="ssl")
    assert result.exit_code == 1
    assert "TLS handshake" in result.output and "smtp.port" in result.output
    assert inbox.received == []
