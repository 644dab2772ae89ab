"""check warns while an article still holds the instructions 'nieuwsbrief new' wrote (finding 12).

The text compared is the package's own (scaffold.NEW_ARTICLE_BODY), not a copy in the test,
so a change of that text cannot make the warning miss it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conftest import NOW, RunCli, set_setting
from nieuwsbrief.scaffold import NEW_ARTICLE_BODY, placeholder_warnings


def _new(project: Path, run_cli: RunCli) -> Path:
    result = run_cli("new", "Somberheid in de winter", "-p", project, "--date", "2025-11-20",
                     "--publish")  # fmt: skip
    assert result.exit_code == 0, result.output
    [path] = (project / "articles").glob("*somberheid-in-de-winter.md")
    return path


@pytest.mark.parametrize("form", ["je", "u"])
def test_check_strict_fails_on_the_new_article_text(
    form: str, project: Path, run_cli: RunCli
) -> None:
    set_setting(project, "site", "address_form", form)
    path = _new(project, run_cli)
    assert f"aan met '{form}'" in path.read_text("utf-8")
    result = run_cli("check", "-p", project, "--now", NOW, "--strict")
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if "placeholder text" in line]
    assert len(lines) == 1 and path.name in lines[0], result.output


def test_rewrapped_or_partly_kept_instructions_still_warn() -> None:
    text = NEW_ARTICLE_BODY.format(form="je")
    first, _, rest = text.partition(". ")
    for body in (
        textwrap.fill(text, 30),  # the editor's editor wrapped the lines
        "Mijn eigen alinea.\n\n" + rest,  # the first sentence replaced, the rest left
        first + ". En dan mijn eigen tekst.",
    ):
        assert placeholder_warnings(body), body


def test_the_editors_own_text_gives_no_warning(project: Path, run_cli: RunCli) -> None:
    path = _new(project, run_cli)
    head, _, _ = path.read_text("utf-8").rpartition("---\n")
    path.write_text(head + "---\n\nIn de winter voelen veel mensen zich somber.\n", "utf-8")
    result = run_cli("check", "-p", project, "--now", NOW)
    assert "placeholder text" not in result.output, result.output
    assert not placeholder_warnings("Schrijf je mee? Zonder summary is het ook goed.")


def test_a_draft_may_still_hold_the_instructions(project: Path, run_cli: RunCli) -> None:
    result = run_cli("new", "Nog bezig", "-p", project, "--date", "2025-11-20")
    assert result.exit_code == 0, result.output
    checked = run_cli("check", "-p", project, "--now", NOW)
    assert "placeholder text" not in checked.output, checked.output
