"""One accurate warning about a custom crisis notice, the same in check and build (finding 13).

A custom ``topics.crisis_notice`` without 113 or 0800-0113 is a warning on that key. A long
notice that the text part wraps over lines is still the notice: no "template does not show
the crisis-line notice" warning for the untouched templates.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import NOW, RunCli, set_setting, write_article

LONG = (
    "Wil je praten over wat je voelt? Neem dan gerust contact met ons op, we staan voor je "
    "klaar, ook buiten kantoortijden en in het weekend."
)
WITHOUT = ["Wil je praten? Bel ons.", LONG, "Geen hulp nodig", "Bel 1130 of 0800-1234."]
WITH = [
    LONG + " Of bel 113.",
    LONG + " Of bel gratis 0800-0113.",
    "Bel 0800 0113.",
    "113: bel of chat via 113.nl.",
]


def _run(project: Path, tmp_path: Path, run_cli: RunCli, notice: str) -> tuple[str, str]:
    set_setting(project, "topics", "crisis_notice", notice)
    write_article(
        project,
        "2025-11-20-gedachten.md",
        title="Over donkere gedachten",
        date="2025-11-20T10:00:00+01:00",
        summary="Waar je terecht kunt.",
        crisis_notice=True,
    )
    checked = run_cli("check", "-p", project, "--now", NOW)
    built = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert built.exit_code == 0, built.output
    return checked.output, built.output


@pytest.mark.parametrize("notice", WITHOUT)
def test_a_notice_without_the_help_line_is_one_warning_in_check_and_build(
    notice: str, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    checked, built = _run(project, tmp_path, run_cli, notice)
    for output in (checked, built):
        lines = [line for line in output.splitlines() if "crisis" in line]
        assert len(lines) == 1, output
        assert "field 'topics.crisis_notice'" in lines[0] and "113 or 0800-0113" in lines[0]
        assert "does not show" not in output


@pytest.mark.parametrize("notice", WITH)
def test_a_notice_with_the_help_line_gives_no_warning(
    notice: str, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    checked, built = _run(project, tmp_path, run_cli, notice)
    for output in (checked, built):
        assert "crisis" not in output, output
    text = next((tmp_path / "out" / "digests").glob("*/digest.txt")).read_text("utf-8")
    assert " ".join(notice.split()[:4]) in " ".join(text.split())
