"""The topic layer, built through the CLI: per-topic feeds, lists, related articles,
per-topic digests and the crisis-line notice, checked against what the articles say."""

from __future__ import annotations

import datetime as dt
import json
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from lxml import html as lxml_html

import test_feeds as feed_rules
from conftest import (
    AMSTERDAM,
    NOW,
    NOW_DT,
    REPO,
    copy_example_project,
    set_setting,
    tree_bytes,
    write_article,
)
from nieuwsbrief.cli import cli
from nieuwsbrief.topics import topic_slug
from test_digest import assert_email_html_is_safe, parse_html, read_eml

WEEK = "2025-W48"
OPEN = dt.datetime(2025, 11, 17, 8, 0, tzinfo=AMSTERDAM)
SEND = dt.datetime(2025, 11, 24, 8, 0, tzinfo=AMSTERDAM)
# Tags whose slug is not the tag itself, as a reader would write the address by hand.
FOLDED = {"Fobieën": "fobieen", "Angst": "angst", "suïcide": "suicide"}
NOTICE_START = "Denk je aan zelfdoding? Praat erover. Bel 113 of gratis 0800-0113"
SCHEMA = json.loads((REPO / "tests" / "schemas" / "jsonfeed-1.1.schema.json").read_text("utf-8"))


def expected_slug(tag: str) -> str:
    if tag in FOLDED:
        return FOLDED[tag]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", tag), f"add {tag!r} to FOLDED"
    return tag


def add_topic_articles(project: Path) -> None:
    """Articles that exercise folding, near-duplicates, drafts, the future and the notice."""
    write_article(
        project,
        "2025-11-20-leven-met-fobieen.md",
        "Een fobie is een sterke angst voor iets dat weinig gevaar oplevert.",
        title="Leven met fobieën",
        date="2025-11-20T10:00:00+01:00",
        tags=["Fobieën", "angst"],
    )
    write_article(
        project,
        "2025-11-21-praten-over-zelfdoding.md",
        "Gedachten aan zelfdoding komen vaker voor dan je denkt. Erover praten helpt.",
        title="Praten over zelfdoding",
        date="2025-11-21T09:00:00+01:00",
        tags=["zelfdoding", "Angst"],
    )
    write_article(
        project,
        "2025-11-05-als-alles-zwaar-voelt.md",
        "Somberheid kan samengaan met zelfmoordgedachten; zoek dan hulp.",
        title="Als alles zwaar voelt",
        date="2025-11-05T09:00:00+01:00",
        tags=["somberheid", "levenslust"],
    )
    write_article(
        project,
        "2025-11-06-onderzoek-suicidepreventie.md",
        "Een overzicht van het onderzoek naar preventie, voor vakgenoten.",
        title="Onderzoek naar preventie",
        date="2025-11-06T09:00:00+01:00",
        tags=["suïcide"],
        crisis_notice=False,
    )
    write_article(
        project,
        "2025-11-07-angsten-bij-jongeren.md",
        "Jongeren met angsten: wat ouders kunnen doen.",
        title="Angsten bij jongeren",
        date="2025-11-07T09:00:00+01:00",
        tags=["angsten"],
        crisis_notice=True,
    )
    for twin in ("a", "b"):
        # Two articles of the same moment and topics: the related order must still be fixed.
        write_article(
            project,
            f"2025-11-08-tweeling-{twin}.md",
            "Over angst bij tweelingen.",
            title=f"Tweeling {twin.upper()}",
            date="2025-11-08T09:00:00+01:00",
            tags=["tweeling", "angst"],
        )
    write_article(
        project,
        "2025-11-19-concept.md",
        "Nog niet af.",
        title="Een concept over angst",
        date="2025-11-19T09:00:00+01:00",
        tags=["angst"],
        draft=True,
    )
    write_article(
        project,
        "2025-12-01-later.md",
        "Komt later.",
        title="Een later artikel over angst",
        date="2025-12-01T09:00:00+01:00",
        tags=["angst", "Fobieën"],
    )


def topic_project(root: Path) -> Path:
    project = copy_example_project(root / "project")
    add_topic_articles(project)
    set_setting(project, "digest", "topics", ["angst", "Fobieën", "slaap"])
    set_setting(
        project,
        "topics",
        "names",
        {"fobieen": {"name": "Fobieën", "description": "Over fobieën en hoe je ervan afkomt."}},
    )
    return project


def run(*args: str | Path) -> Any:
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def topical(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("topics")
    project = topic_project(root)
    out = root / "public"
    result = run("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 0, result.output
    return project, out, result.output


@pytest.fixture(scope="module")
def facts(topical: tuple[Path, Path, str]) -> dict[str, dict[str, Any]]:
    """Read every article file directly (not through nieuwsbrief): slug -> front matter."""
    project = topical[0]
    found = {}
    for path in sorted((project / "articles").glob("*.md")):
        front = yaml.safe_load(path.read_text("utf-8").split("---")[1])
        raw = front.get("date", path.name[:10])
        if isinstance(raw, dt.datetime):
            date = raw
        elif isinstance(raw, str) and len(raw) > 10:
            date = dt.datetime.fromisoformat(raw).replace(tzinfo=AMSTERDAM)
        else:
            day = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(raw)
            date = dt.datetime.combine(day, dt.time(), tzinfo=AMSTERDAM)
        slug = front.get("slug") or re.sub(r"^\d{4}-\d{2}-\d{2}-", "", path.stem)
        found[slug] = {
            "title": front["title"],
            "date": date,
            "tags": front.get("tags", []),
            "published": not front.get("draft") and date <= NOW_DT,
            "crisis_notice": front.get("crisis_notice"),
            "url": f"https://www.praktijkdelinde.nl/artikelen/{slug}/",
        }
    return found


def published_with(facts: dict[str, dict[str, Any]], topic: str) -> set[str]:
    return {
        slug
        for slug, fact in facts.items()
        if fact["published"] and topic in {expected_slug(tag) for tag in fact["tags"]}
    }


def carries_notice(fact: dict[str, Any]) -> bool:
    if fact["crisis_notice"] is not None:
        return bool(fact["crisis_notice"])
    crisis = {"suicide", "suicidaliteit", "zelfdoding", "zelfmoord"}
    return bool(crisis & {expected_slug(tag) for tag in fact["tags"]})


def slug_of(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


# --- Slugs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tag, slug",
    [
        ("fobieën", "fobieen"),
        ("Fobieën", "fobieen"),
        ("Suïcide", "suicide"),
        ("Zelf zorg!", "zelf-zorg"),
        ("hulp-zoeken", "hulp-zoeken"),
        ("  ÉÉN  ", "een"),
    ],
)
def test_slugs_fold_accents_and_case(tag: str, slug: str) -> None:
    assert topic_slug(tag) == slug


def test_a_tag_without_letters_still_gets_a_stable_own_slug() -> None:
    first, second = topic_slug("💬"), topic_slug("🙂")
    assert first != second and first == topic_slug("💬")
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", first)


# --- Per-topic feeds and the index ------------------------------------------------------


def index(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "tags" / "index.json").read_text("utf-8"))
    return data


def test_index_names_every_topic_of_the_published_articles(
    topical: tuple[Path, Path, str], facts: dict[str, dict[str, Any]]
) -> None:
    out = topical[1]
    expected = {
        expected_slug(tag) for fact in facts.values() if fact["published"] for tag in fact["tags"]
    }
    topics = {entry["slug"]: entry for entry in index(out)["topics"]}
    assert set(topics) == expected
    assert topics["fobieen"]["name"] == "Fobieën"
    assert topics["fobieen"]["description"] == "Over fobieën en hoe je ervan afkomt."
    assert topics["angst"]["tags"] == ["Angst", "angst"]
    assert topics["angst"]["digest"] is True and topics["relaties"]["digest"] is False
    for slug, entry in topics.items():
        assert entry["count"] == len(published_with(facts, slug))
        for url in [*entry["feeds"].values(), *entry["list"].values()]:
            path = urlsplit(url).path.lstrip("/")
            assert path.startswith(f"tags/{slug}/") and (out / path).is_file(), url


def test_topic_feeds_hold_exactly_the_topics_published_articles_with_the_main_ids(
    topical: tuple[Path, Path, str], facts: dict[str, dict[str, Any]]
) -> None:
    out = topical[1]
    main = {e.link: e.id for e in feedparser.parse((out / "atom.xml").read_bytes()).entries}
    for entry in index(out)["topics"]:
        folder = out / "tags" / entry["slug"]
        expected = published_with(facts, entry["slug"])
        for name in ("feed.xml", "atom.xml"):
            parsed = feedparser.parse((folder / name).read_bytes())
            assert not parsed.bozo, (folder / name, parsed.get("bozo_exception"))
            assert {slug_of(e.link) for e in parsed.entries} == expected
            for item in parsed.entries:
                assert item.id == main[item.link], "a topic feed must reuse the main feed's id"
        document = json.loads((folder / "feed.json").read_text("utf-8"))
        validator = jsonschema.Draft202012Validator(
            SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        assert not [error.message for error in validator.iter_errors(document)]
        assert {slug_of(item["url"]) for item in document["items"]} == expected
        assert document["feed_url"] == entry["feeds"]["json"]


def test_topic_feeds_pass_the_main_feeds_rules(topical: tuple[Path, Path, str]) -> None:
    out = topical[1]
    for entry in index(out)["topics"]:
        folder = out / "tags" / entry["slug"]
        feed_rules.test_rss_has_required_channel_and_item_elements(folder)
        feed_rules.test_last_build_date_is_the_newest_article_not_the_clock(folder)
        feed_rules.test_ids_are_unique_and_stable_tag_uris(folder)
        feed_rules.test_rss_contacts_are_email_addresses(folder)
        feed_rules.test_atom_entries_have_required_elements(folder)
        rss, atom = feed_rules.rss(folder), feed_rules.atom(folder)
        rss_self = rss.findall(f"channel/{feed_rules.ATOM}link[@rel='self']")
        atom_self = atom.findall(f"{feed_rules.ATOM}link[@rel='self']")
        assert [link.get("href") for link in rss_self] == [entry["feeds"]["rss"]]
        assert [link.get("href") for link in atom_self] == [entry["feeds"]["atom"]]
        # The feed's own id differs from the main feed's, the items' ids do not.
        assert atom.findtext(f"{feed_rules.ATOM}id") == (
            f"https://www.praktijkdelinde.nl/tags/{entry['slug']}/"
        )
        for element in rss.iter("pubDate", "lastBuildDate"):
            moment = feed_rules.email.utils.parsedate_to_datetime(element.text or "")
            assert (element.text or "").split(",")[0] == moment.strftime("%a")
        for element in atom.iter(f"{feed_rules.ATOM}updated", f"{feed_rules.ATOM}published"):
            assert feed_rules.RFC3339.match(element.text or ""), element.text
        urls = [link.get("href") or "" for link in atom.iter(f"{feed_rules.ATOM}link")]
        for content in atom.iter(f"{feed_rules.ATOM}content"):
            urls += feed_rules.all_urls(content.text or "")
        for url in urls:
            assert url.startswith(("https://", "mailto:", "tel:")), url


def test_the_archive_page_advertises_every_topic_feed(topical: tuple[Path, Path, str]) -> None:
    out = topical[1]
    page = lxml_html.fromstring((out / "digests" / "index.html").read_bytes())
    advertised = {
        (link.get("type"), link.get("href"))
        for link in page.iterfind(".//head/link[@rel='alternate']")
    }
    for entry in index(out)["topics"]:
        feeds = entry["feeds"]
        assert ("application/rss+xml", feeds["rss"]) in advertised
        assert ("application/atom+xml", feeds["atom"]) in advertised
        assert ("application/feed+json", feeds["json"]) in advertised


# --- Lists and related articles ---------------------------------------------------------


def d_m_yyyy(moment: dt.datetime) -> str:
    day = moment.astimezone(AMSTERDAM)
    return f"{day.day}-{day.month}-{day.year}"


def check_fragment(fragment: str, items: list[dict[str, Any]]) -> None:
    """The fragment shows every item as the JSON does, and nothing that runs or loads."""
    tree = lxml_html.fragment_fromstring(fragment, create_parent="div")
    tags = {element.tag for element in tree.iter() if isinstance(element.tag, str)}
    assert not tags & {"script", "img", "iframe", "link", "style", "object", "embed", "form"}
    for element in tree.iter():
        for name, value in element.items():
            assert not name.startswith("on"), name
            if name in ("href", "src"):
                assert value.startswith(
                    ("https://www.praktijkdelinde.nl/", "tel:", "https://www.113.nl/")
                )
    titles = [a.text_content() for a in tree.find_class("nb-list-title")]
    assert titles == [item["title"] for item in items]
    dates = [span.text_content() for span in tree.find_class("nb-list-date")]
    assert dates == [f"({item['date_text']})" for item in items]
    more = tree.find_class("nb-list-more")
    assert [a.text_content() for a in more] == ["Lees verder"] * len(items)
    assert [a.get("href") for a in more] == [item["url"] for item in items]
    notices = len(tree.find_class("nb-crisis"))
    assert notices == sum(1 for item in items if item["crisis_notice"])


def test_the_list_of_all_articles_is_the_newest_ten_in_the_seeds_format(
    topical: tuple[Path, Path, str], facts: dict[str, dict[str, Any]]
) -> None:
    out = topical[1]
    data = json.loads((out / "lists" / "all.json").read_text("utf-8"))
    newest = sorted(
        (slug for slug, fact in facts.items() if fact["published"]),
        key=lambda slug: (facts[slug]["date"], slug),
        reverse=True,
    )[:10]
    assert [slug_of(item["url"]) for item in data["items"]] == newest
    for item in data["items"]:
        fact = facts[slug_of(item["url"])]
        assert item["title"] == fact["title"]
        assert item["date_text"] == d_m_yyyy(fact["date"])
        assert bool(item["crisis_notice"]) == carries_notice(fact)
    check_fragment((out / "lists" / "all.html").read_text("utf-8"), data["items"])


def test_every_topic_has_a_list_of_its_articles(
    topical: tuple[Path, Path, str], facts: dict[str, dict[str, Any]]
) -> None:
    out = topical[1]
    for entry in index(out)["topics"]:
        folder = out / "tags" / entry["slug"]
        data = json.loads((folder / "list.json").read_text("utf-8"))
        slugs = [slug_of(item["url"]) for item in data["items"]]
        assert set(slugs) == published_with(facts, entry["slug"])
        assert [facts[s]["date"] for s in slugs] == sorted(
            (facts[s]["date"] for s in slugs), reverse=True
        )
        check_fragment((folder / "list.html").read_text("utf-8"), data["items"])


def test_related_articles_share_a_topic_ranked_by_shared_topics_then_recency(
    topical: tuple[Path, Path, str], facts: dict[str, dict[str, Any]]
) -> None:
    out = topical[1]
    published = {slug for slug, fact in facts.items() if fact["published"]}
    written = {path.stem for path in (out / "related").glob("*.json")}
    assert written == published
    for slug in sorted(published):
        data = json.loads((out / "related" / f"{slug}.json").read_text("utf-8"))
        assert data["article"] == slug
        mine = {expected_slug(tag) for tag in facts[slug]["tags"]}
        candidates = [
            (len(mine & {expected_slug(tag) for tag in facts[other]["tags"]}), other)
            for other in published - {slug}
        ]
        # Same shared count and date: the main feeds' order (select.newest_first), which
        # puts the slug later in the alphabet first.
        ranked = sorted(
            sorted(((s, o) for s, o in candidates if s), key=lambda pair: pair[1], reverse=True),
            key=lambda pair: (-pair[0], -facts[pair[1]]["date"].timestamp()),
        )
        expected = [other for _, other in ranked][:5]
        assert [slug_of(item["url"]) for item in data["items"]] == expected, slug
        fragment = (out / "related" / f"{slug}.html").read_text("utf-8")
        if expected:
            assert "Lees meer over dit onderwerp in onze artikelen" in fragment
            check_fragment(fragment, data["items"])
        else:
            assert not fragment.strip()


def test_same_input_gives_the_same_bytes(tmp_path: Path) -> None:
    project = topic_project(tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    assert run("build", "-p", project, "-o", first, "--now", NOW).exit_code == 0
    assert run("build", "-p", project, "-o", second, "--now", NOW, "--no-cache").exit_code == 0
    assert tree_bytes(first) == tree_bytes(second)


# --- The crisis-line notice -------------------------------------------------------------


def test_the_notice_is_in_exactly_the_feed_items_about_suicide(
    topical: tuple[Path, Path, str], facts: dict[str, dict[str, Any]]
) -> None:
    out = topical[1]
    documents = [out / "feed.json", *sorted((out / "tags").glob("*/feed.json"))]
    for path in documents:
        for item in json.loads(path.read_text("utf-8"))["items"]:
            fact = facts[slug_of(item["url"])]
            has = NOTICE_START in lxml_html.fromstring(item["content_html"]).text_content()
            assert has == carries_notice(fact), (path, item["url"])
            if has:
                tree = lxml_html.fromstring(item["content_html"])
                hrefs = [a.get("href") for a in tree.iter("a")]
                assert {"tel:113", "tel:08000113", "https://www.113.nl/"} <= set(hrefs)
                # The practice's own phone from site.contact.phone, as a working link too.
                assert "tel:+31201234567" in hrefs
    atom = feedparser.parse((out / "atom.xml").read_bytes())
    noticed = {
        slug_of(e.link)
        for e in atom.entries
        if NOTICE_START in lxml_html.fromstring(e.content[0].value).text_content()
    }
    assert noticed == {s for s, f in facts.items() if f["published"] and carries_notice(f)}
    # The two articles tagged about suicide, and the two examples whose text speaks of
    # thoughts of suicide and that therefore write crisis_notice: true.
    assert noticed == {
        "praten-over-zelfdoding",
        "angsten-bij-jongeren",
        "winterdip",
        "wanneer-hulp-zoeken-en-je-eerste-afspraak",
    }


def test_the_notice_is_in_the_digest_item_about_suicide(topical: tuple[Path, Path, str]) -> None:
    out = topical[1]
    folder = out / "digests" / WEEK
    message = read_eml(folder / "digest.eml")
    html_part = message.get_body(("html",))
    text_part = message.get_body(("plain",))
    assert isinstance(html_part, EmailMessage) and isinstance(text_part, EmailMessage)
    page = lxml_html.fromstring(html_part.get_content())
    notices = page.find_class("nb-crisis")
    assert len(notices) == 1
    assert [a.get("href") for a in notices[0].iter("a")] == [
        "tel:113",
        "tel:08000113",
        "https://www.113.nl/",
        "tel:+31201234567",
    ]
    # It sits in the item of the article about suicide, between its title and the next one.
    text = page.text_content()
    assert text.index("Praten over zelfdoding") < text.index(NOTICE_START)
    plain = text_part.get_content()
    assert plain.count("Bel 113 of gratis 0800-0113") == 1
    assert "https://www.113.nl/" in plain


def test_an_article_about_suicide_listed_by_title_only_keeps_the_notice(tmp_path: Path) -> None:
    """Found by an outside probe: past max_items the title was listed, the help line not."""
    project = topic_project(tmp_path)
    set_setting(project, "digest", "max_items", 1)
    # Newer than the article about suicide, so that one is listed by title only.
    write_article(project, "2025-11-22-slaap-in-de-winter.md", "Over slapen.", title="Slaap")
    out = tmp_path / "out"
    assert run("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    message = read_eml(out / "digests" / WEEK / "digest.eml")
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert isinstance(html_part, EmailMessage) and isinstance(text_part, EmailMessage)
    page = lxml_html.fromstring(html_part.get_content())
    titles = [h2.text_content() for h2 in page.iter("h2")]
    assert titles == ["Slaap"]  # the article about suicide is one of the titles listed below
    assert "Praten over zelfdoding" in page.text_content()
    notices = page.find_class("nb-crisis")
    assert len(notices) == 1
    assert [a.get("href") for a in notices[0].iter("a")][:2] == ["tel:113", "tel:08000113"]
    text = page.text_content()
    assert text.index("Ook nieuw deze week") < text.index(NOTICE_START)
    plain = text_part.get_content()
    assert plain.count("Bel 113 of gratis 0800-0113") == 1
    assert plain.index("Praten over zelfdoding") < plain.index("Bel 113")


# --- Per-topic digests ------------------------------------------------------------------


def test_per_topic_digests_hold_the_weeks_articles_of_their_topic(
    topical: tuple[Path, Path, str], facts: dict[str, dict[str, Any]]
) -> None:
    out, output = topical[1], topical[2]
    week = out / "digests" / WEEK
    in_window = {s for s, f in facts.items() if f["published"] and OPEN <= f["date"] < SEND}
    for topic, name in (("angst", "angst"), ("fobieen", "Fobieën")):
        folder = week / topic
        assert sorted(path.name for path in folder.iterdir()) == [
            "digest.eml",
            "digest.html",
            "digest.txt",
            "email.html",
            "manifest.json",
        ]
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        assert manifest["topic"] == {"slug": topic, "name": name}
        assert manifest["web_url"].endswith(f"/digests/{WEEK}/{topic}/digest.html")
        slugs = {item["slug"] for item in manifest["articles"] + manifest["overflow"]}
        assert slugs == in_window & published_with(facts, topic)
        message = read_eml(folder / "digest.eml")
        assert message["Subject"] == f"Praktijk De Linde: nieuwsbrief week 48 · {name}"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        html_part = message.get_body(("html",))
        assert isinstance(html_part, EmailMessage)
        assert_email_html_is_safe(html_part.get_content())
        assert_email_html_is_safe((folder / "digest.html").read_text("utf-8"))
        shown = {a.get("href") for _, a in parse_html(html_part.get_content()).tags}
        for slug in slugs:
            assert any(href and f"/artikelen/{slug}/?" in href for href in shown), slug
    # No article about sleep this week: no digest, and the build says so.
    assert not (week / "slaap").exists()
    assert "no digest about 'slaap'" in output
    main = json.loads((week / "manifest.json").read_text("utf-8"))
    assert "topic" not in main
    assert {item["slug"] for item in main["articles"] + main["overflow"]} == in_window
    archive = lxml_html.fromstring((out / "digests" / "index.html").read_bytes())
    links = [a.get("href") for a in archive.iter("a")]
    assert f"{WEEK}/angst/digest.html" in links and f"{WEEK}/fobieen/digest.html" in links


def test_the_main_digest_is_unchanged_by_topic_digests(tmp_path: Path) -> None:
    project = topic_project(tmp_path)
    with_topics = tmp_path / "with"
    assert run("build", "-p", project, "-o", with_topics, "--now", NOW).exit_code == 0
    set_setting(project, "digest", "topics", [])
    without = tmp_path / "without"
    assert run("build", "-p", project, "-o", without, "--now", NOW).exit_code == 0
    for name in ("digest.eml", "digest.html", "digest.txt", "manifest.json"):
        path = Path("digests") / WEEK / name
        assert (with_topics / path).read_bytes() == (without / path).read_bytes(), name


def test_topic_digests_stay_in_the_archive_of_later_builds(tmp_path: Path) -> None:
    project = topic_project(tmp_path)
    out = tmp_path / "out"
    assert run("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    later = "2025-12-08T09:00:00+01:00"
    assert run("build", "-p", project, "-o", out, "--now", later).exit_code == 0
    archive = lxml_html.fromstring((out / "digests" / "index.html").read_bytes())
    links = [a.get("href") for a in archive.iter("a")]
    assert f"{WEEK}/angst/digest.html" in links
    assert "2025-W50/angst/digest.html" in links  # the later article about angst


def test_a_topic_that_loses_its_articles_loses_its_folder(tmp_path: Path) -> None:
    project = topic_project(tmp_path)
    out = tmp_path / "out"
    assert run("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    assert (out / "tags" / "levenslust" / "feed.xml").is_file()
    (project / "articles" / "2025-11-05-als-alles-zwaar-voelt.md").unlink()
    assert run("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    assert not (out / "tags" / "levenslust").exists()
    assert (out / "tags" / "somberheid" / "feed.xml").is_file()  # the winter dip has it too
    assert not (out / "related" / "als-alles-zwaar-voelt.html").exists()


# --- check --------------------------------------------------------------------------------


def test_check_warns_about_near_duplicate_topics_and_forgotten_notices(
    topical: tuple[Path, Path, str],
) -> None:
    project = topical[0]
    result = run("check", "-p", project, "--now", NOW)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("'Angst', 'angst'" in line and "one topic" in line for line in lines)
    assert any("'angst' and 'angsten'" in line for line in lines)
    [forgotten] = [line for line in lines if "crisis-line notice" in line]
    assert "als-alles-zwaar-voelt.md" in forgotten and "field 'tags'" in forgotten
    # Switched off on purpose: no warning for the research article. The example articles
    # that mention zelfdoding already give 113 themselves.
    assert not any("onderzoek-suicidepreventie" in line for line in lines)


@pytest.mark.parametrize(
    "section, key, value, field",
    [
        ("topics", "date_format", "{d}-{x}", "topics.date_format"),
        ("topics", "list_size", 0, "topics.list_size"),
        ("topics", "crisis_topics", "zelfdoding", "topics.crisis_topics"),
        ("digest", "topics", [["angst"]], "digest.topics"),
        ("topics", "names", {"angst": {"naam": "Angst"}}, "topics.names.angst.naam"),
        ("topics", "crisis_notice", "Bel 113\nnu", "topics.crisis_notice"),
    ],
)
def test_bad_topic_settings_name_the_file_field_and_fix(
    tmp_path: Path, section: str, key: str, value: object, field: str
) -> None:
    project = copy_example_project(tmp_path / "project")
    set_setting(project, section, key, value)
    result = run("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "schedule.yaml" in result.output and f"'{field}'" in result.output


def test_crisis_notice_front_matter_must_be_true_or_false(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path / "project")
    write_article(project, "2025-11-20-x.md", title="X", crisis_notice="ja")
    result = run("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert "2025-11-20-x.md" in result.output and "crisis_notice" in result.output


def test_the_notice_text_and_words_are_settings(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path / "project")
    set_setting(project, "topics", "crisis_topics", ["wanhoop"])
    set_setting(project, "topics", "crisis_notice", "Hulp nodig? Bel 113 of chat via 113.nl.")
    set_setting(project, "site", "address_form", "u")
    write_article(
        project, "2025-11-20-wanhoop.md", "Tekst.", title="Over wanhoop", tags=["Wanhoop"]
    )
    out = tmp_path / "out"
    assert run("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    items = json.loads((out / "feed.json").read_text("utf-8"))["items"]
    noticed = [item for item in items if "Hulp nodig? Bel" in item["content_html"]]
    # The article by its topic, and the examples that write crisis_notice: true.
    assert sorted(item["url"].rstrip("/").rsplit("/", 1)[1] for item in noticed) == [
        "wanhoop",
        "wanneer-hulp-zoeken-en-je-eerste-afspraak",
        "winterdip",
    ]
    assert all('href="tel:113"' in item["content_html"] for item in noticed)
    assert sum('class="nb-crisis"' in item["content_html"] for item in items) == 3


def test_an_old_digest_template_without_the_notice_is_reported(tmp_path: Path) -> None:
    project = topic_project(tmp_path)
    template = project / "templates" / "digest.mjml.j2"
    source = template.read_text("utf-8")
    start = source.index("{%- if item.crisis %}")
    end = source.index("{% endif %}", start) + len("{% endif %}")
    template.write_text(source[:start] + source[end:], encoding="utf-8")
    result = run("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "crisis-line notice" in line]
    # The main digest and the digest about angst both hold the article about suicide.
    assert len(warnings) == 2
    assert all("digest.mjml.j2" in line and "item.crisis" in line for line in warnings)


def test_an_unchanged_rebuild_reuses_the_topic_files_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nieuwsbrief.feeds
    import nieuwsbrief.lists

    project = topic_project(tmp_path)
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    assert run("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    first = tree_bytes(out)

    def refuse(*args: object, **kwargs: object) -> Any:
        raise AssertionError("rendered again although nothing changed")

    with monkeypatch.context() as patch:
        # Every feed page, the main feeds' and the topics', is taken from the last build.
        for renderer in ("render_rss", "render_atom", "render_json_feed"):
            patch.setattr(nieuwsbrief.feeds, renderer, refuse)
        patch.setattr(nieuwsbrief.lists, "_pair", refuse)
        result = run("build", "-p", project, "-o", out, "--now", NOW)
        assert result.exit_code == 0, result.output
    assert tree_bytes(out) == first
    assert run("build", "-p", project, "-o", fresh, "--now", NOW, "--no-cache").exit_code == 0
    assert tree_bytes(fresh) == first
    # An edited template or article is rendered anew, and gives what a fresh build gives.
    template = project / "templates" / "list.html.j2"
    template.write_text(
        template.read_text("utf-8").replace("nb-list-items", "nb-list-items eigen"), "utf-8"
    )
    article = project / "articles" / "2025-11-20-leven-met-fobieen.md"
    article.write_text(article.read_text("utf-8").replace("sterke angst", "hevige angst"), "utf-8")
    assert run("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    assert "nb-list-items eigen" in (out / "tags" / "angst" / "list.html").read_text("utf-8")
    fobieen = json.loads((out / "tags" / "fobieen" / "feed.json").read_text("utf-8"))
    assert "hevige angst" in fobieen["items"][0]["content_html"]
    again = tmp_path / "again"
    assert run("build", "-p", project, "-o", again, "--now", NOW, "--no-cache").exit_code == 0
    assert tree_bytes(again) == tree_bytes(out)


def test_related_ranking_equals_sorting_every_candidate() -> None:
    """_top_ranks (the threshold shortcut) gives what a full sort by (-shared, rank) gives."""
    import random
    from collections import Counter

    from nieuwsbrief.topics import _top_ranks

    rng = random.Random(15)  # noqa: S311 - test data, not secrets
    for _ in range(400):
        lists = [
            sorted(rng.sample(range(60), rng.randint(0, 40))) for _ in range(rng.randint(1, 5))
        ]
        count = rng.randint(1, 12)
        shared: Counter[int] = Counter()
        for ranks in lists:
            shared.update(ranks)
        expected = sorted(shared, key=lambda rank: (-shared[rank], rank))[:count]
        assert _top_ranks(lists, count) == expected
