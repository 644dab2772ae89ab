"""A broken article or settings file stops the build, says why, and keeps the old output."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import NOW, RunCli, tree_bytes

GOOD = '---\ntitle: "Goed"\ndate: 2025-11-20\n---\nTekst.\n'

BROKEN_ARTICLES = {
    "bad-yaml": (b'---\ntitle: "Niet gesloten\ndate: 2025-11-20\n---\nTekst\n', ["not valid YAML"]),
    "no-title": (b"---\ndate: 2025-11-20\n---\nTekst\n", ["field 'title'", "missing"]),
    "empty-title": (b'---\ntitle: ""\ndate: 2025-11-20\n---\nTekst\n', ["field 'title'"]),
    "bad-date": (
        b"---\ntitle: Datum\ndate: 31-02-2025\n---\nTekst\n",
        ["field 'date'", "31-02-2025"],
    ),
    "impossible-date": (b"---\ntitle: Datum\ndate: 2025-02-31\n---\nTekst\n", ["field 'date'"]),
    "not-utf8": (
        "---\ntitle: Café\ndate: 2025-11-20\n---\nTekst\n".encode("latin-1"),
        ["not UTF-8", "UTF-8"],
    ),
}


def build(run_cli: RunCli, project: Path, out: Path) -> tuple[int, str]:
    result = run_cli("build", "--project", project, "--out", out, "--now", NOW)
    return result.exit_code, result.output


@pytest.fixture
def previous(project: Path, tmp_path: Path, run_cli: RunCli) -> tuple[Path, dict[str, bytes]]:
    """Build the example once; return the output folder and its contents."""
    out = tmp_path / "public"
    code, output = build(run_cli, project, out)
    assert code == 0, output
    return out, tree_bytes(out)


@pytest.mark.parametrize("case", sorted(BROKEN_ARTICLES))
def test_broken_article_fails_with_file_and_field(
    case: str, project: Path, previous: tuple[Path, dict[str, bytes]], run_cli: RunCli
) -> None:
    content, expected = BROKEN_ARTICLES[case]
    name = f"2025-11-20-{case}.md"
    (project / "articles" / name).write_bytes(content)
    out, before = previous
    code, output = build(run_cli, project, out)
    assert code == 1
    assert name in output
    for fragment in expected:
        assert fragment in output
    assert "Traceback" not in output
    assert tree_bytes(out) == before


def test_duplicate_slug_names_both_files(
    project: Path, previous: tuple[Path, dict[str, bytes]], run_cli: RunCli
) -> None:
    (project / "articles" / "2025-11-20-winterdip.md").write_text(GOOD, encoding="utf-8")
    out, before = previous
    code, output = build(run_cli, project, out)
    assert code == 1
    assert "slug 'winterdip'" in output
    assert "2025-11-03-winterdip.md" in output and "2025-11-20-winterdip.md" in output
    assert tree_bytes(out) == before


def test_every_broken_article_is_reported_at_once(
    project: Path, previous: tuple[Path, dict[str, bytes]], run_cli: RunCli
) -> None:
    for case, (content, _) in BROKEN_ARTICLES.items():
        (project / "articles" / f"2025-11-20-{case}.md").write_bytes(content)
    code, output = build(run_cli, project, previous[0])
    assert code == 1
    assert f"{len(BROKEN_ARTICLES)} articles are invalid" in output
    for case in BROKEN_ARTICLES:
        assert f"2025-11-20-{case}.md" in output


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda text: "", ["schedule.yaml", "empty"]),
        (lambda text: text.replace("site:", "site: [", 1), ["schedule.yaml", "not valid YAML"]),
        (lambda text: text + "\nsurprise: 1\n", ["field 'surprise'", "not a known setting"]),
        (
            lambda text: text.replace("limit: 20", "limit: many"),
            ["field 'feeds.limit'", "whole number"],
        ),
        (
            lambda text: text.replace('base_url: "https://', 'base_url: "', 1),
            ["field 'site.base_url'", "https://"],
        ),
        (
            lambda text: text.replace("weekday: monday", "weekday: funday"),
            ["field 'digest.weekday'"],
        ),
        (
            lambda text: text.replace("timezone: Europe/Amsterdam", "timezone: Europe/Atlantis", 1),
            ["field 'site.timezone'", "Europe/Atlantis"],
        ),
        (
            lambda text: text.replace('  title: "Praktijk De Linde"\n', "", 1),
            ["field 'site.title'", "required"],
        ),
    ],
    ids=[
        "empty",
        "bad-yaml",
        "unknown-key",
        "wrong-type",
        "no-scheme",
        "weekday",
        "timezone",
        "no-title",
    ],
)
def test_invalid_settings_fail_naming_the_key(
    edit: object,
    expected: list[str],
    project: Path,
    previous: tuple[Path, dict[str, bytes]],
    run_cli: RunCli,
) -> None:
    settings = project / "schedule.yaml"
    assert callable(edit)
    settings.write_text(edit(settings.read_text(encoding="utf-8")), encoding="utf-8")
    out, before = previous
    code, output = build(run_cli, project, out)
    assert code == 1
    for fragment in expected:
        assert fragment in output
    assert tree_bytes(out) == before


def test_missing_settings_file(
    project: Path, previous: tuple[Path, dict[str, bytes]], run_cli: RunCli
) -> None:
    (project / "schedule.yaml").unlink()
    out, before = previous
    code, output = build(run_cli, project, out)
    assert code == 1
    assert "schedule.yaml" in output and "not found" in output
    assert tree_bytes(out) == before


def test_bad_now_is_a_usage_error(project: Path, tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("build", "--project", project, "--out", tmp_path / "o", "--now", "gisteren")
    assert result.exit_code == 2
    assert "ISO 8601" in result.output
