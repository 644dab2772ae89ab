"""The raw .eml as a mail service reads it: placeholders whole, honest ids, inert settings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import NOW, REPO, RunCli, copy_example_project, set_setting, write_article
from nieuwsbrief.articles import Article, scan_articles
from nieuwsbrief.config import Settings, load_settings
from nieuwsbrief.digest import render_digest
from nieuwsbrief.schedule import Window, latest_send_moment, window_ending_at
from nieuwsbrief.services import MAIL_SERVICES

WEEK = "2025-W48"
# The example's own per-reader placeholder (schedule.yaml: digest.recipient_placeholder).
LEZER = "__LEZER__"


def example_week() -> tuple[Settings, Window, list[Article]]:
    site = load_settings(REPO / "schedule.yaml")
    articles, errors = scan_articles(REPO / "articles", site.site)
    assert not errors
    now = dt.datetime.fromisoformat(NOW)
    window = window_ending_at(site.digest, latest_send_moment(site.digest, now))
    chosen = [a for a in articles if window.start <= a.date < window.end and not a.draft]
    return site, window, sorted(chosen, key=lambda a: a.date, reverse=True)


def with_title(site: Settings, service: str, title: str) -> Settings:
    return dataclasses.replace(
        site,
        site=dataclasses.replace(site.site, title=title),
        digest=dataclasses.replace(site.digest, mail_service=service),
    )


def decoded_parts(raw: bytes) -> list[str]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return [part.get_content() for part in message.walk() if not part.is_multipart()]


def placeholders(service: str) -> list[str]:
    placeholder = MAIL_SERVICES[service].placeholder
    return [placeholder] if placeholder else [LEZER]


def test_placeholders_are_whole_in_the_raw_eml_at_every_line_position() -> None:
    """Lengthen the site title one character at a time, so the footer's unsubscribe link
    passes every column of the quoted-printable lines, for every mail-service profile."""
    site, window, articles = example_week()
    assert articles
    lengths = range(1, 82)  # 81 lengths: more than one 76-column line's worth of shifts
    split: list[str] = []
    for service in MAIL_SERVICES:
        for length in lengths:
            title = ("Praktijk De Linde en partners " * 3)[:length].strip() or "P"
            digest, _ = render_digest(with_title(site, service, title), window, articles)
            raw = digest.eml
            lines = raw.split(b"\r\n")
            assert max(len(line) for line in lines) <= 998  # RFC 5322 §2.1.1
            body = raw.partition(b"\r\n\r\n")[2]
            # Quoted-printable body lines stay within RFC 2045's 76 columns.
            assert max(len(line) for line in body.split(b"\r\n")) <= 76
            for placeholder in placeholders(service):
                # Whatever the decoded parts hold, the raw bytes hold too (HTML, text).
                decoded = sum(part.count(placeholder) for part in decoded_parts(raw))
                assert decoded >= 2, (service, length)
                if raw.count(placeholder.encode("ascii")) < decoded:
                    split.append(f"{service} at title length {length}")
    assert split == []


def test_generic_headers_carry_the_placeholder_whole() -> None:
    site, window, articles = example_week()
    for service in ("generic", "mailgun"):
        digest, _ = render_digest(with_title(site, service, "P" * 70), window, articles)
        head = digest.eml.partition(b"\r\n\r\n")[0]
        unfolded = re.sub(rb"\r\n[ \t]+", b" ", head)
        [line] = [h for h in unfolded.split(b"\r\n") if h.startswith(b"List-Unsubscribe:")]
        assert placeholders(service)[0].encode() in line


def test_article_text_quoting_the_internal_marker_is_left_alone(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    """Only the link the template put there becomes the unsubscribe link, never article text."""
    marker = "https://nieuwsbrief.invalid/unsubscribe-placeholder"
    write_article(
        project,
        "2025-11-20-marker.md",
        title=f"Over {marker}",
        date="2025-11-20T10:00:00+01:00",
        summary=f"Zie {marker}-0 en {marker} in de tekst.",
    )
    set_setting(project, "digest", "mail_service", "mailchimp")
    out = tmp_path / "out"
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 0, result.output
    folder = out / "digests" / WEEK
    parts = decoded_parts((folder / "digest.eml").read_bytes())
    for part in [*parts, (folder / "digest.txt").read_text("utf-8")]:
        # One unsubscribe link in each part, as the template has it; the article's text as is.
        assert part.count("*|UNSUB|*") == 1
        part = " ".join(part.split())  # the text part wraps lines
        assert f"Over {marker}" in part
        assert f"{marker}-0 en {marker} in de tekst" in part


def test_message_id_follows_the_content(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    def message_id(out: Path) -> str:
        result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
        assert result.exit_code == 0, result.output
        raw = (out / "digests" / WEEK / "digest.eml").read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        return str(message["Message-ID"])

    first = message_id(tmp_path / "a")
    assert message_id(tmp_path / "b") == first  # rebuilding the same content: the same id
    write_article(
        project, "2025-11-22-erbij.md", title="Nog een artikel", date="2025-11-22T10:00:00+01:00"
    )
    corrected = message_id(tmp_path / "c")
    assert corrected != first
    assert corrected.startswith(f"<{WEEK}.") and corrected.endswith("@www.praktijkdelinde.nl>")


# --- Hostile settings for what this part reads: one line naming file and field, or inert ---

TEXT = st.text(
    st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40
) | st.sampled_from(["__LEZER__", "*|UNSUB|*", "<%x%>", "a=b", "{{ 7*7 }}", "\x00\n", "é"])


@example(
    title='Praktijk\x07 <De> "Linde"',
    placeholder="__LEZER__",
    url_tail="lezer=__LEZER__\nBcc: lijst@example.nl",
    address_form="je",
    logo=None,
)
@example(title="Één", placeholder="", url_tail="a b", address_form="U", logo=None)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    title=TEXT,
    placeholder=TEXT,
    url_tail=TEXT,
    address_form=TEXT | st.sampled_from(["je", "u", "U", None]),
    logo=st.none()
    | st.fixed_dictionaries(
        {
            "url": TEXT | st.just("https://www.praktijkdelinde.nl/logo.png"),
            "alt": TEXT,
            "width": st.integers(-5, 2000) | TEXT,
        }
    ),
)
def test_hostile_email_settings_are_refused_in_one_line_or_come_out_inert(
    title: str,
    placeholder: str,
    url_tail: str,
    address_form: str | None,
    logo: dict[str, object] | None,
    tmp_path_factory: pytest.TempPathFactory,
    run_cli: RunCli,
) -> None:
    project = copy_example_project(tmp_path_factory.mktemp("hostile-settings"))
    set_setting(
        project, "digest", "unsubscribe_url", "https://www.praktijkdelinde.nl/af/?" + url_tail
    )
    set_setting(project, "digest", "recipient_placeholder", placeholder)
    set_setting(project, "site", "title", title)
    set_setting(project, "site", "address_form", address_form)
    set_setting(project, "site", "logo", logo)
    out = project / "out"
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        # One line per refused setting (check and build report every problem at once).
        lines = result.output.strip().splitlines()
        assert lines, result.output
        assert all("schedule.yaml" in line and "field '" in line for line in lines)
        return
    assert result.exit_code == 0, result.output
    folder = out / "digests" / WEEK
    raw = (folder / "digest.eml").read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    html = message.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert "<script" not in content.lower()
    # The List-Id stays one well-formed header, whatever the title holds.
    assert re.fullmatch(r"[^\r\n<>]*<nieuwsbrief\.www\.praktijkdelinde\.nl>", message["List-Id"])
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    if placeholder and placeholder.strip():
        # Accepted: it is in the URL, whole in the raw message and never on the website.
        assert raw.count(placeholder.encode()) >= 2
        web = (folder / "digest.html").read_text("utf-8")
        assert "/af/?" not in web, "the website shows a per-reader unsubscribe URL"
        assert manifest["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


KEEP = [service.placeholder for service in MAIL_SERVICES.values() if service.placeholder]


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=90)
        | st.sampled_from([*KEEP, LEZER, " ", "\t", "=", "\n", "é€", " \n"]),
        max_size=12,
    )
)
def test_quoted_printable_round_trips_and_keeps_placeholders_whole(pieces: list[str]) -> None:
    """The encoder against the standard library's decoder: same text back, lines of at most
    76 columns without trailing whitespace, and every placeholder as often as in the text."""
    import quopri

    from nieuwsbrief.mail import quoted_printable

    text = "".join(pieces).replace("\r", "")
    encoded = quoted_printable(text, [*KEEP, LEZER])
    assert encoded.isascii()
    assert quopri.decodestring(encoded.encode("ascii")).decode("utf-8") == text
    for line in encoded.split("\n"):
        assert len(line) <= 76 and not line.endswith((" ", "\t"))
    for placeholder in [*KEEP, LEZER]:
        assert encoded.count(placeholder) == text.count(placeholder)
