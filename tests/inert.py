"""The one property every hostile-input test asserts about a run of the CLI.

Either the run succeeds and what it wrote is inert (feeds parse, no ``javascript:``, no raw
control characters, the ``.eml`` parses with only the headers we write, each on one line),
or it fails with exit code 1 and one clean line per problem naming the file at fault. Never
a traceback, never another exception, never a hang (``conftest.finishes``).
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import feedparser
from click.testing import CliRunner, Result
from hypothesis import strategies as st

from conftest import REPO, finishes
from nieuwsbrief.cli import cli

NOW = "2025-11-24T09:00:00+01:00"
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
EML_HEADERS = {
    "from",
    "to",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "mime-version",
    "content-type",
}


def fresh_project(root: Path) -> Path:
    """Copy the example project (settings, articles, templates) into ``root/project``."""
    project = root / "project"
    project.mkdir(parents=True)
    shutil.copy2(REPO / "schedule.yaml", project / "schedule.yaml")
    shutil.copytree(REPO / "articles", project / "articles")
    shutil.copytree(REPO / "templates", project / "templates")
    return project


def run(*args: str | Path) -> Result:
    """Run the CLI in-process; a run that hangs fails the test instead of stopping pytest."""
    with finishes(f"nieuwsbrief {args[0]}"):
        return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=True)


def assert_clean_failure(result: Result, names: Callable[[str], bool]) -> None:
    """Exit 1, no traceback, one line per problem, each naming the file at fault."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    output = result.output
    assert "Traceback" not in output
    assert not RAW_CONTROL.search(output), repr(output[:300])
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines
    for line in lines:
        assert len(line) < 1200, line[:200]
        # Summary lines: a count of the problems, and check's count of what it left out.
        summary = r"(Error: )?\d+ articles? (is|are) invalid:$|\d+ errors?, \d+ warnings?$"
        if re.match(summary + r"|warning: |Left out: \d+ drafts?", line):
            continue
        assert names(line), line


def assert_inert(out: Path) -> None:
    """Assert that what a successful build wrote is safe to publish and to send."""
    for name in ("feed.xml", "atom.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert not parsed.bozo, (name, parsed.get("bozo_exception"))
    json.loads((out / "feed.json").read_bytes())
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        text = data.decode("utf-8").replace("\r\n", "\n")
        # A plain-text file has no links to follow: '<a href=...>' in it is shown as text.
        for url in [] if path.suffix == ".txt" else link_targets(text):
            assert not re.match(r"\s*(javascript|vbscript|data):", url, re.I), (path, url)
        assert not XML_ILLEGAL.search(text), (path, XML_ILLEGAL.findall(text)[:3])
        if path.suffix == ".eml":
            assert_clean_message(data)


_LINKS = (
    re.compile(r"""(?:href|src|action)\s*=\s*["']?([^"'\s>]*)""", re.I),
    re.compile(r"<(?:link|guid|id|url|uri|icon|logo)>([^<]*)<", re.I),
    re.compile(r'"(?:url|external_url|home_page_url|feed_url|image|banner_image|icon)":\s*"([^"]*)"'),
)


def link_targets(text: str) -> list[str]:
    """Return every value of a file that a reader or client follows as a link.

    Text may say anything (a title reading "javascript:" is just text); a link may not.
    """
    import html

    return [html.unescape(url) for pattern in _LINKS for url in pattern.findall(text)]


def assert_clean_message(data: bytes) -> None:
    """Parse an .eml: no defects, only our headers, each once, none with a line break."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert not message.defects, message.defects
    names = [name.lower() for name in message]
    assert set(names) <= EML_HEADERS, names
    assert len(names) == len(set(names)), names
    for name in message:
        value = str(message[name])
        assert not RAW_CONTROL.search(value), (name, value)
    assert message.get_content_type() == "multipart/alternative"
    unsubscribe = message.get("List-Unsubscribe")
    if unsubscribe is not None:
        targets = re.findall(r"<([^<>]*)>", str(unsubscribe))
        assert 1 <= len(targets) <= 2 and str(unsubscribe).count("<") == len(targets)
        assert all(t.startswith(("https://", "mailto:")) for t in targets), targets


def build_and_check(project: Path, out: Path) -> tuple[Result, Result]:
    """Build and check the project at the same moment; neither may hang."""
    built = run("build", "-p", project, "-o", out, "--now", NOW, "--no-cache")
    checked = run("check", "-p", project, "--now", NOW)
    assert checked.exception is None or isinstance(checked.exception, SystemExit), repr(
        checked.exception
    )
    assert "Traceback" not in checked.output
    assert not RAW_CONTROL.search(checked.output), repr(checked.output[:300])
    return built, checked


# Raw YAML an editor (or an attacker) might type after 'key: '.
YAML_SNIPPETS = [
    "&a x",
    "*a",
    '!!int "abc"',
    '!!timestamp "gisteren"',
    '!!bool "misschien"',
    "!!python/object/apply:os.system [ls]",
    "<<: {a: 1}",
    "{",
    "[1, 2",
    "'onafgesloten",
    "\t08:00",
    "|\n  twee\n  regels\n",
    ">\n  gevouwen tekst\n",
    "~",
    "null",
    "true",
    "yes",
    "0x1F",
    "9:30",
    "08:00",
    "3.10",
    "1e400",
    ".nan",
    "9" * 400,
    "-1",
    "0",
    "65536",
    "- a\n- b",
    "{a: {b: {c: 1}}}",
    "[" * 30 + "1" + "]" * 30,
    "https://www.example.nl/a b",
    "https://www.example.nl/>, <mailto:x@evil.example>",
    "https://münchen.example/pad/é?q=1,2#frag",
    "mailto:x@y.nl",
    "javascript:alert(1)",
    "localhost",
    "127.0.0.1",
    "::1",
    "none",
    "ssl",
    "Europe/Amsterdam",
    "../../etc/passwd",
    "{site:>300000000}",
    "{site:d}",
    "{site!r}",
    "{site.__class__}",
    "{}",
    "{{ site }}",
    "a@b",
    "a@münchen.de",
    "a@b.nl, c@d.nl",
    '"x\\r\\nBcc: lijst@evil.example"',
    '"\\e]0;0 error(s)\\a\\e[2J"',
    '"x\\u2028y"',
    '"\\x85"',
]
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)
RAW_VALUES = st.one_of(
    st.sampled_from(YAML_SNIPPETS),
    ANY_TEXT.map(lambda text: json.dumps(text, ensure_ascii=False)),
    JSON_VALUES.map(lambda value: json.dumps(value, ensure_ascii=False)),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30).filter(
        lambda text: "\n" not in text and "\r" not in text
    ),
)
