"""check lists every problem of an article at once, one line each, not only the first."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

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
