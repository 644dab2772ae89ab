"""Library errors speak of arguments by their library names; only the CLI names options."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest

from conftest import NOW_DT, REPO, RunCli
from nieuwsbrief.build import digest_window
from nieuwsbrief.cli import OPTION_OF_ARGUMENT, _library_errors
from nieuwsbrief.config import load_settings
from nieuwsbrief.errors import ArgumentError
from nieuwsbrief.send import send_test

PACKAGE = REPO / "src" / "nieuwsbrief"
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]+")

# Option names still written in library text, each with the reason it is still there.
KNOWN_OPTION_TEXT = {
    # init's questions are its options: a refused answer names the option it came from.
    ("scaffold.py", "--name"),
    ("scaffold.py", "--website"),
    ("scaffold.py", "--email"),
    ("scaffold.py", "--phone"),
    ("scaffold.py", "--address-form"),
}


def option_texts(path: Path) -> set[str]:
    """Return the option names in the string literals of ``path`` (docstrings left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            found.update(OPTION.findall(node.value))
    return found


def test_library_text_names_no_options() -> None:
    found = {
        (path.name, option)
        for path in sorted(PACKAGE.glob("*.py"))
        if path.name not in ("cli.py", "__main__.py")
        for option in option_texts(path)
    }
    assert len(list(PACKAGE.glob("*.py"))) > 20
    assert found - KNOWN_OPTION_TEXT == set(), "library text names CLI options"
    stale = KNOWN_OPTION_TEXT - found
    assert not stale, f"no longer in the library text, remove from KNOWN_OPTION_TEXT: {stale}"


def test_the_option_finder_sees_f_strings_and_skips_docstrings(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        '"""Pass --project."""\n'
        "def f(x):\n"
        '    """Read --out."""\n'
        '    raise ValueError(f"--digest-week: {x} is bad; see --to")\n'
        'Y = "front matter starts with ---, not a-b--c"\n',
        encoding="utf-8",
    )
    assert option_texts(module) == {"--digest-week", "--to"}


def test_a_week_the_library_refuses_is_named_digest_week() -> None:
    settings = load_settings(REPO / "schedule.yaml")
    with pytest.raises(ArgumentError) as caught:
        digest_window(settings, NOW_DT, "2025-W54")
    assert caught.value.argument == "digest_week"
    assert str(caught.value).startswith("digest_week: '2025-W54' does not exist")
    assert "--" not in str(caught.value)


def test_an_address_the_library_refuses_is_named_to(tmp_path: Path) -> None:
    settings = load_settings(REPO / "schedule.yaml")
    eml = tmp_path / "digest.eml"
    eml.write_bytes(b"From: a@example.nl\r\nTo: b@example.nl\r\nSubject: x\r\n\r\nbody\r\n")
    with pytest.raises(ArgumentError) as caught:
        send_test(eml, "not an address", settings.smtp)
    assert caught.value.argument == "to"
    assert "--" not in str(caught.value)


@pytest.mark.parametrize(("argument", "option"), sorted(OPTION_OF_ARGUMENT.items()))
def test_the_cli_maps_an_argument_to_its_option(argument: str, option: str) -> None:
    with pytest.raises(click.BadParameter) as caught, _library_errors():
        raise ArgumentError(argument, "is \x1b[31mbad")
    caught.value.ctx = None
    shown = caught.value.format_message()
    assert option in shown and "is \\x1b[31mbad" in shown and "\x1b" not in shown
    assert caught.value.exit_code == 2


def test_a_library_refusal_of_the_week_exits_2_naming_the_option(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run_cli: RunCli
) -> None:
    """A week the CLI's own check lets through but the library refuses: still --digest-week."""
    import nieuwsbrief.cli

    monkeypatch.setattr(nieuwsbrief.cli, "_iso_week", lambda value: value)
    result = run_cli(
        "build", "-p", REPO, "-o", tmp_path / "out", "--now", NOW_DT.isoformat(),
        "--digest-week", "2025-W54",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--digest-week': '2025-W54' does not exist" in result.output
    assert not (tmp_path / "out").exists()
