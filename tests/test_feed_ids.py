"""Ids readers dedupe by: stable across date corrections (RFC 4151 site date), explicit when
a slug must change, and a warning when a build would change what readers already have."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import feedparser
import pytest

from conftest import NOW, REPO, RunCli, set_setting, write_article
from nieuwsbrief.feeds import feed_changes

PANIEK = "2025-11-12-paniekaanvallen.md"


def atom_ids(out: Path) -> dict[str, str]:
    """Return id by link of every entry in the built atom.xml."""
    return {e.link: e.id for e in feedparser.parse((out / "atom.xml").read_bytes()).entries}


def build(run_cli: RunCli, project: Path, out: Path, now: str = NOW) -> str:
    result = run_cli("build", "-p", project, "-o", out, "--now", now)
    assert result.exit_code == 0, result.output
    return str(result.output)


def replace_line(path: Path, pattern: str, line: str) -> None:
    text = path.read_text("utf-8")
    new = re.sub(pattern, line, text, count=1, flags=re.M)
    assert new != text, pattern
    path.write_text(new, "utf-8")


@pytest.mark.parametrize(
    "first, second",
    [
        ("date: 2025-11-12", "date: 2025-11-13"),
        # The same instant written two ways.
        ('date: "2025-11-11T23:30:00Z"', 'date: "2025-11-12 00:30 Europe/Amsterdam"'),
    ],
)
def test_a_corrected_date_keeps_the_id(
    project: Path, tmp_path: Path, run_cli: RunCli, first: str, second: str
) -> None:
    article = project / "articles" / "2025-11-20-nieuw.md"
    write_article(project, article.name, title="Nieuw artikel")
    replace_line(article, r"^title: .*$", f"title: Nieuw artikel\n{first}")
    build(run_cli, project, tmp_path / "one")
    before = atom_ids(tmp_path / "one")
    replace_line(article, r"^date: .*$", second)
    output = build(run_cli, project, tmp_path / "one")
    after = atom_ids(tmp_path / "one")
    link = "https://www.praktijkdelinde.nl/artikelen/nieuw/"
    assert before[link] == after[link] == "tag:www.praktijkdelinde.nl,2025-10-01:nieuw"
    assert "was published as" not in output


def test_published_ids_of_the_example_are_kept(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    # The example switched to a site-wide tag date; articles published before keep their ids.
    ids = atom_ids_of(run_cli, project, tmp_path / "out")
    base = "https://www.praktijkdelinde.nl/artikelen/"
    assert ids[base + "paniekaanvallen/"] == "tag:www.praktijkdelinde.nl,2025-11-12:paniekaanvallen"
    first = "wanneer-hulp-zoeken-en-je-eerste-afspraak"
    assert ids[f"{base}{first}/"] == f"tag:www.praktijkdelinde.nl,2025-10-01:{first}"


def test_without_tag_date_ids_stay_as_before(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    settings = (project / "schedule.yaml").read_text("utf-8")
    (project / "schedule.yaml").write_text(re.sub(r"^  tag_date: .*\n", "", settings, flags=re.M))
    write_article(project, "2025-11-20-nieuw.md", title="Nieuw", date="2025-11-20")
    ids = atom_ids_of(run_cli, project, tmp_path / "out")
    assert ids["https://www.praktijkdelinde.nl/artikelen/nieuw/"] == (
        "tag:www.praktijkdelinde.nl,2025-11-20:nieuw"
    )


def atom_ids_of(run_cli: RunCli, project: Path, out: Path) -> dict[str, str]:
    build(run_cli, project, out)
    return atom_ids(out)


def test_removing_a_pinned_id_warns_with_the_line_to_add_back(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    published = tmp_path / "published"
    build(run_cli, project, published)
    article = project / "articles" / PANIEK
    replace_line(article, r"^id: .*\n", "")
    out = tmp_path / "out"
    shutil.copytree(published, out)
    output = build(run_cli, project, out)
    assert f"{PANIEK}: its id changed: was published as " in output
    assert "id: tag:www.praktijkdelinde.nl,2025-11-12:paniekaanvallen" in output
    # Putting the line back is the fix: building over what readers have is quiet again.
    replace_line(
        article, r"^---\n\n", 'id: "tag:www.praktijkdelinde.nl,2025-11-12:paniekaanvallen"\n---\n\n'
    )
    assert "was published as" not in build(run_cli, project, published)


def test_a_new_slug_with_an_explicit_id_keeps_the_id_and_warns_about_the_link(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "out"
    build(run_cli, project, out)
    old = atom_ids(out)["https://www.praktijkdelinde.nl/artikelen/paniekaanvallen/"]
    replace_line(project / "articles" / PANIEK, r"^title: (.*)$", r"title: \1\nslug: paniek")
    output = build(run_cli, project, out)
    assert atom_ids(out)["https://www.praktijkdelinde.nl/artikelen/paniek/"] == old
    assert f"{PANIEK}: its link changed: was published as " in output
    assert "paniekaanvallen/" in output


def test_an_article_that_disappears_is_named(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "out"
    build(run_cli, project, out)
    replace_line(project / "articles" / PANIEK, r"^title: (.*)$", r"title: \1\ndraft: true")
    output = build(run_cli, project, out)
    assert "'Paniekaanvallen: eng, maar niet gevaarlijk' was published as" in output
    assert "no longer in the feeds" in output


@pytest.mark.parametrize(
    "old",
    [
        b"",
        b"\x00\xff garbage",
        b"<rss><channel><item><guid>" + b"x" * 5_000_000 + b"</guid></item></channel></rss>",
        # Entity expansion (billion laughs) must not be expanded.
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;'
        b'&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b"<rss><channel><item><guid>&c;</guid><link>x</link></item></channel></rss>",
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel><item>'
        b"<guid>&x;</guid></item></channel></rss>",
        b'{"items": [{"id": "\\u0000\\n\\u001b[31m", "url": 5}, 7, null]}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_hostile_old_feeds_give_bounded_inert_warnings(old: bytes) -> None:
    for name in ("feed.xml", "atom.xml", "feed.json"):
        warnings = feed_changes({name: old}, [])
        for warning in warnings:
            assert len(warning) < 600 and "\n" not in warning and "\x1b" not in warning
            assert "root:" not in warning  # no file was read through an entity


def test_hostile_old_feed_in_out_does_not_break_the_build(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "out"
    build(run_cli, project, out)
    hostile = {
        "feed.xml": b"<rss><channel><item><guid>\x1b]0;pwn\x07</guid>",
        "feed.json": b'{"items": [{"id": "tag:\\u001b[2J", "url": "x"}]}',
    }
    # Forge the record too, so the build trusts the files as its own and reads them back.
    record_path = out / ".nieuwsbrief-written.json"
    record = json.loads(record_path.read_text("utf-8"))
    for name, data in hostile.items():
        (out / name).write_bytes(data)
        record["files"][name] = hashlib.sha256(data).hexdigest()
    record_path.write_text(json.dumps(record), "utf-8")
    output = build(run_cli, project, out)
    assert "\x1b" not in output
    assert "no longer in the feeds" in output  # the fake JSON item, quoted and escaped
    assert "\\x1b" in output


def test_explicit_id_must_be_a_uri(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    write_article(project, "2025-11-20-nieuw.md", title="Nieuw", id="mijn id met spaties")
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert "2025-11-20-nieuw.md: field 'id': 'mijn id met spaties' is not a tag:, urn:" in (
        result.output
    )


@pytest.mark.parametrize("value", ["javascript:alert(1)", "data:text/html,x", "JavaScript:x"])
def test_explicit_id_scheme_is_tag_urn_or_http(
    value: str, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    write_article(project, "2025-11-20-nieuw.md", title="Nieuw", id=value)
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1, result.output
    assert "2025-11-20-nieuw.md: field 'id':" in result.output
    assert "is not a tag:, urn:, https: or http: URI" in result.output
    assert not (tmp_path / "out" / "feed.json").exists()


def test_explicit_id_schemes_any_case_are_accepted(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    write_article(project, "2025-11-20-nieuw.md", title="Nieuw", id="URN:uuid:1234-abcd")
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 0, result.output


def test_two_articles_cannot_share_an_id(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    write_article(
        project,
        "2025-11-20-nieuw.md",
        title="Nieuw",
        id="tag:www.praktijkdelinde.nl,2025-11-12:paniekaanvallen",
    )
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert "field 'id'" in result.output and "is already the id of" in result.output


def test_tag_date_setting_is_validated(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    set_setting(project, "site", "tag_date", "1 oktober")
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert "field 'site.tag_date'" in result.output and "YYYY-MM-DD" in result.output


# --- updated: never in the future, never before the date ----------------------------------


def test_updated_in_the_future_fails_build_and_check(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    write_article(
        project, "2025-11-20-nieuw.md", title="Nieuw", date="2025-11-20", updated="2052-11-21"
    )
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert "2025-11-20-nieuw.md: field 'updated': 2052-11-21T00:00:00+01:00 is after now" in (
        result.output
    )
    assert not (tmp_path / "out" / "feed.xml").exists()
    check = run_cli("check", "-p", project, "--now", NOW)
    assert check.exit_code == 1
    assert "field 'updated'" in check.output


def test_updated_before_date_is_an_error(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    write_article(
        project, "2025-11-20-nieuw.md", title="Nieuw", date="2025-11-20", updated="2024-11-21"
    )
    check = run_cli("check", "-p", project, "--now", NOW)
    assert check.exit_code == 1
    assert "2025-11-20-nieuw.md: field 'updated': 2024-11-21T00:00:00+01:00 is before the date" in (
        check.output
    )


def test_check_warns_when_an_article_has_no_text_for_a_teaser(
    project: Path, run_cli: RunCli
) -> None:
    write_article(project, "2025-11-20-kop.md", "## Alleen een kop", title="Alleen een kop")
    result = run_cli("check", "-p", project, "--now", NOW)
    assert "2025-11-20-kop.md: field 'summary'" in result.output
    assert "no paragraph, list or quote to make a teaser from" in result.output


def test_a_project_without_the_stylesheet_template_gets_the_default(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    (project / "templates" / "feed.xsl").unlink()
    out = tmp_path / "out"
    build(run_cli, project, out)
    assert (out / "feed.xsl").read_bytes() == (REPO / "templates" / "feed.xsl").read_bytes()


def test_warnings_about_changed_items_are_bounded() -> None:
    items = "".join(
        f"<item><guid>tag:x,2025:{n}</guid><link>l{n}</link></item>" for n in range(500)
    )
    warnings = feed_changes({"feed.xml": f"<rss><channel>{items}</channel></rss>".encode()}, [])
    assert len(warnings) == 26 and warnings[-1] == "... and 475 more changed items"
