"""Every mail-service profile puts its own unsubscribe placeholder in HTML, text and headers."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from conftest import NOW, RunCli, set_setting
from nieuwsbrief.mail import MAIL_SERVICES

WEEK = "2025-W48"


def build_with(project: Path, out: Path, run_cli: RunCli, service: str) -> Path:
    set_setting(project, "digest", "mail_service", service)
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 0, result.output
    return out / "digests" / WEEK


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
    html = (folder / "digest.html").read_text("utf-8")
    text = (folder / "digest.txt").read_text("utf-8")
    # Byte for byte in the href (the service searches the raw HTML), never escaped.
    assert f'href="{placeholder}"' in html
    assert html.count(placeholder) == 1
    assert f"Afmelden: {placeholder}" in text
    message = email.message_from_bytes(
        (folder / "digest.eml").read_bytes(), policy=email.policy.default
    )
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    assert placeholder in html_part.get_content()
    assert placeholder in text_part.get_content()
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
    assert "{{{ pm:unsubscribe }}}" in (folder / "digest.html").read_text("utf-8")


def test_generic_profile_uses_the_configured_url(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    url = "https://www.praktijkdelinde.nl/afmelden/?lijst=1&bron=mail"
    set_setting(project, "digest", "unsubscribe_url", url)
    set_setting(project, "digest", "unsubscribe_mailto", "afmelden@praktijkdelinde.nl")
    folder = build_with(project, tmp_path / "out", run_cli, "generic")
    html = (folder / "digest.html").read_text("utf-8")
    assert unsubscribe_hrefs(html) == [url]
    assert f"Afmelden: {url}" in (folder / "digest.txt").read_text("utf-8")
    message = email.message_from_bytes(
        (folder / "digest.eml").read_bytes(), policy=email.policy.default
    )
    # A long header may be folded onto the next line; the value is the same.
    assert message["List-Unsubscribe"].strip() == (
        f"<{url}>, <mailto:afmelden@praktijkdelinde.nl?subject=afmelden>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_generic_profile_needs_an_unsubscribe_url(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    set_setting(project, "digest", "unsubscribe_url", None)
    set_setting(project, "digest", "mail_service", "generic")
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert "digest.unsubscribe_url" in result.output


def test_unknown_service_is_refused(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    set_setting(project, "digest", "mail_service", "pigeon")
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert "digest.mail_service" in result.output and "mailchimp" in result.output
