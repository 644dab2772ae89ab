"""Building into a website folder: nieuwsbrief changes only the files it wrote, and says so.

Every test runs the real CLI and compares whole folder trees before and after, byte for byte.
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import re
import shutil
import stat
from pathlib import Path

import pytest

from conftest import NOW, RunCli, set_setting, tree_bytes, write_article
from nieuwsbrief.output import RECORD_FILE, lock_path

W46, W47, W48 = "2025-W46", "2025-W47", "2025-W48"
DIGEST_FILES = ("digest.eml", "digest.html", "digest.txt", "email.html", "manifest.json")
WEEK_NOWS = {
    W46: "2025-11-10T09:00:00+01:00",
    W47: "2025-11-17T09:00:00+01:00",
    W48: NOW,
}


def website(root: Path) -> Path:
    """Return a website folder with its own files, a feed.xml-free top and a git folder."""
    site = root / "site"
    (site / ".git" / "objects").mkdir(parents=True)
    (site / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (site / ".git" / "objects" / "ab").write_bytes(bytes(range(256)))
    (site / "css").mkdir()
    (site / "css" / "site.css").write_text("body { color: #222; }\n", encoding="utf-8")
    (site / "index.html").write_text("<h1>Praktijk De Linde</h1>\n", encoding="utf-8")
    (site / "artikelen" / "winterdip").mkdir(parents=True)
    (site / "artikelen" / "winterdip" / "index.html").write_text("<p>Winterdip</p>\n")
    # A website's own articles/ folder is fine: nieuwsbrief never writes there.
    (site / "articles").mkdir()
    (site / "articles" / "index.html").write_text("<p>Articles</p>\n", encoding="utf-8")
    (site / "digests-oud").mkdir()
    (site / "digests-oud" / "notitie.txt").write_text("van de webbouwer\n", encoding="utf-8")
    return site


def weekly_project(root: Path, project_fixture: Path) -> Path:
    """Return a project whose weeks 46, 47 (two articles) and 48 each have their own digest."""
    project = root / "weekly"
    shutil.copytree(project_fixture, project)
    shutil.rmtree(project / "articles")
    write_article(project, "a46.md", title="Week zesenveertig", date="2025-11-05")
    write_article(project, "a47.md", title="Week zevenenveertig", date="2025-11-12")
    write_article(project, "b47.md", title="Ook zevenenveertig", date="2025-11-13")
    write_article(project, "a48.md", title="Week achtenveertig", date="2025-11-19")
    return project


def build(run_cli: RunCli, project: Path, out: Path, now: str = NOW, *extra: str) -> str:
    result = run_cli("build", "-p", project, "-o", out, "--now", now, *extra)
    assert result.exit_code == 0, result.output
    return str(result.output)


def build_weeks(run_cli: RunCli, project: Path, out: Path) -> None:
    for now in WEEK_NOWS.values():
        build(run_cli, project, out, now)


def record(out: Path) -> dict[str, str]:
    data = json.loads((out / RECORD_FILE).read_text(encoding="utf-8"))
    return dict(data["files"])


def retract(project: Path, name: str) -> None:
    """Make an article a draft again, as an editor would."""
    path = project / "articles" / name
    text = re.sub(r"(?m)^draft:.*\n", "", path.read_text(encoding="utf-8"))
    path.write_text(text.replace("---\n", "---\ndraft: true\n", 1), encoding="utf-8")


def week_files(week: str) -> set[str]:
    return {f"digests/{week}/{name}" for name in DIGEST_FILES}


def feed_slugs(out: Path) -> list[str]:
    items = json.loads((out / "feed.json").read_text(encoding="utf-8"))["items"]
    return [item["url"].rstrip("/").rsplit("/", 1)[-1] for item in items]


def test_site_with_an_unrelated_feed_is_refused_and_untouched(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    site = website(tmp_path)
    (site / "feed.xml").write_text("<rss><!-- de eigen feed van de site --></rss>\n")
    before = tree_bytes(site)
    result = run_cli("build", "-p", project, "-o", site, "--now", NOW)
    assert result.exit_code == 1
    message = result.output.strip()
    assert "\n" not in message and "Traceback" not in message
    assert "feed.xml" in message and str(site) in message
    assert "move them out of the folder" in message and "choose another output folder" in message
    assert tree_bytes(site) == before
    assert sorted(path.name for path in site.iterdir()) == sorted(
        [".git", "css", "index.html", "articles", "artikelen", "digests-oud", "feed.xml"]
    )


def test_build_into_a_website_folder_changes_only_its_own_files(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    site = website(tmp_path)
    before = tree_bytes(site)
    build(run_cli, project, site)
    after = tree_bytes(site)
    # Every byte that was there is still there.
    assert {name: after[name] for name in before} == before
    written = record(site)
    assert set(after) - set(before) == set(written) | {RECORD_FILE}
    assert written == {name: hashlib.sha256(after[name]).hexdigest() for name in written}
    assert {"feed.xml", "atom.xml", "feed.json", "digests/index.html"} | week_files(W48) <= set(
        written
    )
    # The lock lives beside the folder, never inside a website.
    assert lock_path(site.resolve()).parent == tmp_path
    # A second build with the same input changes nothing at all.
    build(run_cli, project, site)
    assert tree_bytes(site) == after


def test_a_retracted_week_removes_exactly_its_files(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    weekly = weekly_project(tmp_path, project)
    site = website(tmp_path)
    foreign = tree_bytes(site)
    build_weeks(run_cli, weekly, site)
    before = tree_bytes(site)
    assert week_files(W46) | week_files(W47) | week_files(W48) <= set(before)
    retract(weekly, "a46.md")
    result = run_cli("build", "-p", weekly, "-o", site, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert f"digest {W46} removed" in result.output and "'a46'" in result.output
    after = tree_bytes(site)
    # The retracted article's related list (docs/topics.md) goes with it.
    assert set(before) - set(after) == week_files(W46) | {"related/a46.html", "related/a46.json"}
    assert not (site / "digests" / W46).exists()
    # Only the feeds (topic feeds and lists too), the archive page and the record changed;
    # the other weeks are as sent.
    topic_files = ("tags/", "lists/", "related/")
    changed = {
        name for name in after if after[name] != before[name] and not name.startswith(topic_files)
    }
    assert changed == {"feed.xml", "atom.xml", "feed.json", "digests/index.html", RECORD_FILE}
    assert {name: after[name] for name in foreign} == foreign
    assert "a46" not in feed_slugs(site)
    archive = (site / "digests" / "index.html").read_text(encoding="utf-8")
    assert f"{W46}/digest.html" not in archive and f"{W47}/digest.html" in archive
    assert set(record(site)) == set(after) - set(foreign) - {RECORD_FILE}


def test_a_week_that_lost_one_article_is_rebuilt_without_it(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    weekly = weekly_project(tmp_path, project)
    out = tmp_path / "public"
    build_weeks(run_cli, weekly, out)
    old = json.loads((out / "digests" / W47 / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(item["slug"] for item in old["articles"]) == ["a47", "b47"]
    retract(weekly, "b47.md")
    result = run_cli("build", "-p", weekly, "-o", out, "--now", NOW)
    assert result.exit_code == 0, result.output
    assert f"digest {W47} rebuilt without the retracted article(s) 'b47'" in result.output
    manifest = json.loads((out / "digests" / W47 / "manifest.json").read_text(encoding="utf-8"))
    assert [item["slug"] for item in manifest["articles"]] == ["a47"]
    for name in ("digest.html", "digest.txt", "digest.eml"):
        data = (out / "digests" / W47 / name).read_bytes()
        assert b"Ook zevenenveertig" not in data and b"Week zevenenveertig" in data
    assert manifest["send_at"] == old["send_at"]  # the same week, the same send moment


def test_deleting_an_article_file_retracts_it_too(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    weekly = weekly_project(tmp_path, project)
    out = tmp_path / "public"
    build_weeks(run_cli, weekly, out)
    (weekly / "articles" / "a46.md").unlink()
    output = build(run_cli, weekly, out)
    assert f"digest {W46} removed" in output
    assert not (out / "digests" / W46).exists()


def test_a_hand_edited_output_file_is_never_overwritten(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "public"
    build(run_cli, project, out)
    (out / "feed.xml").write_text("<rss>met de hand verbeterd</rss>\n", encoding="utf-8")
    before = tree_bytes(out)
    result = run_cli("build", "-p", project, "-o", out, "--now", "2025-12-09T09:00:00+01:00")
    assert result.exit_code == 1
    assert "'feed.xml' was changed since nieuwsbrief wrote it" in result.output
    assert "move that file elsewhere" in result.output
    assert tree_bytes(out) == before


def test_a_hand_edited_retracted_digest_is_not_removed(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    weekly = weekly_project(tmp_path, project)
    out = tmp_path / "public"
    build_weeks(run_cli, weekly, out)
    edited = out / "digests" / W46 / "digest.html"
    edited.write_text("<p>eigen versie</p>\n", encoding="utf-8")
    retract(weekly, "a46.md")
    before = tree_bytes(out)
    result = run_cli("build", "-p", weekly, "-o", out, "--now", NOW)
    assert result.exit_code == 1
    assert f"'digests/{W46}/digest.html' was changed" in result.output
    assert tree_bytes(out) == before


def test_folder_mode_group_and_setgid_are_kept(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "public"
    out.mkdir()
    groups = [group.gr_gid for group in grp.getgrall() if group.gr_gid != os.getegid()]
    if os.geteuid() == 0 and groups:
        os.chown(out, -1, groups[0])
    out.chmod(0o2770)
    wanted = out.stat()
    build(run_cli, project, out)
    (out / "feed.xml").chmod(0o640)
    old_feed = (out / "feed.xml").read_bytes()
    build(run_cli, project, out, "2025-12-09T09:00:00+01:00")
    # A replaced file keeps the permissions it was given.
    assert (out / "feed.xml").read_bytes() != old_feed
    assert stat.S_IMODE((out / "feed.xml").stat().st_mode) == 0o640
    now = out.stat()
    assert stat.S_IMODE(now.st_mode) == 0o2770
    assert now.st_gid == wanted.st_gid
    # setgid: everything written inside belongs to the folder's group.
    for path in out.rglob("*"):
        assert path.stat().st_gid == wanted.st_gid, path


def make_legacy(out: Path) -> None:
    """Turn a build into what version 0.1.0 left: no record, only the files it wrote."""
    import re

    (out / RECORD_FILE).unlink()
    legacy = re.compile(
        r"^(feed\.xml|atom\.xml|feed\.json|digests/index\.html"
        r"|digests/\d{4}-W\d{2}/(digest\.html|digest\.txt|digest\.eml|manifest\.json))$"
    )
    for path in sorted(out.rglob("*"), reverse=True):
        name = path.relative_to(out).as_posix()
        if path.is_file() and not legacy.match(name):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def test_an_output_of_the_previous_version_is_adopted(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "public"
    build(run_cli, project, out, WEEK_NOWS[W47])
    make_legacy(out)
    legacy = tree_bytes(out)
    build(run_cli, project, out)
    after = tree_bytes(out)
    assert set(record(out)) == set(after) - {RECORD_FILE}
    assert {name: after[name] for name in legacy if W47 in name} == {
        name: data for name, data in legacy.items() if W47 in name
    }


def test_a_deleted_record_is_recovered_by_adoption(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    """docs/publishing.md: without its record, a folder of only nieuwsbrief's files is adopted.

    Every kind of file a build of this version writes (feed stylesheet, archive pages, topic
    feeds and lists, related lists, per-topic digests) counts as nieuwsbrief's.
    """
    set_setting(project, "feeds", "limit", 3)
    set_setting(project, "feeds", "archive_size", 2)
    out = tmp_path / "public"
    build(run_cli, project, out)
    written = tree_bytes(out)
    assert {"feed.xsl", "tags/index.json", "lists/all.html"} <= set(written)
    assert any(name.startswith("archive/") for name in written)
    assert any(name.startswith("related/") for name in written)
    (out / RECORD_FILE).unlink()
    build(run_cli, project, out)
    assert tree_bytes(out) == written
    # A foreign file beside them is still refused, and the advice names every kind of file.
    (out / RECORD_FILE).unlink()
    (out / "index.html").write_text("<p>van de website</p>\n", encoding="utf-8")
    before = tree_bytes(out)
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 1 and "cannot tell whose they are" in result.output
    assert tree_bytes(out) == before


def test_a_previous_output_with_foreign_files_is_refused(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "public"
    build(run_cli, project, out)
    make_legacy(out)
    (out / "digests" / "lees-mij.txt").write_text("van iemand anders\n", encoding="utf-8")
    before = tree_bytes(out)
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 1
    assert "'digests/lees-mij.txt', which nieuwsbrief never writes" in result.output
    assert tree_bytes(out) == before


@pytest.mark.parametrize("where", ["project", "parent", "articles", "templates", "in-articles"])
def test_out_that_is_or_holds_the_project_is_refused(
    where: str, project: Path, run_cli: RunCli
) -> None:
    # `cd site && nieuwsbrief build -p nieuwsbrief -o .` once replaced the whole site.
    out = {
        "project": project,
        "parent": project.parent,
        "articles": project / "articles",
        "templates": project / "templates",
        "in-articles": project / "articles" / "public",
    }[where]
    before = tree_bytes(project.parent)
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 1
    assert str(out) in result.output and "choose a folder" in result.output
    assert tree_bytes(project.parent) == before
    assert not out.exists() or not (out / RECORD_FILE).exists()


def test_out_that_is_another_project_is_refused(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    other = tmp_path / "andere-praktijk"
    other.mkdir()
    (other / "schedule.yaml").write_text("site: {}\n", encoding="utf-8")
    result = run_cli("build", "-p", project, "-o", other, "--now", NOW)
    assert result.exit_code == 1
    assert "holds schedule.yaml: it looks like a nieuwsbrief project" in result.output
    assert [path.name for path in other.iterdir()] == ["schedule.yaml"]


def test_a_missing_articles_folder_is_an_error(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "public"
    build(run_cli, project, out)
    before = tree_bytes(out)
    shutil.rmtree(project / "articles")
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 1
    assert f"{project / 'articles'}: the articles folder is missing" in result.output
    assert tree_bytes(out) == before


def test_feeds_that_would_lose_every_item_need_allow_empty(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "public"
    build(run_cli, project, out)
    items = len(feed_slugs(out))
    assert items > 0
    for path in (project / "articles").glob("*.md"):
        retract(project, path.name)
    before = tree_bytes(out)
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 1
    assert f"holds {items} item(s)" in result.output and "--allow-empty" in result.output
    assert tree_bytes(out) == before
    output = build(run_cli, project, out, NOW, "--allow-empty")
    assert feed_slugs(out) == []
    assert f"digest {W48} removed" in output
    assert not (out / "digests" / W48).exists()


def test_a_digest_for_a_coming_week_is_rebuilt_or_removed(
    empty_project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    write_article(empty_project, "vroeg.md", title="Vroeg", date="2025-11-24T08:30:00+01:00")
    out = tmp_path / "public"
    build(run_cli, empty_project, out, NOW, "--digest-week", "2025-W49")
    folder = out / "digests" / "2025-W49"

    def slugs() -> list[str]:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        return [item["slug"] for item in manifest["articles"]]

    assert slugs() == ["vroeg"]
    # A later article appears: the next ordinary build rebuilds the coming week.
    write_article(empty_project, "later.md", title="Later", date="2025-11-24T08:45:00+01:00")
    output = build(run_cli, empty_project, out)
    assert "digest 2025-W49 (goes out after now) rebuilt" in output
    assert slugs() == ["later", "vroeg"]
    # Both retracted: the coming week's digest goes, from the folder and the archive.
    retract(empty_project, "vroeg.md")
    retract(empty_project, "later.md")
    output = build(run_cli, empty_project, out, NOW, "--allow-empty")
    assert "digest 2025-W49 (goes out after now) removed" in output
    assert not folder.exists()
    assert "2025-W49" not in (out / "digests" / "index.html").read_text(encoding="utf-8")


def test_same_input_gives_the_same_bytes_with_or_without_cache(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    site = website(tmp_path)
    trees = []
    for out, extra in ((site, ()), (tmp_path / "a", ("--no-cache",)), (tmp_path / "b", ())):
        build(run_cli, project, out, NOW, *extra)
        own = set(record(out)) | {RECORD_FILE}
        trees.append({name: data for name, data in tree_bytes(out).items() if name in own})
    assert trees[0] == trees[1] == trees[2]


def test_an_archive_page_no_build_writes_any_more_is_removed(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    # An older build wrote a second archive page (say, before articles were retracted).
    out = tmp_path / "public"
    build(run_cli, project, out)
    page = out / "digests" / "index-2.html"
    page.write_text("<a href='2025-W40/digest.html'>ingetrokken</a>\n", encoding="utf-8")
    data = json.loads((out / RECORD_FILE).read_text(encoding="utf-8"))
    data["files"]["digests/index-2.html"] = hashlib.sha256(page.read_bytes()).hexdigest()
    (out / RECORD_FILE).write_text(json.dumps(data), encoding="utf-8")
    eigen = out / "digests" / "eigen.html"  # not in the record: someone else's
    eigen.write_text("<p>van de webbouwer</p>\n", encoding="utf-8")
    output = run_cli("build", "-v", "-p", project, "-o", out, "--now", NOW).output
    assert "removed digests/index-2.html" in output
    assert not page.exists() and eigen.exists()
    assert "digests/index-2.html" not in record(out)


def test_the_reported_case_cd_site_and_out_dot_is_refused(
    project: Path, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As reported: site/ holds the project in site/nieuwsbrief/, a .git, index.html, feed.xml.
    site = website(tmp_path)
    (site / "feed.xml").write_text("<rss/>\n", encoding="utf-8")
    shutil.move(project, site / "nieuwsbrief")
    before = tree_bytes(site)
    monkeypatch.chdir(site)
    result = run_cli("build", "-p", "nieuwsbrief", "-o", ".", "--now", NOW, "--no-cache")
    assert result.exit_code == 1
    assert "is or contains" in result.output and "part of the project" in result.output
    assert tree_bytes(site) == before


@pytest.mark.parametrize("out", [".nieuwsbrief-cache", ".nieuwsbrief-cache/site"])
def test_the_cache_folder_is_never_the_output_folder(
    out: str, project: Path, run_cli: RunCli
) -> None:
    """Found by an outside probe: the feeds could be written beside articles.json, whose
    drafts' and future articles' titles and summaries a website would then publish."""
    assert run_cli("build", "-p", project, "-o", project / "public", "--now", NOW).exit_code == 0
    before = tree_bytes(project)
    result = run_cli("build", "-p", project, "-o", project / out, "--now", NOW)
    assert result.exit_code == 1
    assert ".nieuwsbrief-cache" in result.output and "choose" in result.output
    assert tree_bytes(project) == before


def test_a_build_lock_that_is_a_symbolic_link_is_refused_not_followed(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "created-by-lock"
    holder = tmp_path / "sl"
    holder.mkdir()
    (holder / ".link.lock").symlink_to(target)
    result = run_cli("build", "-p", project, "-o", holder / "link", "--now", NOW)
    assert result.exit_code == 1
    assert not target.exists() and not target.is_symlink()
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "lock" in lines[0] and "symbolic link" in lines[0], result.output
    assert str(holder / ".link.lock") in lines[0]
    assert not (holder / "link").exists()
