"""The README stays true: its command reference is the CLI's own --help, for every command.

Regenerate the reference after changing a command's options or help text:

    NIEUWSBRIEF_REGENERATE_README=1 .venv/bin/python -m pytest tests/test_readme.py
"""

from __future__ import annotations

import os
import re

import click
from click.testing import CliRunner

from conftest import REPO
from nieuwsbrief.cli import cli

START = "<!-- commands:start -->"
END = "<!-- commands:end -->"


def command_reference() -> str:
    """Return the Markdown reference: one heading and --help block per command."""
    runner = CliRunner()
    blocks = []
    names = [[], *[[name] for name in sorted(cli.commands)]]
    for args in names:
        result = runner.invoke(cli, [*args, "--help"], prog_name="nieuwsbrief", terminal_width=100)
        assert result.exit_code == 0
        title = "nieuwsbrief " + " ".join(args) if args else "nieuwsbrief"
        blocks.append(f"### `{title.strip()}`\n\n```\n{result.output.rstrip()}\n```\n")
    return "\n".join(blocks)


def readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_command_reference_matches_help() -> None:
    text = readme()
    expected = f"{START}\n{command_reference()}{END}"
    if os.environ.get("NIEUWSBRIEF_REGENERATE_README"):
        text = re.sub(
            re.escape(START) + ".*?" + re.escape(END), lambda _: expected, text, flags=re.S
        )
        (REPO / "README.md").write_text(text, encoding="utf-8")
    assert START in text and END in text
    current = text[text.index(START) : text.index(END) + len(END)]
    assert current == expected, "README command reference is stale; see this file's docstring"


def test_every_command_is_documented_with_an_example() -> None:
    text = readme()
    for name, command in cli.commands.items():
        assert f"### `nieuwsbrief {name}`" in text, name
        assert isinstance(command, click.Command)
        assert "Example:" in (command.help or ""), f"{name} --help has no example"


def test_quick_start_has_exactly_two_commands() -> None:
    text = readme()
    quick_start = text[
        text.index("## Quick start") : text.index("\n## ", text.index("## Quick start") + 5)
    ]
    commands = re.findall(r"```sh\n(.*?)\n```", quick_start, flags=re.S)
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    assert "nieuwsbrief build" in commands[0]
    assert "pytest" in commands[1]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "quickstart-test" in ci
