"""Messages are output too: short quotes, control characters escaped, one line per problem.

The escaping happens in one place (``errors.quote`` and ``InputError``), and the CLI escapes
whatever it prints of a library message or warning as a last line of defence.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import NOW, RunCli, set_setting, write_article
from nieuwsbrief.config import did_you_mean
from nieuwsbrief.errors import (
    ConfigError,
    InvalidSettings,
    NieuwsbriefError,
    escape_controls,
    quote,
)

TERMINAL_TRICKS = [
    "\x1b]0;0 error(s)\x07",
    "\x1b[2J",
    "\x9b2J",
    "a\rb",
    "\u202egnp.exe",
    "x\u2028y",
]
RAW = set("\x1b\x07\x9b\r\u202e\u2028")


@pytest.mark.parametrize("trick", TERMINAL_TRICKS)
def test_quote_escapes_every_control_character(trick: str) -> None:
    quoted = quote(trick)
    assert not RAW & set(quoted)
    assert quoted.startswith("'") and quoted.endswith("'")


def test_quote_is_short() -> None:
    secret = "s" * 59 + "-GEHEIM-" + "t" * 1000
    quoted = quote(secret)
    assert "GEHEIM" not in quoted and quoted.endswith("…'") and len(quoted) <= 63


@settings(max_examples=200, deadline=None)
@given(text=st.text(st.characters(exclude_categories=("Cs",)), max_size=200))
def test_an_input_error_is_one_escaped_bounded_line(text: str) -> None:
    error = ConfigError(Path("p") / text, text, field=text, fix=text)
    message = str(error)
    assert "\n" not in message and "\r" not in message
    assert escape_controls(message) == message, "nothing left to escape"
    assert len(message) < 2 * 400 + 3 * 60 + len(escape_controls(str(Path("p") / text))) + 60


def test_several_settings_problems_are_one_line_each() -> None:
    errors = [ConfigError("s.yaml", f"probleem\n{n}", field=f"veld{n}") for n in range(3)]
    lines = str(InvalidSettings(errors)).split("\n")
    assert len(lines) == 3 and all(line.startswith("s.yaml: field 'veld") for line in lines)


def test_did_you_mean() -> None:
    assert did_you_mean("titel", ["title", "tags", "date"]) == "did you mean 'title'?"
    assert did_you_mean("mandag", ["monday", "maandag"]) == "did you mean 'maandag'?"
    assert did_you_mean("xyz", ["title"]) is None


def test_the_cli_escapes_a_library_message_as_a_last_line_of_defence(
    project: Path, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nieuwsbrief.build

    def hostile(*args: object, **kwargs: object) -> None:
        raise NieuwsbriefError("kapot\x1b[2J\x1b]0;0 error(s)\x07\nregel twee\u2028")

    monkeypatch.setattr(nieuwsbrief.build, "build", hostile)
    result = run_cli("build", "-p", project, "-o", tmp_path / "out", "--now", NOW)
    assert result.exit_code == 1
    assert not RAW & set(result.output)
    assert "\\x1b[2J" in result.output and "\\u2028" in result.output
    assert result.output.count("\n") == 2  # its two lines, each ended


def test_a_file_name_with_escape_sequences_is_shown_escaped(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    name = "2025-11-20-\x1b[2J\x1b]0;0 error(s)\x07.md"
    (project / "articles" / name).write_text("---\ntitle: [kapot\n---\nTekst\n", "utf-8")
    for args in (("build", "-o", tmp_path / "out"), ("check",)):
        result = run_cli(*args, "-p", project, "--now", NOW)
        # Such a name is not read as an article (docs/content-rules.md): it is named in a
        # warning instead, escaped like every message.
        assert result.exit_code == 0, result.output
        assert not RAW & set(result.output), repr(result.output)
        assert "2025-11-20-\\x1b[2J\\x1b]0;0 error(s)\\x07.md" in result.output


def test_a_key_with_escape_sequences_is_shown_escaped(project: Path, run_cli: RunCli) -> None:
    write_article(project, "2025-11-20-sleutel.md", title="Sleutel", **{"\x1b[2Jtitel": "x"})
    result = run_cli("check", "-p", project, "--now", NOW, "--format", "text")
    assert result.exit_code == 1
    assert "field '\\x1b[2Jtitel'" in result.output and "\x1b" not in result.output


def test_warnings_show_local_times_without_microseconds(
    project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    write_article(project, "2025-12-20-later.md", title="Later", date="2025-12-20T10:00:00.5Z")
    result = run_cli("check", "-p", project, "--now", "2025-11-24T08:00:00.123456Z")
    assert "is in the future (2025-12-20T11:00:00+01:00)" in result.output
    built = run_cli(
        "build", "-p", project, "-o", tmp_path / "out",
        "--now", "2025-11-24T08:00:00.123456Z", "--digest-week", "2025-W49",
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert "after now (2025-11-24T09:00:00+01:00)" in built.output
    assert ".123456" not in built.output + result.output


def test_every_settings_problem_is_reported_at_once(project: Path, run_cli: RunCli) -> None:
    set_setting(project, "feeds", "limit", 0)
    set_setting(project, "digest", "weekday", "mandag")
    set_setting(project, "digest", "subject", "{site:>300000000}")
    set_setting(project, "smtp", "security", "none")
    result = run_cli("check", "-p", project, "--now", NOW)
    assert result.exit_code == 1
    fields = ["feeds.limit", "digest.weekday", "digest.subject", "smtp.security"]
    lines = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(lines) == len(fields)
    for field, line in zip(fields, lines, strict=True):
        assert f"field '{field}'" in line
    assert "maandag" in lines[1] and "monday" in lines[1]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--now", "9999-12-31T23:59:59-12:00"), "outside the years 1970 to 9000"),
        (("--now", "0001-01-01T00:00:00+14:00"), "outside the years 1970 to 9000"),
        (("--now", NOW, "--digest-week", "0001-W01"), "outside the years 1970 to 9000"),
        (("--now", NOW, "--digest-week", "9999-W52"), "outside the years 1970 to 9000"),
        (("--now", "\x1b[2J"), "\\x1b[2J"),
    ],
)
def test_dates_at_the_calendars_edges_are_usage_errors(
    args: tuple[str, ...], fragment: str, project: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    for command in (("build", "-o", tmp_path / "out"), ("check",), ("schedule",)):
        if "--digest-week" in args and command[0] != "build":
            continue
        result = run_cli(*command, "-p", project, *args)
        assert result.exit_code == 2, result.output
        assert fragment in result.output and "Traceback" not in result.output
        assert "\x1b" not in result.output


CLI_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    [
        "9999-12-31T23:59:59-12:00",
        "0001-01-01",
        "2025-11-24T09:00:00.999999+14:00",
        "9000-12-31T23:59:59-14:00",
        "1970-01-01T00:00:00+14:00",
        "2026-03-29T02:30",
        "0001-W01",
        "9000-W52",
        "1970-W01",
        "2026-W53",
    ]
)


@settings(max_examples=120, deadline=None)
@given(now=CLI_TEXT, week=st.none() | CLI_TEXT)
def test_any_now_and_week_on_the_command_line_is_used_or_a_usage_error(
    now: str, week: str | None
) -> None:
    from click.testing import CliRunner

    from conftest import REPO
    from nieuwsbrief.cli import cli

    args = ["schedule", "-p", str(REPO), "--now", now, "--count", "2"]
    result = CliRunner().invoke(cli, args, catch_exceptions=True)
    assert result.exit_code in (0, 2), (result.exit_code, repr(result.exception))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not RAW & set(result.output) and "\x00" not in result.output
    if week is not None and "\x00" not in week:  # argv cannot hold a NUL byte
        sent = CliRunner().invoke(
            cli,
            ["send", "--to", "a@b.nl", "-p", str(REPO), "-o", "/nonexistent", "--now", now,
             "--digest-week", week],
            catch_exceptions=True,
        )  # fmt: skip
        assert sent.exit_code in (1, 2), (sent.exit_code, repr(sent.exception), sent.output)
        assert isinstance(sent.exception, SystemExit), repr(sent.exception)
        assert not RAW & set(sent.output)


@settings(max_examples=300, deadline=None)
@given(address=st.text(st.characters(exclude_categories=("Cs",)), max_size=60))
def test_the_address_validator_returns_plain_ascii_or_refuses(address: str) -> None:
    from nieuwsbrief.config import check_email

    try:
        checked = check_email(address)
    except ValueError as exc:
        assert "\n" not in str(exc) and not RAW & set(str(exc))
        return
    assert checked.isascii() and checked.count("@") == 1
    assert not any(c.isspace() or c in "<>,;\"'()[]\\" or ord(c) < 32 for c in checked)
