"""Feeds of articles written the way editors write, read back by feedparser and the JSON Feed
1.1 schema, paged back through the RFC 5005 archives to the very first article."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import jsonschema
import pytest
import yaml
from lxml import etree
from lxml import html as lxml_html

from conftest import NOW, NOW_DT, REPO, RunCli, set_setting

RICH = Path(__file__).parent / "rich_articles"
SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "jsonfeed-1.1.schema.json").read_text("utf-8")
)
BASE = "https://www.praktijkdelinde.nl"
HISTORY = "{http://purl.org/syndication/history/1.0}"
ATOM = "{http://www.w3.org/2005/Atom}"
LIMIT, PAGE_SIZE = 5, 4

# What each front-matter image must become: percent-encoded UTF-8, escapes kept, no doubles.
EXPECTED_IMAGES = {
    "tabel-met-slaaptips": f"{BASE}/images/mijn%20foto.jpg",
    "code-voor-ademhaling": f"{BASE}/images/caf%C3%A9.jpg",
    "accenten-en-emoji": f"{BASE}/images/zo%C3%AB%20en%20%C3%A9%C3%A9n.jpg",
    "angst-bij-kinderen-en-jongeren": f"{BASE}/images/kind%20speelt.jpg?formaat=groot&kleur=ja",
    "wintertijd": f"{BASE}/images/klok#wintertijd.png",
}


def read_front(path: Path) -> tuple[dict[str, Any], str]:
    """Read an article file directly, not through nieuwsbrief."""
    _, front, body = path.read_text("utf-8").split("---\n", 2)
    return yaml.load(front, Loader=yaml.BaseLoader), body  # noqa: S506 - strings only


def parse_date(text: str) -> dt.datetime:
    amsterdam = ZoneInfo("Europe/Amsterdam")
    named = re.fullmatch(r"(.+\d) ([A-Za-z]+/[A-Za-z_]+)", text)
    if named:
        return dt.datetime.fromisoformat(named[1]).replace(tzinfo=ZoneInfo(named[2]))
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=amsterdam)


def expected_items() -> dict[str, dict[str, Any]]:
    """Return, by article URL, what readers must see of every article published at NOW."""
    items = {}
    for path in sorted(RICH.glob("*.md")):
        front, body = read_front(path)
        date = parse_date(front["date"])
        if front.get("draft") == "true" or date > NOW_DT:
            continue
        slug = front.get("slug") or path.stem[11:]
        items[f"{BASE}/artikelen/{slug}/"] = {
            "slug": slug,
            "title": front["title"],
            "date": date,
            "image": EXPECTED_IMAGES.get(slug),
            "image_alt": front.get("image_alt"),
            "body": body,
            "id": front.get("id"),
        }
    return items


def words(text: str) -> set[str]:
    return set(re.findall(r"[^\W\d_]{4,}", text))


def visible_text(fragment: str) -> str:
    return lxml_html.fragment_fromstring(fragment, create_parent="div").text_content()


def build_rich(tmp_path_factory: pytest.TempPathFactory, limit: int) -> Path:
    from click.testing import CliRunner

    from nieuwsbrief.cli import cli

    project = tmp_path_factory.mktemp("rich") / "project"
    project.mkdir()
    shutil.copy2(REPO / "schedule.yaml", project / "schedule.yaml")
    shutil.copytree(REPO / "templates", project / "templates")
    shutil.copytree(RICH, project / "articles")
    set_setting(project, "feeds", "limit", limit)
    set_setting(project, "feeds", "archive_size", PAGE_SIZE)
    set_setting(project, "feeds", "websub_hub", "https://hub.example.org/")
    set_setting(project, "site", "logo", "/images/logo groot.png")
    set_setting(project, "site", "icon", "https://www.praktijkdelinde.nl/favicon.png")
    set_setting(project, "site", "copyright", "© Praktijk De Linde & partners")
    out = project.parent / "public"
    result = CliRunner().invoke(cli, ["build", "-p", str(project), "-o", str(out), "--now", NOW])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def rich_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rich set with a small feed limit, so most articles live on archive pages."""
    return build_rich(tmp_path_factory, LIMIT)


@pytest.fixture(scope="module")
def rich_full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rich set with the default limit of 20: every article in the current feeds."""
    return build_rich(tmp_path_factory, 20)


def local(out: Path, url: str) -> Path:
    assert url.startswith(BASE + "/"), url
    return out / url.removeprefix(BASE + "/")


def walk_archives(out: Path, name: str) -> list[Any]:
    """Follow prev-archive links from the current feed the way a reader pages back."""
    pages = [feedparser.parse((out / name).read_bytes())]
    seen = {name}
    while True:
        older = [link.href for link in pages[-1].feed.links if link.rel == "prev-archive"]
        if not older:
            return pages
        assert len(older) == 1
        path = local(out, older[0])
        assert path.name not in seen, "the archive links loop"
        seen.add(path.name)
        pages.append(feedparser.parse(path.read_bytes()))


def test_the_rich_set_is_rich_enough() -> None:
    expected = expected_items()
    assert len(list(RICH.glob("*.md"))) >= 15
    assert len(expected) >= 13
    assert any(item["image"] for item in expected.values())
    assert any(read_front(path)[0].get("draft") for path in RICH.glob("*.md"))


def check_entry(entry: Any, want: dict[str, Any]) -> str:
    """Check what every feed page must carry of an article; return its content HTML."""
    assert entry.title == want["title"]
    published = dt.datetime(*entry.published_parsed[:6], tzinfo=dt.UTC)
    assert published == want["date"].astimezone(dt.UTC), entry.link
    if want["id"]:
        assert entry.id == want["id"]
    assert entry.summary.strip(), entry.link
    content: str = entry.content[0].value
    # Inert: no script element and no event handler survives (a bare <script> in prose
    # stays visible as text, docs/content-rules.md).
    tree = lxml_html.fragment_fromstring(content, create_parent="div")
    assert not tree.xpath(".//script | .//style | .//iframe"), entry.link
    assert not [
        name for element in tree.iter() for name in element.attrib if name.startswith("on")
    ], entry.link
    if want["image"]:
        assert [e.href for e in entry.enclosures] == [want["image"]]
        assert entry.media_content[0]["url"] == want["image"]
        top = lxml_html.fragment_fromstring(content, create_parent="div").find(".//img")
        assert top is not None and top.get("src") == want["image"]
        assert top.get("alt") == want["image_alt"] and top.get("width")
    else:
        assert not entry.get("enclosures")
    return content


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_every_item_reaches_readers_intact(rich_full: Path, name: str) -> None:
    expected = expected_items()
    parsed = feedparser.parse((rich_full / name).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    entries = {entry.link: entry for entry in parsed.entries}
    assert set(entries) == set(expected)
    for url, entry in entries.items():
        want = expected[url]
        text = visible_text(check_entry(entry, want))
        # Markdown and HTML syntax aside, every word the editor wrote reaches the reader.
        written = re.sub(r"<script>.*</script>|<[^>]*>|\]\([^)]*\)", " ", want["body"])
        assert not words(written) - words(text), (url, words(written) - words(text))


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_paging_back_finds_every_article(rich_site: Path, name: str) -> None:
    expected = expected_items()
    pages = walk_archives(rich_site, name)
    # The current feed holds the newest LIMIT; the archives every published article.
    assert len(pages[0].entries) == LIMIT
    assert len(pages) == 1 + -(-len(expected) // PAGE_SIZE)
    archived: dict[str, Any] = {}
    for page in pages:
        assert not page.bozo, page.get("bozo_exception")
    for page in pages[1:]:
        for entry in page.entries:
            assert entry.link not in archived, "an article on two archive pages"
            archived[entry.link] = entry
    assert set(archived) == set(expected)
    for url, entry in archived.items():
        content = check_entry(entry, expected[url])
        # An archived item carries its teaser and a link to the whole article.
        page = lxml_html.fragment_fromstring(content, create_parent="div")
        assert [a.get("href") for a in page.iter("a")] == [url]
        assert entry.summary in visible_text(content)


def test_every_archive_page_is_marked_and_linked_both_ways(rich_site: Path) -> None:
    for kind in ("feed", "atom"):
        files = sorted((rich_site / "archive").glob(f"{kind}-*.xml"))
        assert len(files) == 4
        for path in files:
            number = int(path.stem.split("-")[1])
            root = etree.fromstring(path.read_bytes())
            parent = root.find("channel") if kind == "feed" else root
            assert parent is not None
            assert parent.find(f"{HISTORY}archive") is not None
            links = {link.get("rel"): link.get("href") for link in parent.iter(f"{ATOM}link")}
            current = "feed.xml" if kind == "feed" else "atom.xml"
            assert links["current"] == f"{BASE}/{current}"
            assert links["self"] == f"{BASE}/archive/{path.name}"
            assert links.get("prev-archive") == (
                f"{BASE}/archive/{kind}-{number - 1}.xml" if number > 1 else None
            )
            assert links.get("next-archive") == (
                f"{BASE}/archive/{kind}-{number + 1}.xml" if number < len(files) else None
            )
            assert links["hub"] == "https://hub.example.org/"
        # Oldest first: page 1 holds the first article ever published, and it is full.
        first = feedparser.parse(files[0].read_bytes())
        oldest = min(expected_items().values(), key=lambda item: item["date"])
        assert oldest["title"] in {entry.title for entry in first.entries}
        assert len(first.entries) == PAGE_SIZE


def test_a_full_archive_page_does_not_change_when_articles_are_added(
    rich_site: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    project = rich_site.parent / "project"
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    (copy / "articles" / "2025-11-20-nieuw.md").write_text(
        '---\ntitle: "Nieuw"\ndate: 2025-11-20\n---\n\nNieuw artikel.\n', "utf-8"
    )
    out = tmp_path / "out"
    assert run_cli("build", "-p", copy, "-o", out, "--now", NOW).exit_code == 0
    for number in (1, 2, 3):
        for name in (f"feed-{number}.xml", f"atom-{number}.xml", f"feed-{number}.json"):
            assert (out / "archive" / name).read_bytes() == (
                rich_site / "archive" / name
            ).read_bytes(), name


def json_pages(out: Path) -> list[dict[str, Any]]:
    """Follow next_url from feed.json to the oldest page, as a JSON Feed reader does."""
    pages = [json.loads((out / "feed.json").read_bytes())]
    while "next_url" in pages[-1]:
        pages.append(json.loads(local(out, pages[-1]["next_url"]).read_bytes()))
        assert len(pages) < 20
    return pages


def test_every_json_feed_page_is_valid_json_feed_1_1(rich_site: Path) -> None:
    validator = jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    pages = json_pages(rich_site)
    assert len(pages) == 5
    for page in pages:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(page)]
        assert not errors, errors


def test_the_schema_check_catches_what_the_issue_found() -> None:
    # The schema is a real check: an unencoded image URL and an empty summary type fail it.
    validator = jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    item = {"id": "x", "content_html": "<p>x</p>", "image": "https://a.nl/mijn foto.jpg"}
    document = {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [item]}
    assert not validator.is_valid(document)
    item["image"] = "https://a.nl/mijn%20foto.jpg"
    assert validator.is_valid(document)
    document["banner"] = "unknown key"
    assert not validator.is_valid(document)


def test_json_pages_hold_every_article_with_its_image(rich_site: Path) -> None:
    expected = expected_items()
    items: dict[str, dict[str, Any]] = {}
    for page in json_pages(rich_site):
        for item in page["items"]:
            items.setdefault(item["url"], item)
    assert set(items) == set(expected)
    for url, item in items.items():
        assert item["title"] == expected[url]["title"]
        assert dt.datetime.fromisoformat(item["date_published"]) == expected[url]["date"]
        assert item.get("image") == expected[url]["image"]
        assert item["summary"].strip()
        assert item["author"] == item["authors"][0]


def test_branding_and_websub_in_every_current_feed(rich_site: Path) -> None:
    rss = feedparser.parse((rich_site / "feed.xml").read_bytes()).feed
    assert rss.image.href == f"{BASE}/images/logo%20groot.png"
    assert rss.rights == "© Praktijk De Linde & partners"
    atom = feedparser.parse((rich_site / "atom.xml").read_bytes()).feed
    assert atom.icon == f"{BASE}/favicon.png"
    assert atom.logo == f"{BASE}/images/logo%20groot.png"
    assert atom.rights == "© Praktijk De Linde & partners"
    for feed in (rss, atom):
        assert [link.href for link in feed.links if link.rel == "hub"] == [
            "https://hub.example.org/"
        ]
    document = json.loads((rich_site / "feed.json").read_bytes())
    assert document["icon"] == f"{BASE}/images/logo%20groot.png"
    assert document["favicon"] == f"{BASE}/favicon.png"
    assert document["hubs"] == [{"type": "WebSub", "url": "https://hub.example.org/"}]


def test_teasers_come_from_the_first_block_whatever_it_is(rich_site: Path) -> None:
    entries = {}
    for page in walk_archives(rich_site, "atom.xml"):
        for entry in page.entries:
            entries[entry.link.rstrip("/").rsplit("/", 1)[-1]] = entry
    assert entries["opent-met-lijst"].summary == (
        "Bewegen, elke dag een half uur; Op tijd naar bed; Praten met iemand die je vertrouwt"
    )
    assert entries["opent-met-citaat"].summary.startswith("Ik dacht dat ik de enige was.")
    # Nothing but a heading: the title stands in, never an empty <summary/>.
    assert entries["alleen-een-kop"].summary == "Zomerstop van de praktijk"
    long = entries["lange-tekst"].summary
    assert long.endswith("…") and len(long) <= 200


def test_dst_days_and_updated_dates(rich_site: Path) -> None:
    entries = {}
    for page in walk_archives(rich_site, "atom.xml"):
        for entry in page.entries:
            entries[entry.link.rstrip("/").rsplit("/", 1)[-1]] = entry
    # 2025-03-30 03:30 in Amsterdam is summer time already; 2025-10-26 02:30+01:00 is the
    # second 02:30 of that night.
    assert entries["zomertijd"].published == "2025-03-30T03:30:00+02:00"
    assert entries["wintertijd"].published == "2025-10-26T02:30:00+01:00"
    assert entries["bijgewerkt"].updated == "2025-09-01T12:00:00+02:00"
    assert entries["bijgewerkt"].published == "2025-06-16T10:00:00+02:00"


def test_archives_are_byte_identical_with_and_without_the_cache(
    rich_site: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    from conftest import tree_bytes

    project = rich_site.parent / "project"
    # rich_site was built once (filling the cache); build again from the cache, and without.
    cached, uncached = tmp_path / "cached", tmp_path / "uncached"
    assert run_cli("build", "-p", project, "-o", cached, "--now", NOW).exit_code == 0
    result = run_cli("build", "-p", project, "-o", uncached, "--now", NOW, "--no-cache")
    assert result.exit_code == 0
    expected = tree_bytes(rich_site)
    assert any(name.startswith("archive/") for name in expected)
    assert tree_bytes(cached) == expected == tree_bytes(uncached)
