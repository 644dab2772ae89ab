"""The feeds built from the shipped articles: complete, valid and reproducible."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from lxml import etree, html

from conftest import NOW, NOW_DT, REPO, RunCli, article_dates, tree_bytes

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
EMAIL_CONTACT = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]+( \(.+\))?$")


def expected_articles(project: Path, now: dt.datetime) -> dict[str, str]:
    """Return title by slug of every article readers may see at ``now``."""
    return {
        slug: title
        for slug, (title, date, draft) in article_dates(project).items()
        if not draft and date <= now
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from click.testing import CliRunner

    from nieuwsbrief.cli import cli

    out = tmp_path_factory.mktemp("site") / "public"
    result = CliRunner().invoke(
        cli, ["build", "--project", str(REPO), "--out", str(out), "--now", NOW]
    )
    assert result.exit_code == 0, result.output
    return out


def slug_of(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def test_build_writes_the_three_feeds(built: Path) -> None:
    for name in ("feed.xml", "atom.xml", "feed.json"):
        assert (built / name).stat().st_size > 0


@pytest.mark.parametrize("name, version", [("feed.xml", "rss20"), ("atom.xml", "atom10")])
def test_xml_feeds_hold_every_published_article_and_nothing_else(
    built: Path, name: str, version: str
) -> None:
    parsed = feedparser.parse((built / name).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == version
    expected = expected_articles(REPO, NOW_DT)
    assert len(expected) >= 6, "the example should have several published articles"
    assert {slug_of(entry.link): entry.title for entry in parsed.entries} == expected
    assert parsed.feed.language == "nl"


def test_json_feed_holds_every_published_article(built: Path) -> None:
    document = json.loads((built / "feed.json").read_text(encoding="utf-8"))
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["language"] == "nl"
    assert document["feed_url"].endswith("/feed.json")
    items = document["items"]
    assert {slug_of(item["url"]): item["title"] for item in items} == expected_articles(
        REPO, NOW_DT
    )
    for item in items:
        assert item["id"] and item["content_html"] and item["summary"]
        assert RFC3339.match(item["date_published"])
        assert RFC3339.match(item["date_modified"])
        assert item["authors"][0]["name"]
    with_image = [item for item in items if "image" in item]
    assert with_image and all(item["image"].startswith("https://") for item in with_image)


def test_items_are_newest_first_in_every_feed(built: Path) -> None:
    for name in ("feed.xml", "atom.xml"):
        entries = feedparser.parse((built / name).read_bytes()).entries
        published = [entry.published_parsed for entry in entries]
        assert published == sorted(published, reverse=True)
    items = json.loads((built / "feed.json").read_text(encoding="utf-8"))["items"]
    dates = [dt.datetime.fromisoformat(item["date_published"]) for item in items]
    assert dates == sorted(dates, reverse=True)


def test_feed_limit_from_settings(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    settings = project / "schedule.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("limit: 20", "limit: 3"))
    out = tmp_path / "out"
    assert run_cli("build", "--project", project, "--out", out, "--now", NOW).exit_code == 0
    newest = sorted(
        expected_articles(project, NOW_DT),
        key=lambda slug: next((project / "articles").glob(f"*{slug}.md")).name,
    )[-3:]
    for name in ("feed.xml", "atom.xml"):
        entries = feedparser.parse((out / name).read_bytes()).entries
        assert sorted(slug_of(entry.link) for entry in entries) == sorted(newest)
    assert len(json.loads((out / "feed.json").read_bytes())["items"]) == 3


# --- The W3C feed validator's rules, checked one by one ------------------------------------


def rss(built: Path) -> etree._Element:
    return etree.fromstring((built / "feed.xml").read_bytes())


def atom(built: Path) -> etree._Element:
    return etree.fromstring((built / "atom.xml").read_bytes())


def test_rss_has_required_channel_and_item_elements(built: Path) -> None:
    channel = rss(built).find("channel")
    assert channel is not None
    for tag in ("title", "link", "description", "language", "lastBuildDate", "generator"):
        assert (channel.findtext(tag) or "").strip(), tag
    for item in channel.iter("item"):
        for tag in ("title", "link", "description", "guid", "pubDate", CONTENT):
            assert (item.findtext(tag) or "").strip(), tag


def test_missing_atom_self_link_rule(built: Path) -> None:
    self_links = rss(built).findall(f"channel/{ATOM}link[@rel='self']")
    assert [link.get("href") for link in self_links] == ["https://www.praktijkdelinde.nl/feed.xml"]
    assert self_links[0].get("type") in (None, "application/rss+xml")
    atom_self = atom(built).findall(f"{ATOM}link[@rel='self']")
    assert [link.get("href") for link in atom_self] == ["https://www.praktijkdelinde.nl/atom.xml"]


def test_rss_dates_are_rfc822_with_the_right_day_of_week(built: Path) -> None:
    texts = [element.text or "" for element in rss(built).iter("pubDate", "lastBuildDate")]
    assert len(texts) > 2
    for text in texts:
        # InvalidRFC2822Date and IncorrectDOW: parse it, then format it back.
        moment = email.utils.parsedate_to_datetime(text)
        assert moment.tzinfo is not None
        assert text.split(",")[0] == moment.strftime("%a"), text
        assert re.match(r"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$", text), text


def test_atom_dates_are_rfc3339(built: Path) -> None:
    texts = [
        element.text or "" for element in atom(built).iter(f"{ATOM}updated", f"{ATOM}published")
    ]
    assert len(texts) > 2
    for text in texts:
        assert RFC3339.match(text), text


def test_last_build_date_is_the_newest_article_not_the_clock(built: Path) -> None:
    entries = feedparser.parse((built / "atom.xml").read_bytes()).entries
    newest = max(dt.datetime.fromisoformat(entry.updated) for entry in entries)
    assert dt.datetime.fromisoformat(atom(built).findtext(f"{ATOM}updated") or "") == newest
    channel = rss(built).find("channel")
    assert channel is not None
    assert email.utils.parsedate_to_datetime(channel.findtext("lastBuildDate") or "") == newest


def test_ids_are_unique_and_stable_tag_uris(built: Path) -> None:
    guids = [element.text for element in rss(built).iter("guid")]
    ids = [element.text for element in atom(built).iterfind(f"{ATOM}entry/{ATOM}id")]
    assert len(set(guids)) == len(guids) and len(set(ids)) == len(ids)
    assert guids == ids
    for guid in rss(built).iter("guid"):
        assert guid.get("isPermaLink") == "false"
        assert re.match(
            r"^tag:www\.praktijkdelinde\.nl,\d{4}-\d{2}-\d{2}:[a-z0-9-]+$", guid.text or ""
        )


def test_id_does_not_change_when_the_title_changes(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    article = next((project / "articles").glob("*winterdip.md"))
    before, after = tmp_path / "before", tmp_path / "after"
    assert run_cli("build", "-p", project, "-o", before, "--now", NOW).exit_code == 0
    article.write_text(
        re.sub(
            r"^title: .*$",
            'title: "Een heel andere titel"',
            article.read_text("utf-8"),
            count=1,
            flags=re.M,
        ),
        encoding="utf-8",
    )
    assert run_cli("build", "-p", project, "-o", after, "--now", NOW).exit_code == 0
    old = {e.link: e.id for e in feedparser.parse((before / "atom.xml").read_bytes()).entries}
    new = {
        e.link: (e.id, e.title) for e in feedparser.parse((after / "atom.xml").read_bytes()).entries
    }
    link = next(link for link in old if link.endswith("/winterdip/"))
    assert new[link] == (old[link], "Een heel andere titel")


def all_urls(fragment: str) -> list[str]:
    tree = html.fragment_fromstring(fragment, create_parent="div")
    return [
        value
        for element in tree.iter()
        for name, value in element.items()
        if name in ("href", "src")
    ]


def test_every_url_is_absolute_and_safe(built: Path) -> None:
    # InvalidPermalink, InvalidFullLink and ContainsRelRef: no relative reference anywhere.
    root = rss(built)
    urls = [element.text or "" for element in root.iter("link")]
    urls += [enclosure.get("url") or "" for enclosure in root.iter("enclosure")]
    for item in root.iter("item"):
        urls += all_urls(item.findtext(CONTENT) or "")
    for element in atom(built).iter(f"{ATOM}link"):
        urls.append(element.get("href") or "")
    for entry in atom(built).iter(f"{ATOM}content"):
        urls += all_urls(entry.text or "")
    assert len(urls) > 20
    # tel: only for the numbers of the crisis-line notice (113, 0800-0113, the practice's),
    # which the example articles about thoughts of suicide carry (docs/topics.md).
    phones = re.compile(r"tel:(?:113|08000113|\+31201234567)")
    for url in urls:
        assert url.startswith(("https://", "mailto:")) or phones.fullmatch(url), url


def test_rss_contacts_are_email_addresses(built: Path) -> None:
    # InvalidContact: RSS <author>, managingEditor and webMaster must hold an email address.
    channel = rss(built).find("channel")
    assert channel is not None
    for element in channel.iter("author", "managingEditor", "webMaster"):
        assert EMAIL_CONTACT.match(element.text or ""), element.text
    creators = list(channel.iter("{http://purl.org/dc/elements/1.1/}creator"))
    assert len(creators) == len(channel.findall("item"))


def test_atom_entries_have_required_elements(built: Path) -> None:
    root = atom(built)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "nl"
    for tag in ("id", "title", "updated", "author/" + ATOM + "name"):
        assert (root.findtext(ATOM + tag) or "").strip(), tag
    for entry in root.iter(f"{ATOM}entry"):
        for tag in (
            "id",
            "title",
            "updated",
            "published",
            "summary",
            "content",
            "author/" + ATOM + "name",
        ):
            assert (entry.findtext(ATOM + tag) or "").strip(), tag
        alternates = entry.findall(f"{ATOM}link[@rel='alternate']")
        assert len(alternates) == 1 and alternates[0].get("type") == "text/html"


def test_images_are_enclosures(built: Path) -> None:
    parsed = feedparser.parse((built / "feed.xml").read_bytes())
    with_image = [entry for entry in parsed.entries if entry.get("enclosures")]
    assert with_image
    for entry in with_image:
        enclosure = entry.enclosures[0]
        assert enclosure.href.startswith("https://") and enclosure.type.startswith("image/")
    atom_entries = feedparser.parse((built / "atom.xml").read_bytes()).entries
    assert sum(1 for entry in atom_entries if entry.get("enclosures")) == len(with_image)


def test_build_is_byte_identical_for_the_same_now(tmp_path: Path, run_cli: RunCli) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert run_cli("build", "-p", REPO, "-o", first, "--now", NOW).exit_code == 0
    assert run_cli("build", "-p", REPO, "-o", second, "--now", NOW).exit_code == 0
    assert tree_bytes(first) == tree_bytes(second)
    # And again into the same folder, replacing the previous build.
    assert run_cli("build", "-p", REPO, "-o", first, "--now", NOW).exit_code == 0
    assert tree_bytes(first) == tree_bytes(second)


def test_drafts_and_future_articles_appear_once_published(tmp_path: Path, run_cli: RunCli) -> None:
    later = dt.datetime(2025, 12, 9, 9, tzinfo=NOW_DT.tzinfo)
    out = tmp_path / "out"
    assert run_cli("build", "-p", REPO, "-o", out, "--now", later.isoformat()).exit_code == 0
    links = {slug_of(e.link) for e in feedparser.parse((out / "atom.xml").read_bytes()).entries}
    assert set(expected_articles(REPO, later)) == links
    assert len(links) == len(expected_articles(REPO, NOW_DT)) + 1


# --- The same rules over RFC 5005 archive pages, stylesheets and Media RSS ------------------

MEDIA = "{http://search.yahoo.com/mrss/}"
HISTORY = "{http://purl.org/syndication/history/1.0}"


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the example with a feed limit of 3 and archive pages of 2, so it has archives."""
    from click.testing import CliRunner

    from conftest import copy_example_project, set_setting
    from nieuwsbrief.cli import cli

    project = copy_example_project(tmp_path_factory.mktemp("archived") / "project")
    set_setting(project, "feeds", "limit", 3)
    set_setting(project, "feeds", "archive_size", 2)
    set_setting(project, "site", "description", "Over <angst> & somberheid")
    out = project.parent / "public"
    result = CliRunner().invoke(
        cli, ["build", "--project", str(project), "--out", str(out), "--now", NOW]
    )
    assert result.exit_code == 0, result.output
    return out


def xml_documents(out: Path) -> list[Path]:
    return [out / "feed.xml", out / "atom.xml", *sorted((out / "archive").glob("*.xml"))]


def test_archives_follow_the_w3c_rules_too(archived: Path) -> None:
    documents = xml_documents(archived)
    assert len(documents) == 2 + 2 * 4  # 8 published articles in pages of 2
    all_ids: dict[str, set[str]] = {"rss": set(), "atom": set()}
    for path in documents:
        root = etree.fromstring(path.read_bytes())
        is_rss = root.tag == "rss"
        parent = root.find("channel") if is_rss else root
        assert parent is not None
        # MissingAtomSelfLink: every document names its own address, with its type.
        self_links = parent.findall(f"{ATOM}link[@rel='self']")
        assert [link.get("href") for link in self_links] == [
            "https://www.praktijkdelinde.nl/" + path.relative_to(archived).as_posix()
        ]
        assert self_links[0].get("type") == (
            "application/rss+xml" if is_rss else "application/atom+xml"
        )
        dates = (
            [e.text or "" for e in root.iter("pubDate", "lastBuildDate")]
            if is_rss
            else [e.text or "" for e in root.iter(f"{ATOM}updated", f"{ATOM}published")]
        )
        for text in dates:
            if is_rss:
                moment = email.utils.parsedate_to_datetime(text)
                assert text.split(",")[0] == moment.strftime("%a"), text
            else:
                assert RFC3339.match(text), text
        ids = [e.text or "" for e in root.iter("guid", f"{ATOM}id") if e.getparent() is not root]
        # DuplicateIds within a document; across pages the same article keeps one id.
        assert len(ids) == len(set(ids))
        all_ids["rss" if is_rss else "atom"].update(ids)
        for link in parent.iter(f"{ATOM}link"):
            assert (link.get("href") or "").startswith("https://"), link.get("href")
        if path.parent.name == "archive":
            assert parent.find(f"{HISTORY}archive") is not None
    assert all_ids["rss"] == all_ids["atom"]
    assert len(all_ids["rss"]) == len(expected_articles(REPO, NOW_DT))


def test_every_xml_feed_points_browsers_at_the_stylesheet(archived: Path) -> None:
    from urllib.parse import urljoin

    for path in xml_documents(archived):
        tree = etree.parse(str(path))
        instructions = [
            node
            for node in tree.getroot().itersiblings(preceding=True)
            if isinstance(node, etree._ProcessingInstruction)
        ]
        assert [pi.target for pi in instructions] == ["xml-stylesheet"], path
        assert instructions[0].get("type") == "text/xsl"
        href = instructions[0].get("href") or ""
        # The relative href resolves to the stylesheet this build wrote.
        url = urljoin("https://h/" + path.relative_to(archived).as_posix(), href)
        assert (archived / url.removeprefix("https://h/")).read_bytes().startswith(b"<?xml")
    xslt = etree.XSLT(etree.parse(str(archived / "feed.xsl")))
    for name in ("feed.xml", "atom.xml"):
        page = xslt(etree.parse(str(archived / name)))
        text = " ".join(str(page).split())
        assert "kopieer dit adres in je feedlezer" in text
        for entry in feedparser.parse((archived / name).read_bytes()).entries:
            assert entry.title in text


def test_images_travel_as_media_rss_and_on_top_of_the_content(archived: Path) -> None:
    root = etree.fromstring((archived / "feed.xml").read_bytes())
    with_image = [item for item in root.iter("item") if item.find("enclosure") is not None]
    assert with_image
    for item in with_image:
        enclosure = item.find("enclosure")
        assert enclosure is not None
        media = item.find(f"{MEDIA}content")
        assert media is not None and media.get("url") == enclosure.get("url")
        assert media.get("medium") == "image" and media.get("type") == enclosure.get("type")
        alt = media.findtext(f"{MEDIA}description")
        assert alt
        top = html.fragment_fromstring(item.findtext(CONTENT) or "", create_parent="div")[0]
        image = top.find("img")
        assert image is not None
        assert image.get("src") == enclosure.get("url") and image.get("alt") == alt
        assert image.get("width") == "600"


def test_plain_text_description_survives_html_readers(archived: Path) -> None:
    # RSS readers treat <description> as HTML: the text must be escaped once more.
    parsed = feedparser.parse((archived / "feed.xml").read_bytes())
    assert parsed.feed.subtitle_detail.type == "text/html"
    shown = html.fragment_fromstring(parsed.feed.subtitle, create_parent="div").text_content()
    assert shown == "Over <angst> & somberheid"
    atom_feed = feedparser.parse((archived / "atom.xml").read_bytes())
    assert atom_feed.feed.subtitle == "Over <angst> & somberheid"
    assert (
        json.loads((archived / "feed.json").read_bytes())["description"]
        == "Over <angst> & somberheid"
    )
