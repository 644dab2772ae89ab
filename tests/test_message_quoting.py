"""One quoting function for every user value in a message; nothing invisible reaches a reader.

``errors.quote`` shows a value short, with every character a reader cannot see written as
an escape (``\\u200b``, ``\\x1b``), so a tag that looks like "slaap" but is "sla\\u200bap"
shows what it holds. Python's repr is not enough: it leaves Hangul fillers and variation
selectors as they are and has no length limit.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, RunCli, finishes, write_article
from inert import build_and_check, fresh_project
from nieuwsbrief.errors import escape_controls, quote

# Categories no reader can see (or tell from a space): controls, format characters,
# surrogates, private use, unassigned, line and paragraph separators, non-ASCII spaces.
HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"}
# Letters, marks and symbols that draw nothing: Hangul fillers, braille blank, variation
# selectors, combining grapheme joiner, Khmer inherent vowels, Mongolian selectors.
BLANK_LETTERS = {
    "\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u034f", "\u17b4", "\u17b5",
    "\u180b", "\u180c", "\u180d", "\u180f", "\ufe00", "\ufe0f", "\U000e0100", "\U000e01ef",
}  # fmt: skip
INVISIBLE = [
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u200f", "\u061c",
    "\u202e", "\u2066", "\u180e", "\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\ufe0f",
    "\U000e0001", "\U000e0041", "\U000e007f", "\U000e0100", "\u2028", "\u2029", "\x85",
    "\x9b", "\x1b", "\x00", "\u00a0", "\u3000", "\u034f", "\ue000", "\U000f0000",
]  # fmt: skip


def hidden(char: str) -> bool:
    """What a reader cannot see, decided by the categories (not by the code under test)."""
    category = unicodedata.category(char)
    return (category in HIDDEN_CATEGORIES and char != " ") or char in BLANK_LETTERS


# Any code point, surrogates included, mixed with the invisible ones and the characters
# that quoting itself uses (quote, backslash, ellipsis).
ANY_CHAR = st.one_of(
    st.characters(exclude_categories=()),
    st.sampled_from(INVISIBLE),
    st.sampled_from(["'", "\\", "…", "x", "u", "2", "0", "b", "e\u0301", "é", "\\x1b", "\\u200b"]),
)


def texts(
    pieces: st.SearchStrategy[str], min_size: int = 0, max_size: int = 80
) -> st.SearchStrategy[str]:
    """Text made of ``pieces`` (a piece may be two code points, such as "e" + U+0301)."""
    return st.lists(pieces, min_size=min_size, max_size=max_size).map("".join)


VALUES = texts(ANY_CHAR) | texts(ANY_CHAR, min_size=1000, max_size=3000)


@settings(max_examples=500, deadline=None)
@given(value=VALUES, limit=st.integers(min_value=1, max_value=200))
def test_a_quoted_value_is_plain_printable_and_short(value: str, limit: int) -> None:
    quoted = quote(value, limit)
    assert not [char for char in quoted if hidden(char)], ascii(quoted)
    assert quoted.startswith("'") and quoted.endswith("'")
    assert len(quoted) <= limit + 3, (len(quoted), limit)  # two quotes and "…"
    assert escape_controls(quoted) == quoted, "a message around it has nothing left to escape"


@settings(max_examples=500, deadline=None)
@given(one=texts(ANY_CHAR, max_size=15), other=texts(ANY_CHAR, max_size=15))
def test_two_values_that_fit_never_quote_the_same(one: str, other: str) -> None:
    # Every escape is at most 10 characters, so 15 pieces (30 characters) fit in 300.
    if one != other:
        assert quote(one, 300) != quote(other, 300), (ascii(one), ascii(other))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("slaap", "sla\u200bap"),
        ("zelfmoord", "zelf\u00admoord"),
        ("café", "cafe\u0301"),
        ("sla\\u200bap", "sla\u200bap"),
        ("\\x1b[2J", "\x1b[2J"),
        ("\udcff", "\xff"),
        ("\udc85", "\x85"),
        ("a'", "a\\'"),
        ("\U000e0041", "\\U000e0041"),
    ],
)
def test_values_that_look_alike_quote_differently(one: str, other: str) -> None:
    assert quote(one) != quote(other)
    assert quote(one).isascii() or quote(other).isascii()


def test_a_value_is_shown_with_its_escapes() -> None:
    assert quote("sla\u200bap") == "'sla\\u200bap'"
    assert quote("zelf\u00admoord") == "'zelf\\u00admoord'"
    assert quote("\u3164") == "'\\u3164'"
    assert quote("x\U000e0041") == "'x\\U000e0041'"
    assert quote("\x1b[2J") == "'\\x1b[2J'"
    assert quote("\udcff-kapot.md") == "'\\xff-kapot.md'"  # a byte that is not UTF-8
    assert quote("it's a\\b") == "'it\\'s a\\\\b'"
    assert quote("café") == "'café'" and quote("cafe\u0301") == "'cafe\\u0301'"


def test_a_long_value_is_cut_where_its_escapes_pass_the_limit() -> None:
    assert quote("x" * 61) == "'" + "x" * 60 + "…'"
    assert quote("x" * 60) == "'" + "x" * 60 + "'"
    assert quote("\u200b" * 20) == "'" + "\\u200b" * 10 + "…'"


# Characters an editor can type or paste into a tag, slug, title or file name.
NAME_CHARS = st.sampled_from([*INVISIBLE, "a", "b", "s", "l", "-", " ", "e\u0301", "ë"])


def article_name(stem: str) -> str:
    # '/' and NUL cannot be in a file name; the name must stay short enough to be shown whole.
    return "2025-11-20-sla" + stem.replace("\x00", "").replace("/", "") + "ap.md"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stem=texts(NAME_CHARS, max_size=6),
    title=texts(NAME_CHARS, min_size=1, max_size=10),
    tag=texts(NAME_CHARS, min_size=1, max_size=8),
    slug=st.none() | texts(NAME_CHARS, min_size=1, max_size=8),
)
def test_no_invisible_character_reaches_what_check_and_build_print(
    stem: str, title: str, tag: str, slug: str | None
) -> None:
    """An article whose names carry invisible characters: every line of 'check' and 'build'
    is plain printable text, and every error line names the file and the field."""
    name = article_name(stem)
    shown = escape_controls(name)
    with tempfile.TemporaryDirectory() as folder:
        project = fresh_project(Path(folder))
        front: dict[str, object] = {"title": "Sla" + title, "tags": ["slaap", tag]}
        if slug is not None:
            front["slug"] = slug
        write_article(project, name, **front)
        built, checked = build_and_check(project, Path(folder) / "out")
    for result in (built, checked):
        assert "Traceback" not in result.output
        assert result.exit_code in (0, 1), (result.exit_code, result.output)
        for line in result.output.split("\n"):
            assert not [char for char in line if hidden(char)], ascii(line)
    error_lines = [line for line in checked.output.splitlines() if line.startswith("error: ")]
    if built.exit_code == 1:
        assert error_lines, ("build refused what check passed", built.output)
        built_lines = [
            line
            for line in built.output.splitlines()
            if line.strip() and not line.startswith("warning: ") and not line.startswith("Error:")
        ]
        error_lines += built_lines
    for line in error_lines:
        assert shown in line and "field '" in line, (ascii(shown), line)


def test_a_tag_with_a_zero_width_space_is_shown_as_one(project: Path, run_cli: RunCli) -> None:
    write_article(project, "2025-11-20-slaap.md", title="Slaap", tags=["slaap"])
    write_article(project, "2025-11-21-slapen.md", title="Slapen", tags=["sla\u200bap"])
    result = run_cli("check", "-p", project, "--now", NOW)
    assert "\u200b" not in result.output
    assert "'sla\\u200bap'" in result.output, result.output


def test_a_file_name_in_nfd_is_told_apart_from_its_nfc_twin(project: Path, run_cli: RunCli) -> None:
    write_article(project, "2025-11-20-café.md", title="Café")
    write_article(project, "2025-11-20-cafe\u0301.md", title="Café")
    result = run_cli("check", "-p", project, "--now", NOW)
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if "is already used by" in line)
    assert "cafe\\u0301.md" in line and "café.md" in line, line


# The two message bugs an outside probe found.


def built_digest(project: Path, out: Path, run_cli: RunCli) -> Path:
    result = run_cli("build", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 0, result.output
    (eml,) = sorted((out / "digests").glob("*/digest.eml"))
    return eml


@pytest.mark.parametrize("kind", ["fifo", "folder", "symlink"])
def test_send_names_a_digest_eml_that_is_not_a_regular_file(
    kind: str, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "out"
    eml = built_digest(project, out, run_cli)
    elsewhere = tmp_path / "elders.eml"
    elsewhere.write_bytes(eml.read_bytes())
    eml.unlink()
    {"fifo": os.mkfifo, "folder": os.mkdir, "symlink": lambda p: p.symlink_to(elsewhere)}[kind](eml)
    with finishes("nieuwsbrief send with a special digest.eml"):
        result = run_cli("send", "--to", "a@b.nl", "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 1, result.output
    assert "is not a regular file" in result.output, result.output
    assert "does not exist" not in result.output
    assert str(eml) in result.output and len(result.output.strip().splitlines()) == 1


def test_new_shows_a_date_before_1970_with_four_digits(project: Path, run_cli: RunCli) -> None:
    result = run_cli("new", "Oud", "-p", project, "--date", "0001-01-01")
    assert result.exit_code == 2
    assert "'0001-01-01' is outside the years 1970 to 9000" in result.output, result.output
    assert "--date" in result.output
    # 'check' refuses the same year in an article, in the same words.
    write_article(project, "2025-11-20-oud.md", title="Oud", date="0001-01-01")
    checked = run_cli("check", "-p", project, "--now", NOW)
    assert "'0001-01-01' is outside the years 1970 to 9000" in checked.output, checked.output
