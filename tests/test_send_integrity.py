"""``nieuwsbrief send`` mails only the digest.eml a build wrote, unchanged.

Its bytes must carry the SHA-256 that the week's manifest.json lists and that the output
record lists as nieuwsbrief's; a missing manifest or record is a refusal, never "nothing to
check". Each case builds for real, damages the output, and sends to an SMTP server on
loopback that the test starts: a refusal is exit code 1 and one line, and nothing arrives.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from conftest import NOW, RunCli, finishes
from nieuwsbrief.output import RECORD_FILE
from nieuwsbrief.send import MAX_DIGEST_BYTES, REPLY_LIMIT
from test_send import PASSWORD, Inbox, configure, login_server

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

FOLDER = "digests/2025-W48"
EML = f"{FOLDER}/digest.eml"
MANIFEST = f"{FOLDER}/manifest.json"
TO = "redactie@example.nl"


@pytest.fixture
def mailbox(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """An SMTP server on loopback that keeps what arrives; the project sends to it."""
    inbox = Inbox()
    with login_server(inbox) as port:
        configure(project, port)
        monkeypatch.setenv("TEST_SMTP_PASSWORD", PASSWORD)
        yield inbox


@pytest.fixture
def out(project: Path, tmp_path: Path, run_cli: RunCli) -> Path:
    folder = tmp_path / "public"
    result = run_cli("build", "-p", project, "-o", folder, "--now", NOW)
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def send(project: Path, run_cli: RunCli) -> Callable[[Path], Result]:
    def run(out: Path) -> Result:
        with finishes("nieuwsbrief send"):
            return run_cli("send", "--to", TO, "-p", project, "-o", out, "--now", NOW)

    return run


def refused(result: Result, inbox: Inbox, *words: str) -> str:
    """Assert a one-line refusal holding ``words`` with nothing sent; return the line."""
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    for word in words:
        assert word in lines[0], lines[0]
    assert inbox.received == []
    return lines[0]


def as_built(received: bytes, built: bytes) -> bool:
    """Tell whether ``received`` is ``built`` but for the To, Date and Message-ID send sets."""
    expected = built
    for header in (b"To", b"Date", b"Message-ID"):
        [line] = re.findall(rb"^" + header + rb": .*\r\n", built, flags=re.M)
        [new] = re.findall(rb"^" + header + rb": .*\r\n", received, flags=re.M)
        expected = expected.replace(line, new)
    return received == expected


def rehash(out: Path, eml: bytes) -> None:
    """Make manifest.json list ``eml`` as its digest.eml, as a hand edit could."""
    path = out / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        if entry["name"] == "digest.eml":
            entry["bytes"] = len(eml)
            entry["sha256"] = hashlib.sha256(eml).hexdigest()
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def edit(out: Path) -> bytes:
    """Change the digest's body (not its subject or articles) and return the new bytes."""
    eml = out / EML
    data = eml.read_bytes().replace(b"Dit zijn de artikelen", b"Dit waren de artikelen", 1)
    assert data != eml.read_bytes()
    eml.write_bytes(data)
    return data


def test_a_missing_manifest_is_refused_and_building_again_sends(
    out: Path, mailbox: Inbox, send: Callable[[Path], Result], project: Path, run_cli: RunCli
) -> None:
    built = (out / EML).read_bytes()
    edit(out)
    (out / MANIFEST).unlink()
    refused(send(out), mailbox, str(out / MANIFEST), "is missing", "run 'nieuwsbrief build'")
    # The fix the message gives, followed: move the edited file away, build, send.
    (out / EML).rename(out.parent / "edited.eml")
    assert run_cli("build", "-p", project, "-o", out, "--now", NOW).exit_code == 0
    result = send(out)
    assert result.exit_code == 0, result.output
    [(_, recipients, received)] = mailbox.received
    assert recipients == [TO] and as_built(received, built)


@pytest.mark.parametrize("kind", ["folder", "fifo", "symlink"])
def test_a_manifest_that_is_not_a_regular_file_is_refused(
    kind: str, out: Path, mailbox: Inbox, send: Callable[[Path], Result], tmp_path: Path
) -> None:
    manifest = out / MANIFEST
    copy = tmp_path / "manifest-copy.json"
    shutil.copy(manifest, copy)
    manifest.unlink()
    {"folder": os.mkdir, "fifo": os.mkfifo, "symlink": lambda p: p.symlink_to(copy)}[kind](
        manifest
    )
    refused(send(out), mailbox, str(manifest), "is not a regular file", "move it away")


def test_a_manifest_that_does_not_list_the_eml_is_refused(
    out: Path, mailbox: Inbox, send: Callable[[Path], Result]
) -> None:
    path = out / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["files"] = [entry for entry in manifest["files"] if entry["name"] != "digest.eml"]
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    edit(out)
    refused(send(out), mailbox, str(path), "does not list digest.eml", "move it away")


def test_another_file_in_place_of_the_eml_is_refused_without_a_manifest(
    out: Path, mailbox: Inbox, send: Callable[[Path], Result]
) -> None:
    # (A link there is refused as a link: tests/test_message_quoting.py.)
    (out / MANIFEST).unlink()
    (out / EML).write_bytes(b"From: a@example.nl\n\nSECRET CONTENT of some other file\n")
    line = refused(send(out), mailbox, str(out / MANIFEST), "is missing")
    assert "SECRET" not in line


def test_an_edit_the_manifest_agrees_with_is_refused_by_the_record(
    out: Path, mailbox: Inbox, send: Callable[[Path], Result]
) -> None:
    rehash(out, edit(out))
    refused(
        send(out),
        mailbox,
        str(out / EML),
        f"{out / RECORD_FILE} does not list these bytes as nieuwsbrief's",
        "move it away and run 'nieuwsbrief build' again",
    )


def test_an_edit_without_a_record_is_refused(
    out: Path, mailbox: Inbox, send: Callable[[Path], Result]
) -> None:
    rehash(out, edit(out))
    (out / RECORD_FILE).unlink()
    refused(send(out), mailbox, str(out / EML), f"{out / RECORD_FILE} is missing")


def test_a_digest_larger_than_any_build_writes_is_refused(
    out: Path, mailbox: Inbox, send: Callable[[Path], Result]
) -> None:
    os.truncate(out / EML, MAX_DIGEST_BYTES + 1)  # sparse: no disk, and never read whole
    refused(send(out), mailbox, str(out / EML), f"larger than {MAX_DIGEST_BYTES:,} bytes")


def test_a_long_server_reply_is_quoted_short(
    out: Path, project: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Refusing(Inbox):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "554 " + "weigering \x1b]0;titel\x07 " * 220  # 4,840 characters

    with login_server(Refusing()) as port:
        configure(project, port)
        monkeypatch.setenv("TEST_SMTP_PASSWORD", PASSWORD)
        with finishes("nieuwsbrief send to a refusing server"):
            result = run_cli("send", "--to", TO, "-p", project, "-o", out, "--now", NOW)
    assert result.exit_code == 1, result.output
    [line] = result.output.strip().splitlines()
    assert "failed: 554 'weigering \\x1b]0;titel\\x07" in line
    assert len(line) < REPLY_LIMIT + 200, len(line)


TARGETS = (MANIFEST, EML, RECORD_FILE)


def _damage(out: Path, aside: Path, target: str, kind: str, data: bytes, cut: int) -> None:
    path = out / target
    original = aside / target.replace("/", "_")
    if not original.exists() and (path.is_file() and not path.is_symlink()):
        shutil.copy(path, original)
    if kind == "truncate":
        if path.is_file() and not path.is_symlink():
            with path.open("r+b") as handle:
                handle.truncate(min(cut, path.stat().st_size))
        return
    if kind == "extend":
        if path.is_file() and not path.is_symlink():
            with path.open("ab") as handle:
                handle.write(data)
        return
    if kind == "flip":
        if path.is_file() and not path.is_symlink() and path.stat().st_size:
            content = bytearray(path.read_bytes())
            content[cut % len(content)] ^= 0x20
            path.write_bytes(bytes(content))
        return
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    if kind == "replace":
        path.write_bytes(data)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "symlink":
        # To the built bytes, kept elsewhere, or to a file of other bytes.
        if original.exists() and not data:
            path.symlink_to(original)
        else:
            other = aside / f"other-{len(list(aside.iterdir()))}"
            other.write_bytes(data)
            path.symlink_to(other)


KINDS = ("remove", "replace", "truncate", "extend", "flip", "symlink", "fifo", "folder")
DAMAGE = st.tuples(
    st.sampled_from(TARGETS),
    st.sampled_from(KINDS),
    st.binary(max_size=64),
    st.integers(min_value=0, max_value=10**9),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(damages=st.lists(DAMAGE, min_size=1, max_size=3))
@example(damages=[(EML, "extend", b"", 0), (RECORD_FILE, "truncate", b"", 10**9)])  # no change
@example(damages=[(RECORD_FILE, "folder", b"", 0)])
@example(damages=[(MANIFEST, "remove", b"", 0), (EML, "flip", b"", 5000)])
@example(damages=[(MANIFEST, "remove", b"", 0), (EML, "symlink", b"From: a@b.nl\n\nX\n", 0)])
def test_send_mails_the_built_bytes_or_refuses_in_one_line(
    out: Path,
    mailbox: Inbox,
    send: Callable[[Path], Result],
    tmp_path: Path,
    damages: list[tuple[str, str, bytes, int]],
) -> None:
    built = (out / EML).read_bytes()
    copy = tmp_path / "damaged"
    aside = tmp_path / "aside"
    for folder in (copy, aside):
        if folder.exists():
            shutil.rmtree(folder)
    aside.mkdir()
    shutil.copytree(out, copy, symlinks=True)
    for target, kind, data, cut in damages:
        _damage(copy, aside, target, kind, data, cut)
    mailbox.received.clear()
    result = send(copy)  # a traceback fails the test: run_cli does not catch exceptions
    event("sent" if result.exit_code == 0 else "refused")
    if result.exit_code == 0:
        [(_, recipients, received)] = mailbox.received
        assert recipients == [TO]
        assert as_built(received, built), "send mailed bytes the build did not write"
    else:
        refused(result, mailbox)
