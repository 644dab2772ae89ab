"""Smaller messages of the black-box probe (finding 15).

'new' refuses a title that 'check' would refuse, and says what a slug needs; a template
error in 'check' names the template file once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import NOW, RunCli


@pytest.mark.parametrize(
    ("title", "problem"),
    [
        ("x" * 3000, "more than 1,000"),
        ("Hallo \u202e live", "U+202E"),
        ("Een \u2067titel", "U+2067"),
    ],
)
def test_new_refuses_a_title_that_check_would_refuse(
    title: str, problem: str, project: Path, run_cli: RunCli
) -> None:
    before = sorted((project / "articles").iterdir())
    result = run_cli("new", title, "-p", project, "--date", "2025-11-20")
    assert result.exit_code == 1, result.output
    assert problem in result.output and "field 'title'" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert sorted((project / "articles").iterdir()) == before


@pytest.mark.parametrize("title", ["日本語のタイトル", "Ψυχολογία", "مرحبا"])
def test_new_says_what_a_slug_needs_for_titles_without_latin_letters(
    title: str, project: Path, run_cli: RunCli
) -> None:
    result = run_cli("new", title, "-p", project, "--date", "2025-11-20")
    assert result.exit_code == 1
    assert "a-z" in result.output and "use some letters" not in result.output


@pytest.mark.parametrize(
    "snippet",
    [
        "{% for i in range(99999) %}{{ 'a' * 999 }}{% endfor %}",
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    ],
)
def test_a_template_error_in_check_names_the_file_once(
    snippet: str, project: Path, run_cli: RunCli
) -> None:
    template = project / "templates" / "digest.txt.j2"
    template.write_text(template.read_text("utf-8") + snippet, "utf-8")
    result = run_cli("check", "-p", project, "--now", NOW)
    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: {template}: ") and line.count(str(project)) == 1, line


@pytest.mark.parametrize(
    ("tags", "shown"),
    [
        ("a,\x1b[31mb", "'\\x1b[31mb'"),
        ("slaap,d\u200be", "'d\\u200be'"),
        ("\u202eevil", "U+202E"),
    ],
)
def test_new_refuses_tags_that_check_would_refuse(
    tags: str, shown: str, project: Path, run_cli: RunCli
) -> None:
    """Probe 12, finding 9: --tags wrote an ESC into the file that new refuses in a title."""
    before = sorted((project / "articles").iterdir())
    result = run_cli("new", "Een titel", "-p", project, "--date", "2025-11-20", "--tags", tags)
    assert result.exit_code == 1, result.output
    assert "field 'tags'" in result.output and shown in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "\x1b" not in result.output and "\u200b" not in result.output
    assert sorted((project / "articles").iterdir()) == before
