"""What sits in articles/: only article files are read, everything else is named once.

Symlink loops, dangling links, FIFOs, folders named like articles, odd extensions, names
that are not UTF-8 or hold escape sequences: a build and check finish, name each entry in a
warning (quoted, control characters escaped) and read every real article.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, NeverFinished, RunCli, finishes, write_article
from nieuwsbrief import cache, reuse
from nieuwsbrief.cache import CACHE_DIR

CACHE_FILES = sorted([cache.CACHE_FILE, reuse.CACHE_FILE])

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file system objects")


def build(run_cli: RunCli, project: Path):
    return run_cli("build", "-p", project, "-o", project.parent / "out", "--now", NOW)


def titles(project: Path) -> list[str]:
    import json

    feed = json.loads((project.parent / "out" / "feed.json").read_text("utf-8"))
    return sorted(item["title"] for item in feed["items"])


def make_entry(articles: Path, kind: str, name: str | bytes) -> None:
    path = articles / (os.fsdecode(name) if isinstance(name, bytes) else name)
    if kind == "loop":
        path.symlink_to(path)
    elif kind == "dangling":
        path.symlink_to("/nonexistent/nowhere.md")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "file":
        path.write_bytes(b"---\ntitle: Vreemd\ndate: 2025-11-18\n---\n\nTekst.\n")
    elif kind == "article":
        slug = f"s{len(list(articles.iterdir()))}".encode()
        path.write_bytes(b"---\ntitle: T\ndate: 2025-11-18\nslug: " + slug + b"\n---\n\nTekst.\n")


@pytest.mark.parametrize(
    ("kind", "name", "reason"),
    [
        ("loop", "lus.md", "symlink loop"),
        ("dangling", "weg.md", "symlink that leads nowhere"),
        ("fifo", "pijp.md", "not a regular file"),
        ("folder", "map.md", "it is a folder"),
        ("file", "spatie.md ", "white space around the extension"),
        ("file", b"\xff\xfe-kapot.md", "not valid UTF-8"),
        ("file", "kleur-\x1b[31m-rood.md", "control characters"),
        ("file", "notities.txt", "only *.md and *.markdown"),
    ],
    ids=["loop", "dangling", "fifo", "folder", "trailing-space", "not-utf8", "escape", "txt"],
)
def test_an_entry_that_is_no_article_is_named_in_a_warning(
    kind: str, name: str | bytes, reason: str, empty_project: Path, run_cli: RunCli
) -> None:
    write_article(empty_project, "2025-11-20-echt.md", title="Echt", date="2025-11-20")
    make_entry(empty_project / "articles", kind, name)
    with finishes(f"a build beside a {kind} in articles/"):  # a FIFO must never block it
        result = build(run_cli, empty_project)
    assert result.exit_code == 0, result.output
    assert titles(empty_project) == ["Echt"]
    warnings = [
        line for line in result.output.splitlines() if line.startswith("warning: articles/")
    ]
    assert len(warnings) == 1 and reason in warnings[0], result.output
    assert "\x1b" not in result.output and "\udcff" not in result.output
    check = run_cli("check", "-p", empty_project, "--now", NOW)
    assert check.exit_code == 0 and reason in check.output, check.output
    assert "\x1b" not in check.output
    # The cache saved cleanly (the article cache and the topic layer's fingerprints),
    # without a 0-byte temp file left behind.
    assert sorted(p.name for p in (empty_project / CACHE_DIR).iterdir()) == CACHE_FILES


def test_names_are_quoted_and_escaped(empty_project: Path, run_cli: RunCli) -> None:
    make_entry(empty_project / "articles", "file", "kleur-\x1b[31m-rood.md")
    make_entry(empty_project / "articles", "file", b"\xff-kapot.md")
    make_entry(empty_project / "articles", "file", "x" * 200 + ".txt")
    result = build(run_cli, empty_project)
    assert "articles/'kleur-\\x1b[31m-rood.md' is not read" in result.output
    assert "articles/'\\xff-kapot.md' is not read" in result.output
    assert "articles/'" + "x" * 60 + "…' is not read" in result.output


@pytest.mark.parametrize(
    "name", ["2025-11-18-groot.MD", "2025-11-18-lang.markdown", "2025-11-18-mix.Markdown"]
)
def test_markdown_extensions_in_any_case_are_articles(
    name: str, empty_project: Path, run_cli: RunCli
) -> None:
    write_article(empty_project, name, title="Gevonden", date="2025-11-18")
    result = build(run_cli, empty_project)
    assert result.exit_code == 0 and "warning: articles/" not in result.output, result.output
    assert titles(empty_project) == ["Gevonden"]


def test_a_symlink_inside_the_project_is_read(empty_project: Path, run_cli: RunCli) -> None:
    write_article(empty_project, "../drafts/2025-11-18-link.md", title="Gelinkt", date="2025-11-18")
    (empty_project / "articles" / "2025-11-18-link.md").symlink_to("../drafts/2025-11-18-link.md")
    result = build(run_cli, empty_project)
    assert result.exit_code == 0, result.output
    assert titles(empty_project) == ["Gelinkt"]


def test_a_symlink_out_of_the_project_is_refused(
    empty_project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    outside = tmp_path / "geheim.md"
    outside.write_text("---\ntitle: Geheim\ndate: 2025-11-18\n---\n\nNiet publiceren.\n", "utf-8")
    (empty_project / "articles" / "2025-11-18-geheim.md").symlink_to(outside)
    result = build(run_cli, empty_project)
    assert result.exit_code == 1
    assert re.search(
        r"articles/2025-11-18-geheim\.md: is a symlink that leads outside the project",
        result.output,
    )
    assert not (empty_project.parent / "out" / "feed.json").exists()
    check = run_cli("check", "-p", empty_project, "--now", NOW)
    assert check.exit_code == 1 and "leads outside the project" in check.output


KINDS = st.sampled_from(["file", "folder", "fifo", "loop", "dangling", "article"])
NAMES = st.one_of(
    st.binary(min_size=1, max_size=40),
    st.text(min_size=1, max_size=40).map(os.fsencode),
    st.tuples(
        st.text(max_size=20), st.sampled_from([".md", ".MD", ".markdown", ".md ", ".md\n", ".txt"])
    ).map(lambda pair: os.fsencode(pair[0] + pair[1])),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(entries=st.lists(st.tuples(KINDS, NAMES), max_size=5))
def test_any_folder_content_builds_or_fails_cleanly(
    entries: list[tuple[str, bytes]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    import shutil

    from click.testing import CliRunner

    from conftest import REPO
    from nieuwsbrief.cli import cli

    root = tmp_path_factory.mktemp("names")
    project = root / "project"
    articles = project / "articles"
    articles.mkdir(parents=True)
    shutil.copy2(REPO / "schedule.yaml", project / "schedule.yaml")
    shutil.copytree(REPO / "templates", project / "templates")
    for kind, raw in entries:
        name = raw.replace(b"/", b"_").replace(b"\0", b"_")
        if name in (b".", b"..") or (articles / os.fsdecode(name)).is_symlink():
            continue
        try:
            if not (articles / os.fsdecode(name)).exists():
                make_entry(articles, kind, name)
        except OSError:
            continue  # a name this file system refuses (too long, ...)
    for command in (
        ["build", "-p", str(project), "-o", str(root / "out"), "--now", NOW],
        ["check", "-p", str(project), "--now", NOW],
    ):
        with finishes(f"{command[0]} beside generated entries in articles/"):
            result = CliRunner().invoke(cli, command)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        assert result.exit_code in (0, 1), result.output
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", result.output), result.output
        assert "Traceback" not in result.output
    leftovers = (
        [p.name for p in (project / CACHE_DIR).iterdir()] if (project / CACHE_DIR).exists() else []
    )
    assert set(leftovers) <= set(CACHE_FILES)


def test_the_hang_guard_interrupts_a_blocking_open(tmp_path: Path) -> None:
    """The guard the tests above rely on can fail: it stops an open() that would block forever."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    hang = pytest.raises(NeverFinished, match="opening a FIFO without a writer")
    with hang, finishes("opening a FIFO without a writer", seconds=0.2):
        fifo.read_bytes()
