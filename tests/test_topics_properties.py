"""Hostile input to the topic layer, through the CLI: any tag and any topic setting gives
either inert output (exit 0) or one line naming the file, the field and the fix (exit 1)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from conftest import NOW, bare_project, finishes, write_article
from test_topics import run

HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "{{ 7*7 }}",
            "../../etc",
            "\u202eevil",
            "Zelfdoding",
            "ZELFMOORD",
            "a\x00b\x1bc",
            "💬",
            "-",
            "tel:113",
            "x" * 150,
        ]
    ),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10**12), 10**12), HOSTILE_TEXT)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3),
    max_leaves=8,
)
SLUG_PATH = re.compile(r"^tags/[a-z0-9]+(-[a-z0-9]+)*/")


def assert_one_line_error(output: str, file_name: str) -> None:
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines and file_name in output, output
    assert re.search(r"field '[^']+'", output), output


def assert_inert(out: Path) -> None:
    for path in sorted(out.rglob("*.html")):
        tree = lxml_html.fromstring(path.read_bytes().strip() or b"<p></p>")
        assert not tree.xpath("//script|//iframe|//object|//embed"), path
        for element in tree.iter():
            for name in element.attrib:
                assert not name.lower().startswith("on"), (path, name)
    index = json.loads((out / "tags" / "index.json").read_text("utf-8"))
    for entry in index["topics"]:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry["slug"]), entry["slug"]
    for path in out.rglob("*"):
        name = path.relative_to(out).as_posix()
        if name.startswith("tags/") and path.is_file() and name != "tags/index.json":
            assert SLUG_PATH.match(name), name


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tags=st.lists(HOSTILE_TEXT, min_size=1, max_size=3), other=HOSTILE_TEXT)
def test_any_tags_give_inert_topic_outputs_or_one_clear_error(
    tmp_path_factory: Any, tags: list[str], other: str
) -> None:
    root = tmp_path_factory.mktemp("hostile-tags")
    project = bare_project(root / "project")
    write_article(project, "2025-11-20-een.md", f"Tekst {other}.", title="Een", tags=tags)
    write_article(project, "2025-11-21-twee.md", "Tekst.", title="Twee", tags=[*tags, other])
    with finishes("a build with hostile topics"):
        result = run("build", "-p", project, "-o", root / "out", "--now", NOW)
    if result.exit_code == 0:
        assert_inert(root / "out")
        if "{{ 7*7 }}" in tags:
            # Template-looking text stays text: never evaluated to 49.
            listed = json.loads((root / "out" / "tags" / "index.json").read_text("utf-8"))
            assert any("{{ 7*7 }}" in entry["tags"] for entry in listed["topics"])
        check = run("check", "-p", project, "--now", NOW)
        assert "Traceback" not in check.output
    else:
        assert result.exit_code == 1
        assert_one_line_error(result.output, "articles/")


TOPIC_KEYS = st.sampled_from(
    [
        ("topics", "names"),
        ("topics", "list_size"),
        ("topics", "related_size"),
        ("topics", "date_format"),
        ("topics", "crisis_topics"),
        ("topics", "crisis_notice"),
        ("digest", "topics"),
    ]
)
DATE_FORMATS = st.sampled_from(
    ["{d:>999999999}", "{d!r}", "{d[0]}", "{month}", "{", "{{d}}", "{yyyy}-{mm}-{dd}", "{}"]
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=TOPIC_KEYS, value=VALUES | DATE_FORMATS)
def test_any_topic_setting_gives_output_or_one_clear_error(
    tmp_path_factory: Any, key: tuple[str, str], value: object
) -> None:
    root = tmp_path_factory.mktemp("hostile-settings")
    project = bare_project(root / "project")
    write_article(
        project, "2025-11-20-een.md", "Over zelfdoding.", title="Een", tags=["angst", "zelfdoding"]
    )
    data = yaml.safe_load((project / "schedule.yaml").read_text("utf-8"))
    data.setdefault(key[0], {})[key[1]] = value
    (project / "schedule.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with finishes("a build with hostile topics"):
        result = run("build", "-p", project, "-o", root / "out", "--now", NOW)
    if result.exit_code == 0:
        assert_inert(root / "out")
        assert all(path.stat().st_size < 2_000_000 for path in (root / "out").rglob("*.*"))
    else:
        assert result.exit_code == 1, result.output
        assert_one_line_error(result.output, "schedule.yaml")
        assert f"'{key[0]}.{key[1]}" in result.output, result.output
