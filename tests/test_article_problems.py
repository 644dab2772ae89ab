"""check lists every problem of an article at once, one line each, not only the first."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, copy_example_project
from inert import run

# One broken value per field, each refused on its own (none depends on another).
BROKEN = {
    "titel": '"x"',
    "title": "[een, lijst]",
    "date": '"morgen"',
    "draft": '"nee"',
    "crisis_notice": '"ja"',
    "slug": '"../../etc"',
    "tags": '"angst"',
    "summary": "{a: 1}",
    "author": "[1, 2]",
    "image_alt": "[x]",
}
GOOD = {"title": '"Een titel"', "date": "2025-11-20"}


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(broken=st.sets(st.sampled_from(sorted(BROKEN)), min_size=1))
def test_every_broken_field_is_one_line(broken: set[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = copy_example_project(Path(folder) / "project")
        lines = [f"{key}: {BROKEN[key] if key in broken else GOOD[key]}" for key in GOOD]
        lines += [f"{key}: {BROKEN[key]}" for key in sorted(broken - set(GOOD))]
        name = "2025-11-20-kapot.md"
        text = "---\n" + "\n".join(lines) + "\n---\n\nTekst.\n"
        (project / "articles" / name).write_text(text, encoding="utf-8")
        for command in ("check", "build"):
            extra = ["-o", str(Path(folder) / "out")] if command == "build" else []
            result = run(command, "-p", project, *extra, "--now", NOW)
            assert result.exit_code == 1, result.output
            mine = [line for line in result.output.splitlines() if name in line]
            fields = [re.search(r"field '([a-z_]+)'", line) for line in mine]
            assert sorted(match[1] for match in fields if match) == sorted(broken), mine
            assert len(mine) == len(broken), mine


# --- Probe 12, findings 8 and 9: hidden characters in tags and file names, long keys ---------

HIDDEN_TAGS = [
    ("a\\u0000b", "a\\x00b", "U+0000"),
    ("c\\x1b[31mred", "c\\x1b[31mred", "U+001B"),
    ("d\\u200be", "d\\u200be", "U+200B"),
    ("sla\\u00a0ap", "sla\\u00a0ap", "U+00A0"),
    ("e\\u2060f", "e\\u2060f", "U+2060"),
    ("g\\u3164h", "g\\u3164h", "U+3164"),
]


@pytest.mark.parametrize(("written", "shown", "code"), HIDDEN_TAGS)
def test_a_tag_with_a_hidden_character_is_one_clear_error(
    written: str, shown: str, code: str, tmp_path: Path
) -> None:
    """Not dropped silently (a[31mred), not published as a look-alike topic (d\u200be)."""
    project = copy_example_project(tmp_path / "project")
    name = "2025-11-20-tags.md"
    text = f'---\ntitle: "Tags"\ndate: 2025-11-20\ntags: [slaap, "{written}"]\n---\n\nTekst.\n'
    (project / "articles" / name).write_text(text, encoding="utf-8")
    for command in ("check", "build"):
        extra = ["-o", str(tmp_path / "out")] if command == "build" else []
        result = run(command, "-p", project, *extra, "--now", NOW)
        assert result.exit_code == 1, result.output
        [line] = [line for line in result.output.splitlines() if name in line]
        assert "field 'tags'" in line and f"'{shown}'" in line and code in line, line
        assert "\x1b" not in result.output and "\u200b" not in result.output
    assert not (tmp_path / "out").exists()


def test_plain_tags_still_pass(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path / "project")
    name = "2025-11-20-tags.md"
    tags = '[slaap, "geestelijke gezondheid", café]'
    text = f'---\ntitle: "Tags"\ndate: 2025-11-20\ntags: {tags}\n---\n\nTekst.\n'
    (project / "articles" / name).write_text(text, encoding="utf-8")
    result = run("check", "-p", project, "--now", NOW)
    assert [line for line in result.output.splitlines() if name in line] == []


@pytest.mark.parametrize("hidden", ["\u202e", "\u200b", "\u2066", "\ufeff"])
def test_a_file_name_with_an_invisible_character_is_not_read_and_named(
    hidden: str, tmp_path: Path
) -> None:
    """As a name with a control character: a warning that shows it escaped, not read."""
    project = copy_example_project(tmp_path / "project")
    name = f"2025-11-20-{hidden}evil.md"
    (project / "articles" / name).write_text(
        '---\ntitle: "Evil"\ndate: 2025-11-20\n---\n\nTekst.\n', encoding="utf-8"
    )
    for command in ("check", "build"):
        extra = ["-o", str(tmp_path / "out")] if command == "build" else []
        result = run(command, "-p", project, *extra, "--now", NOW)
        assert result.exit_code == 0, result.output
        escaped = f"\\u{ord(hidden):04x}"
        [line] = [line for line in result.output.splitlines() if "evil" in line]
        assert line.startswith("warning:") and f"2025-11-20-{escaped}evil.md" in line, line
        assert "is not read" in line and "rename it" in line
        assert hidden not in result.output
    feed = (tmp_path / "out" / "feed.xml").read_text("utf-8")
    assert "/evil/" not in feed


def test_a_long_unknown_key_is_quoted_short(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path / "project")
    name = "2025-11-20-sleutel.md"
    key = "Z" * 500 + "\\x1b[2J"
    text = f'---\ntitle: "X"\ndate: 2025-11-20\n"{key}": 1\n---\n\nTekst.\n'
    (project / "articles" / name).write_text(text, encoding="utf-8")
    for output_format in ("text", "json"):
        result = run("check", "-p", project, "--now", NOW, "--format", output_format)
        assert result.exit_code == 1
        if output_format == "text":
            [line] = [line for line in result.output.splitlines() if name in line]
            assert "not a known front matter key" in line and "Z" * 61 not in line, line
            assert len(line) < 400 and "\x1b" not in line, line
        else:
            [problem] = [p for p in json.loads(result.output) if name in p["file"]]
            assert len(problem["field"]) <= 61 and problem["field"].startswith("ZZZ")


def test_a_short_unknown_key_with_an_escape_is_shown_escaped(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path / "project")
    name = "2025-11-20-sleutel.md"
    text = '---\ntitle: "X"\ndate: 2025-11-20\n"tit\\x1ble": 1\n---\n\nTekst.\n'
    (project / "articles" / name).write_text(text, encoding="utf-8")
    result = run("check", "-p", project, "--now", NOW)
    [line] = [line for line in result.output.splitlines() if name in line]
    assert "field 'tit\\x1ble'" in line and "\x1b" not in line, line
