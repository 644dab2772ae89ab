"""The editor's commands init, new and check, and --quiet/--verbose."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import feedparser
import pytest

from conftest import NOW, RunCli, tree_bytes, write_article


def test_init_creates_a_project_that_builds_at_once(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "nieuw"
    result = run_cli("init", project, "--no-input")
    assert result.exit_code == 0, result.output
    assert (project / "schedule.yaml").is_file()
    assert (project / "templates" / "digest.mjml.j2").is_file()
    [article] = list((project / "articles").glob("*.md"))
    out = tmp_path / "out"
    built = run_cli("build", "-p", project, "-o", out)
    assert built.exit_code == 0, built.output
    # The example article is a draft: nothing reaches readers before the editor publishes.
    assert feedparser.parse((out / "feed.xml").read_bytes()).entries == []
    article.write_text(article.read_text("utf-8").replace("draft: true\n", ""), "utf-8")
    built = run_cli("build", "-p", project, "-o", out)
    assert built.exit_code == 0, built.output
    entries = feedparser.parse((out / "feed.xml").read_bytes()).entries
    assert [entry.title for entry in entries] == ["Welkom bij onze nieuwsbrief"]


def test_init_refuses_an_existing_project(project: Path, run_cli: RunCli) -> None:
    before = tree_bytes(project)
    result = run_cli("init", project, "--no-input")
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert tree_bytes(project) == before


def test_new_writes_a_dated_draft_with_an_ascii_slug(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    result = run_cli(
        "new",
        "Wat is systematische desensitisatie?",
        "-p",
        project,
        "--date",
        "2025-11-20",
        "--tags",
        "angst, behandeling",
    )
    assert result.exit_code == 0, result.output
    path = project / "articles" / "2025-11-20-wat-is-systematische-desensitisatie.md"
    assert result.output.strip() == str(path)
    from nieuwsbrief.articles import load_article
    from nieuwsbrief.config import load_settings

    article = load_article(path, load_settings(project / "schedule.yaml").site)
    assert article.title == "Wat is systematische desensitisatie?"
    assert article.date == dt.datetime(2025, 11, 20, tzinfo=article.date.tzinfo)
    assert article.tags == ("angst", "behandeling")
    assert article.draft


def test_new_handles_dutch_characters_and_quotes(project: Path, run_cli: RunCli) -> None:
    title = 'Eén "café"-gesprek: ’s avonds piekeren'
    result = run_cli("new", title, "-p", project, "--date", "2025-11-21", "--publish")
    assert result.exit_code == 0, result.output
    path = project / "articles" / "2025-11-21-een-cafe-gesprek-s-avonds-piekeren.md"
    from nieuwsbrief.articles import load_article
    from nieuwsbrief.config import load_settings

    article = load_article(path, load_settings(project / "schedule.yaml").site)
    assert article.title == title and not article.draft


def test_new_refuses_to_overwrite(project: Path, run_cli: RunCli) -> None:
    args = ("new", "Winterdip", "-p", project, "--date", "2025-11-03")
    existing = project / "articles" / "2025-11-03-winterdip.md"
    before = existing.read_bytes()
    result = run_cli(*args)
    assert result.exit_code == 1
    assert "already exists" in result.output and existing.name in result.output
    assert existing.read_bytes() == before


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("yes", "yes"),
        ("2025-11-20", "2025-11-20"),
        ("# Geen commentaar", "geen-commentaar"),
        ("Kosten: € 100,- per sessie", "kosten-100-per-sessie"),
        ("{{ 7*7 }} en [lijst]", "7-7-en-lijst"),
    ],
)
def test_new_round_trips_titles_that_look_like_yaml(
    project: Path, run_cli: RunCli, title: str, name: str
) -> None:
    result = run_cli("new", title, "-p", project, "--date", "2025-11-20")
    assert result.exit_code == 0, result.output
    path = project / "articles" / f"2025-11-20-{name}.md"
    from nieuwsbrief.articles import load_article
    from nieuwsbrief.config import load_settings

    assert load_article(path, load_settings(project / "schedule.yaml").site).title == title
    checked = run_cli("check", "-p", project, "--now", NOW, "--format", "json")
    assert checked.exit_code == 0, checked.output
    assert not [p for p in json.loads(checked.stdout) if p["file"] == str(path)]


def test_new_errors(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    empty = run_cli("new", "?!", "-p", project)
    assert empty.exit_code == 1 and "empty slug" in empty.output
    bad_date = run_cli("new", "Titel", "-p", project, "--date", "20-11-2025")
    assert bad_date.exit_code == 2 and "--date" in bad_date.output
    elsewhere = run_cli("new", "Titel", "-p", tmp_path / "geen-project")
    assert elsewhere.exit_code == 1 and "is not a nieuwsbrief project" in elsewhere.output
    assert not (tmp_path / "geen-project").exists()


def test_check_clean_project(project: Path, run_cli: RunCli) -> None:
    result = run_cli("check", "-p", project, "--now", NOW, "--format", "json")
    assert result.exit_code == 0, result.output
    problems = json.loads(result.stdout)
    assert all(problem["severity"] == "warning" for problem in problems)


def test_check_reports_every_problem_at_once_and_writes_nothing(
    project: Path, run_cli: RunCli
) -> None:
    shipped = run_cli("check", "-p", project, "--now", NOW, "--format", "json")
    baseline = {Path(p["file"]).name for p in json.loads(shipped.stdout)}
    assert future_shipped(project) <= baseline, "an article dated after NOW is not reported"
    articles = project / "articles"
    (articles / "2025-11-20-kapot.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    (articles / "2025-11-21-zonder-titel.md").write_text(
        "---\ndate: 2025-11-21\n---\nx\n", encoding="utf-8"
    )
    write_article(project, "2025-11-22-plaatje.md", title="Plaatje", image="/a.jpg")
    write_article(project, "2025-11-22-http.md", "Zie [dit](http://example.nl/oud).", title="Oud")
    write_article(project, "2026-01-05-later.md", title="Later", date="2026-01-05")
    write_article(project, "2025-11-22-lang.md", "woord " * 80, title="Lang")
    write_article(
        project,
        "2025-11-22-oud-plaatje.md",
        title="Oud plaatje",
        summary="Kort.",
        image="http://example.nl/a.jpg",
        image_alt="Een plaatje",
    )
    before = tree_bytes(project)
    result = run_cli("check", "-p", project, "--now", NOW, "--format", "json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    found = {(Path(p["file"]).name, p["severity"], p["field"]) for p in problems}
    assert ("2025-11-20-kapot.md", "error", None) in found
    assert ("2025-11-21-zonder-titel.md", "error", "title") in found
    assert ("2025-11-22-plaatje.md", "warning", "image_alt") in found
    assert ("2026-01-05-later.md", "warning", "date") in found
    assert ("2025-11-22-lang.md", "warning", "summary") in found
    assert ("2025-11-22-oud-plaatje.md", "warning", "image") in found
    [http] = [p for p in problems if Path(p["file"]).name == "2025-11-22-http.md"]
    assert http["field"] == "body" and "http://example.nl/oud" in http["message"]
    # Nothing else is reported than the shipped articles' own warnings and the new files.
    expected_files = {
        "2025-11-20-kapot.md",
        "2025-11-21-zonder-titel.md",
        "2025-11-22-plaatje.md",
        "2025-11-22-http.md",
        "2026-01-05-later.md",
        "2025-11-22-lang.md",
        "2025-11-22-oud-plaatje.md",
    }
    assert {name for name, _, _ in found} - expected_files == baseline
    assert tree_bytes(project) == before
    text = run_cli("check", "-p", project, "--now", NOW)
    assert "error: " in text.output and "2025-11-21-zonder-titel.md: field 'title'" in text.output


def test_check_strict_makes_warnings_fail(project: Path, run_cli: RunCli) -> None:
    write_article(
        project, "2025-11-22-plaatje.md", title="Plaatje", image="/a.jpg", summary="Kort."
    )
    assert run_cli("check", "-p", project, "--now", NOW).exit_code == 0
    strict = run_cli("check", "-p", project, "--now", NOW, "--strict")
    assert strict.exit_code == 1
    assert "image_alt" in strict.output


def test_check_reports_an_oversized_digest(project: Path, run_cli: RunCli) -> None:
    from conftest import set_setting

    set_setting(project, "digest", "max_html_bytes", 15_000)
    result = run_cli("check", "-p", project, "--now", NOW, "--format", "json")
    fields = [problem["field"] for problem in json.loads(result.stdout)]
    assert "digest.max_html_bytes" in fields


def future_shipped(project: Path) -> set[str]:
    """Return the shipped articles dated after NOW that are not drafts, read independently."""
    from conftest import article_dates

    late = {
        slug
        for slug, (_, date, draft) in article_dates(project).items()
        if date > dt.datetime.fromisoformat(NOW) and not draft
    }
    return {path.name for path in (project / "articles").glob("*.md") if path.stem[11:] in late}


def test_check_reports_a_digest_past_max_items(project: Path, run_cli: RunCli) -> None:
    from conftest import set_setting

    set_setting(project, "digest", "max_items", 1)
    result = run_cli("check", "-p", project, "--now", NOW, "--format", "json")
    assert result.exit_code == 0
    [problem] = [p for p in json.loads(result.stdout) if p["field"] == "digest.max_items"]
    assert problem["file"].endswith("schedule.yaml") and "title only" in problem["message"]
    assert run_cli("check", "-p", project, "--now", NOW, "--strict").exit_code == 1


def test_check_reports_broken_settings(project: Path, run_cli: RunCli) -> None:
    (project / "schedule.yaml").write_text("site: {title: x}\n", encoding="utf-8")
    result = run_cli("check", "-p", project, "--format", "json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    assert all(problem["file"].endswith("schedule.yaml") for problem in problems)
    assert "site.base_url" in [problem["field"] for problem in problems]


def test_quiet_and_verbose(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    quiet = run_cli("build", "-q", "-p", project, "-o", tmp_path / "a", "--now", NOW)
    assert quiet.exit_code == 0 and quiet.output == ""
    verbose = run_cli("build", "--verbose", "-p", project, "-o", tmp_path / "b", "--now", NOW)
    assert "feed.xml (" in verbose.output and "Built " in verbose.output
    normal = run_cli("build", "-p", project, "-o", tmp_path / "c", "--now", NOW)
    assert "feed.xml (" not in normal.output and "Built " in normal.output
    group_quiet = run_cli("--quiet", "build", "-p", project, "-o", tmp_path / "d", "--now", NOW)
    assert group_quiet.output == ""


def test_check_with_a_local_now_and_broken_settings_still_reports_in_json(
    project: Path, run_cli: RunCli
) -> None:
    (project / "schedule.yaml").write_text("site: [\n", encoding="utf-8")
    result = run_cli("check", "-p", project, "--now", "2025-11-24T09:00", "--format", "json")
    assert result.exit_code == 1
    [problem] = json.loads(result.stdout)
    assert problem["severity"] == "error" and problem["file"].endswith("schedule.yaml")


@pytest.mark.parametrize("count", ["0", "-1", "521", "300000", "100000000000"])
def test_schedule_count_out_of_range_is_a_usage_error(
    project: Path, run_cli: RunCli, count: str
) -> None:
    result = run_cli("schedule", "-p", project, "--now", NOW, "--count", count)
    assert result.exit_code == 2, result.output
    assert "--count" in result.output and "1<=x<=520" in result.output


def test_schedule_count_up_to_ten_years(project: Path, run_cli: RunCli) -> None:
    result = run_cli("schedule", "-p", project, "--now", NOW, "--count", "520")
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 520


def test_new_cuts_a_long_slug_at_a_word_boundary(project: Path, run_cli: RunCli) -> None:
    single = run_cli("new", "a" * 300, "-p", project, "--date", "2025-11-20")
    assert single.exit_code == 0, single.output
    assert (project / "articles" / f"2025-11-20-{'a' * 80}.md").is_file()
    words = run_cli("new", "Angst en slaap " * 30, "-p", project, "--date", "2025-11-20")
    assert words.exit_code == 0, words.output
    path = Path(words.output.strip())
    slug = path.stem.removeprefix("2025-11-20-")
    assert len(slug) <= 80 and ("angst-en-slaap-" * 30).startswith(slug + "-"), slug
    assert slug.split("-")[-1] in ("angst", "en", "slaap")


def test_new_gives_one_line_when_the_os_refuses_the_file(project: Path, run_cli: RunCli) -> None:
    import shutil

    shutil.rmtree(project / "articles")
    (project / "articles").write_text("not a folder", encoding="utf-8")
    result = run_cli("new", "Titel", "-p", project)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(project / "articles") in lines[0], result.output


@pytest.mark.parametrize("date", ["1969-01-01", "1969-12-31", "9001-01-01"])
def test_new_refuses_a_date_check_would_refuse(project: Path, run_cli: RunCli, date: str) -> None:
    before = tree_bytes(project / "articles")
    result = run_cli("new", "Titel", "-p", project, "--date", date)
    assert result.exit_code == 2, result.output
    assert "--date" in result.output and "1970 to 9000" in result.output
    assert tree_bytes(project / "articles") == before


@pytest.mark.parametrize("date", ["1970-01-01", "9000-12-31"])
def test_new_accepts_the_edge_years_and_check_agrees(
    project: Path, run_cli: RunCli, date: str
) -> None:
    result = run_cli("new", "Rand", "-p", project, "--date", date, "--publish")
    assert result.exit_code == 0, result.output
    path = result.output.strip()
    checked = run_cli("check", "-p", project, "--now", NOW, "--format", "json")
    assert not [
        p for p in json.loads(checked.stdout) if p["file"] == path and p["severity"] == "error"
    ]
