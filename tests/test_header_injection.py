"""Settings that reach a mail header appear in the .eml exactly as written, or are refused.

Finding 1 of the black-box probe: '=?utf-8?q?Nieuws=0D=0ABcc:_evil@x.nl?=' passed the
one-line check, and the mail reader (Python's email package, and every mail client) decoded
the encoded word into a line break and a header of its own. Two walls: the settings refuse
'=?' and direction controls in every one-line text (config.header_text_problem), and the MIME
writer parses what it wrote and refuses a header that reads otherwise than it was given.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, copy_example_project
from inert import assert_clean_message
from nieuwsbrief.cli import cli
from nieuwsbrief.config import Person
from nieuwsbrief.errors import BuildError
from nieuwsbrief.mail import Envelope, build_message

# Every one-line setting that reaches a header: Subject (subject, and site.title through
# {site}), List-Id (site.title), From (digest.from.name, or site.author.name without it).
HEADER_KEYS = [
    ("digest", "subject"),
    ("site", "title"),
    ("digest", "from", "name"),
    ("site", "author", "name"),
]


def _set(project: Path, path: tuple[str, ...], value: Any) -> None:
    file = project / "schedule.yaml"
    data = yaml.safe_load(file.read_text("utf-8"))
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    if path[:2] == ("site", "author"):
        data["digest"].pop("from", None)  # From falls back to the author
    file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


def _run(*args: str | Path) -> Any:
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


HEADER_NAMES = st.sampled_from(["Bcc", "Cc", "To", "X-Evil", "Subject", "Content-Type"])
BREAKS = st.sampled_from(["=0D=0A", "=0A", "=0D", "_=0D=0A_", "=0d=0a"])


@st.composite
def encoded_words(draw: st.DrawFn) -> str:
    """An RFC 2047 encoded word (q or b) that decodes to a line break and a header."""
    import base64

    name, text = draw(HEADER_NAMES), draw(st.sampled_from(["evil@x.nl", "1", "ja"]))
    charset = draw(st.sampled_from(["utf-8", "UTF-8", "iso-8859-1", "us-ascii"]))
    if draw(st.booleans()):
        word = f"=?{charset}?{draw(st.sampled_from('qQ'))}?Nieuws{draw(BREAKS)}{name}:_{text}?="
    else:
        payload = base64.b64encode(f"Nieuws\r\n{name}: {text}".encode()).decode()
        word = f"=?{charset}?{draw(st.sampled_from('bB'))}?{payload}?="
    before = draw(st.sampled_from(["", "Praktijk ", "x"]))
    return before + word


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(HEADER_KEYS), value=encoded_words())
def test_an_encoded_word_in_a_header_setting_is_refused_naming_the_key(
    key: tuple[str, ...], value: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = copy_example_project(Path(folder) / "project")
        _set(project, key, value)
        out = Path(folder) / "out"
        for result in (
            _run("check", "-p", project, "--now", NOW),
            _run("build", "-p", project, "-o", out, "--now", NOW),
        ):
            assert result.exit_code == 1, result.output
            lines = [line for line in result.output.splitlines() if line.strip()]
            problem = [line for line in lines if "=?" in line and "encoded word" in line]
            assert len(problem) == 1, result.output
            assert ".".join(key) in problem[0] or key[-1] in problem[0], problem[0]
        assert not out.exists()


# Text as editors write it in a title or name: letters of any script, digits, punctuation.
PLAIN = st.text(
    st.characters(
        categories=("L", "N", "P", "Zs", "S"),
        exclude_characters="\u2028\u2029\u00a0",
    ),
    min_size=1,
    max_size=40,
).filter(lambda text: text.strip() and "=?" not in text and "{" not in text and "}" not in text)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(title=PLAIN, sender=PLAIN)
def test_every_header_of_the_eml_reads_as_the_settings_say(title: str, sender: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = copy_example_project(Path(folder) / "project")
        _set(project, ("site", "title"), title)
        _set(project, ("digest", "from", "name"), sender)
        out = Path(folder) / "out"
        built = _run("build", "-p", project, "-o", out, "--now", NOW)
        if built.exit_code != 0:  # a value the settings refuse, with a clean line
            assert built.output.count("\n") <= 2 and "schedule.yaml" in built.output, built.output
            return
        [eml] = sorted(out.glob("digests/*/digest.eml"))
        data = eml.read_bytes()
        assert_clean_message(data)
        message = email.message_from_bytes(data, policy=email.policy.default)
        expected = f"{title.strip()}: nieuwsbrief week 48"  # the example's digest.subject
        assert str(message["Subject"]).split() == expected.split()
        [address] = message["From"].addresses
        # A long non-ASCII name is folded into two encoded words; RFC 2047 (6.2) ignores the
        # white space between them, but Python's parser keeps one in a display name, so
        # white space is not compared here (the Subject above, unstructured, reads exactly).
        assert "".join(address.display_name.split()) == "".join(sender.split())
        assert address.addr_spec == "nieuwsbrief@praktijkdelinde.nl"
        assert str(message["List-Id"]).endswith("<nieuwsbrief.www.praktijkdelinde.nl>")


@pytest.mark.parametrize(
    ("title", "subject"),
    [
        ("Zon=", "{site}?utf-8?q?x=0D=0ABcc:_evil@x.nl?="),  # '=?' only once put together
        ("Zon", "{site}=?utf-8?q?x=0D=0ABcc:_evil@x.nl?="),
    ],
)
def test_a_subject_that_becomes_an_encoded_word_only_when_filled_in_is_refused(
    title: str, subject: str, tmp_path: Path
) -> None:
    project = copy_example_project(tmp_path / "project")
    _set(project, ("site", "title"), title)
    _set(project, ("digest", "subject"), subject)
    out = tmp_path / "out"
    built = _run("build", "-p", project, "-o", out, "--now", NOW)
    checked = _run("check", "-p", project, "--now", NOW)
    for result in (built, checked):
        assert result.exit_code == 1, result.output
        assert "Bcc" not in result.output and ("=?" in result.output)
    assert not out.exists()


@pytest.mark.parametrize(
    "field",
    ["subject", "sender", "to", "extra"],
)
@pytest.mark.parametrize(
    "word",
    ["=?utf-8?q?a=0D=0ABcc:_x@y.nl?=", "=?utf-8?b?YQ0KQmNjOiB4QHkubmw=?=", "=?us-ascii?q?b?="],
)
def test_the_mime_writer_never_writes_a_header_that_reads_otherwise(field: str, word: str) -> None:
    """The second wall, whatever the settings let through: the writer parses what it wrote."""
    sender, to = Person("Praktijk", "info@x.nl"), Person("Praktijk", "info@x.nl")
    subject, extra = "Nieuws", {"List-Id": "Zon <nieuwsbrief.x.nl>"}
    if field == "subject":
        subject = f"Nieuws {word}"
    elif field == "sender":
        sender = Person(f"P {word}", "info@x.nl")
    elif field == "to":
        to = Person(word, "info@x.nl")
    else:
        extra = {"List-Id": f"{word} <nieuwsbrief.x.nl>"}
    envelope = Envelope(sender, to, None, subject, dt.datetime(2025, 11, 24, tzinfo=dt.UTC),
                        "<a@x.nl>", extra)  # fmt: skip
    with pytest.raises(BuildError, match="would not read as written"):
        build_message(envelope, "tekst\n", "<p>html</p>\n")
