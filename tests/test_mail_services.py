"""Every mail-service profile puts its own unsubscribe placeholder in HTML, text and headers;
one-click unsubscribe is claimed only where the URL names the reader (RFC 8058 §3.1)."""

from __future__ import annotations

import email
import email.message
import email.policy
import json
import re
from pathlib import Path

import pytest

from conftest import NOW, RunCli, set_setting
from nieuwsbrief.services import MAIL_SERVICES

WEEK = "2025-W48"


def build_with(project: Path, out: Path, run_cli: RunCli, service: str) -> Path:
    set_setting(project, "digest", "mail_service", service)
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 0, result.output
    return out / "digests" / WEEK


def read_eml(folder: Path) -> email.message.EmailMessage:
    message = email.message_from_bytes(
        (folder / "digest.eml").read_bytes(), policy=email.policy.default
    )
    assert isinstance(message, email.message.EmailMessage)
    return message


def email_html(folder: Path) -> str:
    part = read_eml(folder).get_body(("html",))
    assert part is not None
    return str(part.get_content())


def unsubscribe_hrefs(html: str) -> list[str]:
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(html)
    return [a.get("href") for a in tree.iter("a") if a.text_content().strip() == "Afmelden"]


@pytest.mark.parametrize("service", sorted(name for name in MAIL_SERVICES if name != "generic"))
def test_service_placeholder_everywhere(
    service: str, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    placeholder = MAIL_SERVICES[service].placeholder
    assert placeholder
    folder = build_with(project, tmp_path / "out", run_cli, service)
    html = email_html(folder)
    text = (folder / "digest.txt").read_text("utf-8")
    # Byte for byte in the href (the service searches the raw HTML), never escaped.
    assert f'href="{placeholder}"' in html
    assert html.count(placeholder) == 1
    assert unsubscribe_hrefs(html) == [placeholder]
    assert text.rstrip("\n").endswith(f"Afmelden: {placeholder}")
    message = read_eml(folder)
    text_part = message.get_body(("plain",))
    assert text_part is not None and placeholder in text_part.get_content()
    # The copy on the website never shows the placeholder: it says where the link is.
    web = (folder / "digest.html").read_text("utf-8")
    assert placeholder not in web and "nieuwsbrief.invalid" not in web
    assert unsubscribe_hrefs(web) == []
    assert "Afmelden kan met de link onderaan de nieuwsbrief in je mailbox." in web
    if MAIL_SERVICES[service].fills_headers:
        assert message["List-Unsubscribe"] == f"<{placeholder}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    else:
        # The service writes these headers itself; two would confuse mail clients.
        assert message["List-Unsubscribe"] is None
        assert message["List-Unsubscribe-Post"] is None


def test_jinja_style_placeholders_are_not_rendered_by_jinja(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    folder = build_with(project, tmp_path / "out", run_cli, "postmark")
    assert "{{{ pm:unsubscribe }}}" in email_html(folder)


def test_generic_profile_uses_the_configured_url(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    url = "https://www.praktijkdelinde.nl/afmelden/?lijst=1&bron=mail"
    set_setting(project, "digest", "unsubscribe_url", url)
    set_setting(project, "digest", "recipient_placeholder", None)
    set_setting(project, "digest", "unsubscribe_mailto", "afmelden@praktijkdelinde.nl")
    folder = build_with(project, tmp_path / "out", run_cli, "generic")
    assert unsubscribe_hrefs(email_html(folder)) == [url]
    # A fixed page works for anyone, so the website links to it too.
    assert unsubscribe_hrefs((folder / "digest.html").read_text("utf-8")) == [url]
    assert f"Afmelden: {url}" in (folder / "digest.txt").read_text("utf-8")
    message = read_eml(folder)
    # A long header may be folded onto the next line; the value is the same.
    assert message["List-Unsubscribe"].strip() == (
        f"<{url}>, <mailto:afmelden@praktijkdelinde.nl?subject=afmelden>"
    )
    # One URL for everybody cannot tell who clicked: no one-click claim (RFC 8058 §3.1).
    assert message["List-Unsubscribe-Post"] is None
    checked = run_cli("check", "-p", project, "--now", NOW, "--format", "json")
    [problem] = [p for p in json.loads(checked.stdout) if p["field"] == "digest.unsubscribe_url"]
    assert problem["severity"] == "warning" and "one-click" in problem["message"]
    assert "digest.recipient_placeholder" in problem["message"]


def test_generic_per_recipient_url_offers_one_click(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    url = "https://www.praktijkdelinde.nl/afmelden/?lezer=__LEZER__&lijst=1"
    set_setting(project, "digest", "unsubscribe_url", url)
    set_setting(project, "digest", "recipient_placeholder", "__LEZER__")
    folder = build_with(project, tmp_path / "out", run_cli, "generic")
    message = read_eml(folder)
    assert message["List-Unsubscribe"].strip() == f"<{url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The placeholder is written as it is (never &amp;-escaped inside itself) in the HTML.
    assert unsubscribe_hrefs(email_html(folder)) == [url]
    assert "__LEZER__" in (folder / "digest.txt").read_text("utf-8")
    web = (folder / "digest.html").read_text("utf-8")
    assert "__LEZER__" not in web and unsubscribe_hrefs(web) == []
    checked = run_cli("check", "-p", project, "--now", NOW, "--format", "json")
    assert not [p for p in json.loads(checked.stdout) if "one-click" in p["message"]]


def test_mailto_only_has_no_one_click_and_check_says_so(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    set_setting(project, "digest", "unsubscribe_url", None)
    set_setting(project, "digest", "recipient_placeholder", None)
    set_setting(project, "digest", "unsubscribe_mailto", "afmelden@praktijkdelinde.nl")
    folder = build_with(project, tmp_path / "out", run_cli, "generic")
    message = read_eml(folder)
    mailto = "mailto:afmelden@praktijkdelinde.nl?subject=afmelden"
    assert message["List-Unsubscribe"] == f"<{mailto}>"
    assert message["List-Unsubscribe-Post"] is None
    assert unsubscribe_hrefs((folder / "digest.html").read_text("utf-8")) == [mailto]
    checked = run_cli("check", "-p", project, "--now", NOW)
    assert checked.exit_code == 0
    assert "digest.unsubscribe_url" in checked.output and "one-click" in checked.output


@pytest.mark.parametrize(
    ("placeholder", "problem"),
    [
        ("__ANDERS__", "does not occur in digest.unsubscribe_url"),
        ("a=b", "is not a usable placeholder"),
        ("<%x%>", "is not a usable placeholder"),
        ("lezer id", "is not a usable placeholder"),
    ],
)
def test_recipient_placeholder_must_be_usable(
    placeholder: str, problem: str, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    # The placeholder's own form is judged first; then whether the URL holds it.
    set_setting(project, "digest", "unsubscribe_url", "https://www.example.nl/af/")
    set_setting(project, "digest", "recipient_placeholder", placeholder)
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert "digest.recipient_placeholder" in result.output and problem in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_generic_profile_needs_an_unsubscribe_url(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    set_setting(project, "digest", "unsubscribe_url", None)
    set_setting(project, "digest", "recipient_placeholder", None)
    set_setting(project, "digest", "mail_service", "generic")
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert "digest.unsubscribe_url" in result.output


def test_unknown_service_is_refused(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    set_setting(project, "digest", "mail_service", "pigeon")
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert "digest.mail_service" in result.output and "mailchimp" in result.output


UPLOAD_NAME = re.compile(r"paste (?:all of )?`([^`]+\.html)`|with `([^`]+\.html)`/")


@pytest.mark.parametrize("service", sorted(MAIL_SERVICES))
def test_file_the_docs_say_to_upload_has_the_unsubscribe_link(
    service: str, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    """docs/mail-services.md names the HTML file to paste into each service: it must carry
    the service's placeholder (or the configured URL), and equal the .eml's HTML part."""
    url = "https://www.praktijk.nl/afmelden"
    if service == "generic":
        set_setting(project, "digest", "unsubscribe_url", url)
        set_setting(project, "digest", "recipient_placeholder", None)
    folder = build_with(project, tmp_path / "out", run_cli, service)
    link = MAIL_SERVICES[service].placeholder or url
    uploaded = (folder / "email.html").read_bytes().decode("utf-8")
    part = read_eml(folder).get_body(("html",))
    assert part is not None
    # Byte for byte the decoded part, except the line ends: CRLF in the .eml (RFC 5322), LF
    # in the file like every other output.
    decoded = part.get_payload(decode=True)
    assert isinstance(decoded, bytes)
    assert (folder / "email.html").read_bytes() == decoded.replace(b"\r\n", b"\n")
    assert b"\r" not in (folder / "email.html").read_bytes()
    assert unsubscribe_hrefs(uploaded) == [link]
    docs = (Path(__file__).parent.parent / "docs" / "mail-services.md").read_text("utf-8")
    named = {a or b for a, b in UPLOAD_NAME.findall(docs)}
    assert named == {"email.html"}
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    entry = {e["name"]: e for e in manifest["files"]}["email.html"]
    assert entry["bytes"] == len((folder / "email.html").read_bytes())
