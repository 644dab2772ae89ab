"""The README and docs/ stay true: the command reference is the CLI's own --help, for every
command; the README's first screen shows the weekly routine; every relative link resolves.

Regenerate the reference in docs/cli.md after changing a command's options or help text:

    NIEUWSBRIEF_REGENERATE_README=1 .venv/bin/python -m pytest tests/test_readme.py
"""

from __future__ import annotations

import os
import re

import click
import pytest
from click.testing import CliRunner

from conftest import REPO
from nieuwsbrief.cli import cli

START = "<!-- commands:start -->"
END = "<!-- commands:end -->"
REFERENCE = REPO / "docs" / "cli.md"
# Pages that other work on the project adds; a link to them is checked once they exist.
PENDING_PAGES = {"docs/publishing.md"}


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


def test_command_reference_matches_help() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    expected = f"{START}\n{command_reference()}{END}"
    if os.environ.get("NIEUWSBRIEF_REGENERATE_README"):
        text = re.sub(
            re.escape(START) + ".*?" + re.escape(END), lambda _: expected, text, flags=re.S
        )
        REFERENCE.write_text(text, encoding="utf-8")
        # Regenerating writes and stops: comparing with what was just written proves nothing.
        pytest.skip(f"regenerated {REFERENCE.name}; review it with git diff")
    assert START in text and END in text
    current = text[text.index(START) : text.index(END) + len(END)]
    assert current == expected, "docs/cli.md is stale; see this file's docstring"


def test_every_command_is_documented_with_an_example() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    for name, command in cli.commands.items():
        assert f"### `nieuwsbrief {name}`" in text, name
        assert isinstance(command, click.Command)
        assert "Example:" in (command.help or ""), f"{name} --help has no example"
        assert f"nieuwsbrief {name}" in readme(), f"the README never mentions {name}"


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


def test_first_screen_shows_the_weekly_routine() -> None:
    """What it does and the week's steps, in order, within the first 40 lines."""
    first_screen = "\n".join(readme().splitlines()[:40])
    steps = [
        "nieuwsbrief new",
        "nieuwsbrief check",
        "nieuwsbrief preview",
        "nieuwsbrief build",
        "docs/publishing.md",
        "docs/mail-services.md",
    ]
    positions = [first_screen.find(step) for step in steps]
    assert -1 not in positions, dict(zip(steps, positions, strict=True))
    assert positions == sorted(positions), "the routine's steps are out of order"
    # The reference is generated into docs/cli.md, not copied into the README.
    assert START not in readme() and "Usage: nieuwsbrief" not in readme()


def test_every_relative_link_resolves() -> None:
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    checked = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)|src=\"([^\"]+)\"", text):
            link = next(part for part in target if part)
            if re.match(r"[a-z]+:", link) or link.startswith("#"):
                continue
            path = (page.parent / link.split("#")[0]).resolve()
            name = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else link
            if name in PENDING_PAGES and not path.exists():
                continue
            assert path.exists(), f"{page.relative_to(REPO)} links to missing {link}"
            checked += 1
    assert checked >= 10
