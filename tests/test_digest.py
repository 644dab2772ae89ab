"""The weekly digest: the right articles, a valid MIME message, a safe and small email."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import (
    AMSTERDAM,
    NOW,
    REPO,
    RunCli,
    article_dates,
    set_setting,
    tree_bytes,
    write_article,
)

WEEK = "2025-W48"
# The W48 send moment: Monday 24 November 2025, 08:00 in Amsterdam; the window opens a week before.
SEND = dt.datetime(2025, 11, 24, 8, 0, tzinfo=AMSTERDAM)
OPEN = dt.datetime(2025, 11, 17, 8, 0, tzinfo=AMSTERDAM)


def build(run_cli: RunCli, project: Path, out: Path, *extra: str, now: str = NOW) -> str:
    result = run_cli("build", "--project", project, "--out", out, "--now", now, *extra)
    assert result.exit_code == 0, result.output
    return result.output


def read_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def manifest_slugs(folder: Path, *, overflow: bool = False) -> list[str]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    articles = manifest["articles"] + (manifest["overflow"] if overflow else [])
    return [article["slug"] for article in articles]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from click.testing import CliRunner

    from nieuwsbrief.cli import cli

    out = tmp_path_factory.mktemp("digest") / "public"
    result = CliRunner().invoke(cli, ["build", "-p", str(REPO), "-o", str(out), "--now", NOW])
    assert result.exit_code == 0, result.output
    return out / "digests" / WEEK


def test_build_writes_the_four_digest_files(shipped: Path) -> None:
    for name in ("digest.html", "digest.txt", "digest.eml", "manifest.json"):
        assert (shipped / name).stat().st_size > 0


def test_eml_is_multipart_alternative_matching_the_files(shipped: Path) -> None:
    message = read_eml(shipped / "digest.eml")
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parts)
    text_part, html_part = parts
    assert isinstance(text_part, EmailMessage) and isinstance(html_part, EmailMessage)
    # SMTP policy writes CRLF; the files on disk have plain newlines.
    assert text_part.get_content().replace("\r\n", "\n") == (shipped / "digest.txt").read_text(
        "utf-8"
    )
    # The web copy is the email up to the footer, where the email's per-reader unsubscribe
    # link becomes something that works for anyone on the website.
    email_html = html_part.get_content().replace("\r\n", "\n")
    web_html = (shipped / "digest.html").read_text("utf-8")
    footer = "Je ontvangt deze nieuwsbrief omdat"
    assert email_html.count(footer) == web_html.count(footer) == 1
    assert email_html.split(footer)[0] == web_html.split(footer)[0]
    assert "__LEZER__" in email_html.split(footer)[1]
    assert "__LEZER__" not in web_html and "nieuwsbrief.invalid" not in web_html


def test_eml_headers_come_from_the_settings(shipped: Path) -> None:
    message = read_eml(shipped / "digest.eml")
    assert message["From"] == "Praktijk De Linde <nieuwsbrief@praktijkdelinde.nl>"
    assert message["Reply-To"] == "info@praktijkdelinde.nl"
    assert message["Subject"] == "Praktijk De Linde: nieuwsbrief week 48"
    assert email.utils.parsedate_to_datetime(message["Date"]) == SEND
    assert re.fullmatch(
        rf"<{WEEK}\.[0-9a-f]{{16}}\.digest@www\.praktijkdelinde\.nl>", message["Message-ID"]
    )
    manifest = json.loads((shipped / "manifest.json").read_text("utf-8"))
    assert manifest["message_id"] == message["Message-ID"]
    assert message["List-Id"] == "Praktijk De Linde <nieuwsbrief.www.praktijkdelinde.nl>"
    # The example's URL names the reader (the sending tool fills __LEZER__): one-click is honest.
    assert message["List-Unsubscribe"].strip() == (
        "<https://www.praktijkdelinde.nl/nieuwsbrief/afmelden/?lezer=__LEZER__>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["MIME-Version"] == "1.0"
    raw = (shipped / "digest.eml").read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


def test_digest_holds_exactly_the_articles_of_its_window(shipped: Path) -> None:
    facts = article_dates(REPO)
    expected = {
        slug for slug, (_, date, draft) in facts.items() if not draft and OPEN <= date < SEND
    }
    assert len(expected) >= 2
    assert set(manifest_slugs(shipped)) == expected
    html = (shipped / "digest.html").read_text("utf-8")
    text = (shipped / "digest.txt").read_text("utf-8")
    for slug, (title, _, _) in facts.items():
        escaped = title.replace("&", "&amp;")
        assert (escaped in html) == (slug in expected), slug
        assert (title in text) == (slug in expected), slug


def test_manifest_describes_the_send(shipped: Path) -> None:
    manifest = json.loads((shipped / "manifest.json").read_text("utf-8"))
    assert manifest["week"] == WEEK
    assert dt.datetime.fromisoformat(manifest["send_at"]) == SEND
    assert dt.datetime.fromisoformat(manifest["window"]["start"]) == OPEN
    assert manifest["subject"] == read_eml(shipped / "digest.eml")["Subject"]
    sizes = {entry["name"]: entry["bytes"] for entry in manifest["files"]}
    for name, size in sizes.items():
        assert (shipped / name).stat().st_size == size
    for article in manifest["articles"]:
        assert article["url"].startswith("https://www.praktijkdelinde.nl/artikelen/")
        assert "utm_campaign=2025-W48" in article["link"]


def test_text_part_is_readable_text(shipped: Path) -> None:
    text = (shipped / "digest.txt").read_text("utf-8")
    assert "<" not in text and "&amp;" not in text
    assert "Lees verder: https://www.praktijkdelinde.nl/artikelen/" in text
    assert "utm_source=nieuwsbrief&utm_medium=email&utm_campaign=2025-W48" in text
    assert "18 november 2025" in text
    assert max(len(line) for line in text.splitlines() if "://" not in line) <= 72


class _Elements(HTMLParser):
    """Collect every start tag with its attributes, and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def assert_email_html_is_safe(html: str) -> None:
    elements = parse_html(html)
    names = [tag for tag, _ in elements.tags]
    assert "script" not in names
    assert not [a for tag, a in elements.tags if tag == "link" and a.get("rel") == "stylesheet"]
    assert ("html", "nl") in [(tag, a.get("lang")) for tag, a in elements.tags]
    images = [a for tag, a in elements.tags if tag == "img"]
    assert all(a.get("alt") is not None for a in images)
    for tag, attributes in elements.tags:
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("href", "src") and value:
                assert value.startswith(("https://", "mailto:", "tel:")), value


def test_email_html_is_safe_and_has_a_preheader(shipped: Path) -> None:
    html = (shipped / "digest.html").read_text("utf-8")
    assert_email_html_is_safe(html)
    assert "max-width:600px" in html.replace(" ", "")
    assert 'name="color-scheme"' in html
    assert "fonts.googleapis.com" not in html
    # The preview text mail clients show beside the subject: this week's titles, hidden
    # inline (display:none), not white on the page colour.
    manifest = json.loads((shipped / "manifest.json").read_text("utf-8"))
    titles = [article["title"] for article in manifest["articles"]]
    assert manifest["preheader"].startswith("Deze week: " + titles[0])
    [preheader] = [a for tag, a in parse_html(html).tags if a.get("class") == "nb-preheader"]
    style = (preheader["style"] or "").replace(" ", "")
    assert "display:none" in style and "color" not in style
    assert manifest["preheader"].replace("&", "&amp;") in html


def test_images_have_alt_text_from_the_article(shipped: Path) -> None:
    html = (shipped / "digest.html").read_text("utf-8")
    images = [a for tag, a in parse_html(html).tags if tag == "img"]
    assert images, "the W48 digest has an article with an image"
    assert all(a.get("alt") for a in images)


def ten_long_articles(project: Path, count: int = 10) -> None:
    long_teaser = " ".join(["Een lange samenvatting met veel woorden over het onderwerp."] * 4)
    for number in range(count):
        write_article(
            project,
            f"2025-11-{18 + number % 5:02d}-artikel-{number:02d}.md",
            title=f"Artikel nummer {number} over een belangrijk onderwerp",
            date=f"2025-11-{18 + number % 5:02d}T{10 + number}:00:00+01:00",
            summary=long_teaser,
            image=f"/images/{number}.jpg",
            image_alt=f"Afbeelding {number}",
        )


def test_ten_long_articles_stay_under_gmail_clipping(
    empty_project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    ten_long_articles(empty_project)
    out = tmp_path / "out"
    output = build(run_cli, empty_project, out)
    html = (out / "digests" / WEEK / "digest.html").read_bytes()
    assert len(html) < 102 * 1024
    assert len(manifest_slugs(out / "digests" / WEEK)) == 10
    assert "title only" not in output
    assert_email_html_is_safe(html.decode("utf-8"))


def test_overflow_is_listed_by_title_and_warned(
    empty_project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    ten_long_articles(empty_project, count=14)
    set_setting(empty_project, "digest", "max_html_bytes", 60_000)
    out = tmp_path / "out"
    output = build(run_cli, empty_project, out)
    folder = out / "digests" / WEEK
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    html = (folder / "digest.html").read_text("utf-8")
    assert len(html.encode("utf-8")) <= 60_000
    assert manifest["overflow"] and len(manifest["articles"]) + len(manifest["overflow"]) == 14
    assert "title only" in output
    assert "Ook nieuw deze week" in html
    for article in manifest["overflow"]:
        assert article["title"] in html and article["title"] in (folder / "digest.txt").read_text(
            "utf-8"
        )


# --- Window edges -------------------------------------------------------------------------


def window_slugs(project: Path, out: Path, run_cli: RunCli, week: str, now: str) -> list[str]:
    build(run_cli, project, out, "--digest-week", week, now=now)
    return manifest_slugs(out / "digests" / week, overflow=True)


def test_article_at_the_send_moment_belongs_to_the_next_digest(
    empty_project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    write_article(
        empty_project, "op-tijd.md", title="Precies op het moment", date="2025-11-24T08:00:00+01:00"
    )
    write_article(
        empty_project, "net-ervoor.md", title="Een seconde ervoor", date="2025-11-24T07:59:59+01:00"
    )
    later = "2025-12-02T09:00:00+01:00"
    assert window_slugs(empty_project, tmp_path / "a", run_cli, "2025-W48", later) == ["net-ervoor"]
    assert window_slugs(empty_project, tmp_path / "b", run_cli, "2025-W49", later) == ["op-tijd"]


def test_a_week_still_to_come_holds_only_what_is_published_and_says_so(
    empty_project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    write_article(empty_project, "al-uit.md", title="Al uit", date="2025-11-24T08:30:00+01:00")
    write_article(empty_project, "nog-niet.md", title="Nog niet", date="2025-11-26T10:00:00+01:00")
    out = tmp_path / "out"
    output = build(run_cli, empty_project, out, "--digest-week", "2025-W49")
    assert manifest_slugs(out / "digests" / "2025-W49", overflow=True) == ["al-uit"]
    assert "digest 2025-W49 goes out at 2025-12-01T08:00:00+01:00, after now" in output
    # The digest of the latest send moment is never in the future: no such warning.
    assert "goes out at" not in build(run_cli, REPO, tmp_path / "shipped")


def test_week_without_articles_sends_nothing_and_says_so(
    empty_project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    write_article(empty_project, "oud.md", title="Oud", date="2025-10-01")
    out = tmp_path / "out"
    output = build(run_cli, empty_project, out)
    assert not (out / "digests" / WEEK).exists()
    assert f"no digest for {WEEK}" in output
    assert (out / "digests" / "index.html").exists()


def test_empty_week_can_still_send(empty_project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    set_setting(empty_project, "digest", "empty_week", "send")
    out = tmp_path / "out"
    build(run_cli, empty_project, out)
    assert manifest_slugs(out / "digests" / WEEK) == []
    assert (
        read_eml(out / "digests" / WEEK / "digest.eml").get_content_type()
        == "multipart/alternative"
    )


@pytest.mark.parametrize(
    "weeks",
    [("2025-W43", "2025-W44", "2025-W45"), ("2026-W13", "2026-W14", "2026-W15")],
    ids=["autumn-back", "spring-forward"],
)
def test_dst_changes_keep_local_send_time_and_lose_no_article(
    weeks: tuple[str, ...], empty_project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    from nieuwsbrief.config import load_settings
    from nieuwsbrief.schedule import send_moment_in_week

    settings = load_settings(empty_project / "schedule.yaml").digest
    first = send_moment_in_week(settings, weeks[0]) - dt.timedelta(days=7)
    last = send_moment_in_week(settings, weeks[-1])
    # An article every 90 minutes across the DST change, and one on each window edge.
    moments = set()
    moment = first
    while moment < last:
        moments.add(moment)
        moment = (moment.astimezone(dt.UTC) + dt.timedelta(minutes=90)).astimezone(AMSTERDAM)
    for week in weeks:
        edge = send_moment_in_week(settings, week)
        moments.update({edge, edge - dt.timedelta(seconds=1)})
    for number, moment in enumerate(sorted(moments)):
        write_article(
            empty_project, f"a{number:04d}.md", title=f"A{number}", date=moment.isoformat()
        )
    seen: list[str] = []
    for week in weeks:
        send = send_moment_in_week(settings, week)
        assert (send.hour, send.minute) == (8, 0)
        slugs = window_slugs(empty_project, tmp_path / week, run_cli, week, last.isoformat())
        manifest = json.loads((tmp_path / week / "digests" / week / "manifest.json").read_bytes())
        start = dt.datetime.fromisoformat(manifest["window"]["start"]).astimezone(AMSTERDAM)
        assert (start.hour, start.minute) == (8, 0)
        seen += slugs
    expected = [f"a{n:04d}" for n, m in enumerate(sorted(moments)) if first <= m < last]
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen))


def test_utc_offset_changes_inside_the_window(empty_project: Path) -> None:
    from nieuwsbrief.config import load_settings
    from nieuwsbrief.schedule import send_moment_in_week, window_ending_at

    settings = load_settings(empty_project / "schedule.yaml").digest
    window = window_ending_at(settings, send_moment_in_week(settings, "2025-W44"))
    # 26 October 2025: clocks go back, so this window is 7 days and 1 hour long.
    length = window.end.astimezone(dt.UTC) - window.start.astimezone(dt.UTC)
    assert length == dt.timedelta(days=7, hours=1)
    assert window.start.utcoffset() == dt.timedelta(hours=2)
    assert window.end.utcoffset() == dt.timedelta(hours=1)


# --- Archive and history ------------------------------------------------------------------


def test_earlier_weeks_are_kept_and_archived_newest_first(tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    build(run_cli, REPO, out, now="2025-11-17T09:00:00+01:00")
    week47 = tree_bytes(out / "digests" / "2025-W47")
    build(run_cli, REPO, out)
    assert tree_bytes(out / "digests" / "2025-W47") == week47
    index = (out / "digests" / "index.html").read_text("utf-8")
    links = [a["href"] for tag, a in parse_html(index).tags if tag == "a" and a.get("href")]
    assert links == ["2025-W48/digest.html", "2025-W47/digest.html"]
    assert "24 november 2025" in index and "17 november 2025" in index


def test_subject_template_is_editable(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    set_setting(
        project, "digest", "subject", "{count} nieuwe artikelen in week {week_number} ({date})"
    )
    out = tmp_path / "out"
    build(run_cli, project, out)
    subject = read_eml(out / "digests" / WEEK / "digest.eml")["Subject"]
    count = len(manifest_slugs(out / "digests" / WEEK))
    assert subject == f"{count} nieuwe artikelen in week 48 (24 november 2025)"


def test_unknown_subject_placeholder_is_an_error(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    set_setting(project, "digest", "subject", "Week {weeknummer}")
    result = run_cli("build", "-p", project, "-o", tmp_path / "o", "--now", NOW)
    assert result.exit_code == 1
    assert "digest.subject" in result.output and "{weeknummer}" in result.output


def test_schedule_lists_next_send_moments(project: Path, run_cli: RunCli) -> None:
    result = run_cli(
        "schedule", "-p", project, "--now", "2026-03-24T09:00:00+01:00", "--count", "2"
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("2026-W14  maandag 30 maart 2026 08:00 Europe/Amsterdam")
    assert lines[1].startswith("2026-W15  maandag 6 april 2026 08:00 Europe/Amsterdam")


@pytest.mark.parametrize("week", ["2025-W99", "2025-W53", "week-48", "2025W48"])
def test_a_week_that_does_not_exist_is_a_usage_error(
    week: str, tmp_path: Path, run_cli: RunCli
) -> None:
    result = run_cli(
        "build", "-p", REPO, "-o", tmp_path / "out", "--now", NOW, "--digest-week", week
    )
    assert result.exit_code == 2
    assert week in result.output and "--digest-week" in result.output
    assert not (tmp_path / "out").exists()


# --- Form of address, logo, footer ----------------------------------------------------------


def email_parts(folder: Path) -> tuple[str, str]:
    message = read_eml(folder / "digest.eml")
    html, text = message.get_body(("html",)), message.get_body(("plain",))
    assert html is not None and text is not None
    return html.get_content(), text.get_content().replace("\r\n", "\n")


JE = ["Wil je met iemand praten?", "Je ontvangt deze nieuwsbrief omdat je je hebt"]
U = ["Wilt u met iemand praten?", "U ontvangt deze nieuwsbrief omdat u zich heeft"]


@pytest.mark.parametrize(("form", "says", "never"), [("je", JE, U), ("u", U, JE)])
def test_form_of_address_is_the_same_in_html_and_text(
    form: str,
    says: list[str],
    never: list[str],
    project: Path,
    tmp_path: Path,
    run_cli: RunCli,
) -> None:
    set_setting(project, "site", "address_form", form)
    set_setting(project, "digest", "intro", None)  # the default intro follows the form too
    out = tmp_path / "out"
    build(run_cli, project, out)
    html, text = email_parts(out / "digests" / WEEK)
    intro = f"Dit zijn de artikelen die we deze week voor {form} schreven."
    for part in (" ".join(html.split()), " ".join(text.split())):
        for sentence in [*says, intro]:
            assert sentence in part, (form, sentence)
        for sentence in never:
            assert sentence not in part, (form, sentence)


def test_text_part_ends_with_the_reason_and_the_unsubscribe_line(shipped: Path) -> None:
    text = (shipped / "digest.txt").read_text("utf-8")
    *reason, unsubscribe = text.rstrip("\n").split("\n\n")[-1].split("\n")
    assert " ".join(reason) == (
        "Je ontvangt deze nieuwsbrief omdat je je hebt aangemeld bij Praktijk De Linde."
    )
    url = "https://www.praktijkdelinde.nl/nieuwsbrief/afmelden/?lezer=__LEZER__"
    assert unsubscribe == f"Afmelden: {url}"


def test_logo_at_the_top_with_alt_text_and_width(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    logo = {"url": "https://www.praktijkdelinde.nl/logo.png", "alt": "Logo De Linde", "width": 180}
    set_setting(project, "site", "logo", logo)
    out = tmp_path / "out"
    build(run_cli, project, out)
    html, _ = email_parts(out / "digests" / WEEK)
    first = next(a for tag, a in parse_html(html).tags if tag == "img")
    assert (first["src"], first["alt"], first["width"]) == (logo["url"], logo["alt"], "180")
    assert "width:180px" in (first["style"] or "").replace(" ", "")
    set_setting(project, "site", "logo", {"url": "http://www.praktijkdelinde.nl/l.png", "alt": "x"})
    result = run_cli("build", "-p", project, "-o", tmp_path / "o2", "--now", NOW)
    assert result.exit_code == 1 and "site.logo.url" in result.output


# --- Dutch dates and phone links (nieuwsbrief.dutch, a table instead of Babel) -------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2025, 1, 6), "maandag 6 januari 2025"),
        (dt.date(2025, 2, 4), "dinsdag 4 februari 2025"),
        (dt.date(2025, 3, 5), "woensdag 5 maart 2025"),
        (dt.date(2025, 4, 10), "donderdag 10 april 2025"),
        (dt.date(2025, 5, 2), "vrijdag 2 mei 2025"),
        (dt.date(2025, 6, 7), "zaterdag 7 juni 2025"),
        (dt.date(2025, 7, 13), "zondag 13 juli 2025"),
        (dt.date(2025, 8, 1), "vrijdag 1 augustus 2025"),
        (dt.date(2024, 2, 29), "donderdag 29 februari 2024"),
        (dt.date(2025, 9, 30), "dinsdag 30 september 2025"),
        (dt.date(2025, 10, 31), "vrijdag 31 oktober 2025"),
        (dt.date(2025, 11, 24), "maandag 24 november 2025"),
        (dt.date(1970, 12, 31), "donderdag 31 december 1970"),
        (dt.date(9000, 1, 1), "woensdag 1 januari 9000"),
    ],
)
def test_dutch_dates_name_the_weekday_and_month(day: dt.date, expected: str) -> None:
    from nieuwsbrief.dutch import dutch_date, dutch_weekday_date

    assert dutch_weekday_date(day) == expected
    assert dutch_date(day) == expected.split(" ", 1)[1]


def test_dutch_date_of_a_moment_is_its_own_calendar_day() -> None:
    """The caller picks the zone: 23:30 in Amsterdam stays that day, not the UTC day after."""
    from nieuwsbrief.dutch import dutch_date, dutch_weekday_date

    late = dt.datetime(2025, 11, 23, 23, 30, tzinfo=AMSTERDAM)
    assert dutch_date(late) == "23 november 2025"
    assert dutch_weekday_date(late) == "zondag 23 november 2025"
    assert dutch_date(late.astimezone(dt.UTC)) == "23 november 2025"
    assert dutch_date(late.astimezone(dt.timezone(dt.timedelta(hours=5)))) == "24 november 2025"


@pytest.mark.parametrize(
    ("number", "tel", "whatsapp"),
    [
        ("020 123 4567", "tel:+31201234567", "https://wa.me/31201234567"),
        ("06-12345678", "tel:+31612345678", "https://wa.me/31612345678"),
        ("0032 2 123 45 67", "tel:+3221234567", "https://wa.me/3221234567"),
        ("0800-0113", "tel:+318000113", "https://wa.me/318000113"),
    ],
)
def test_phone_links(number: str, tel: str, whatsapp: str) -> None:
    from nieuwsbrief.dutch import phone_href, whatsapp_href

    assert phone_href(number) == tel
    assert whatsapp_href(number) == whatsapp
