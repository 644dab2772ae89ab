"""``nieuwsbrief preview`` serves a build on loopback and rebuilds it when the project changes."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from conftest import NOW, REPO, RunCli, write_article
from nieuwsbrief.preview import Preview

WEEK = "2025-W48"
DEADLINE_SECONDS = 30  # only a bound on waiting for a rebuild; nothing asserts on speed


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def feed_titles(base: str) -> list[str]:
    return [entry.title for entry in feedparser.parse(fetch(base + "feed.xml")).entries]


def wait_until(condition: object) -> bool:
    """Poll ``condition()`` until it holds or the deadline passes; return its last value."""
    assert callable(condition)
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def running(project: Path) -> Iterator[tuple[Preview, list[str]]]:
    """Serve the example project in a thread, as of NOW; stop it afterwards."""
    now = dt.datetime.fromisoformat(NOW)
    messages: list[str] = []
    server = Preview(project, 0, now=lambda: now, report=messages.append, interval=0.05)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: server.rebuilds >= 1), messages
        yield server, messages
    finally:
        server.stop()
        thread.join(timeout=DEADLINE_SECONDS)
        assert not thread.is_alive()
    assert not server.out.exists(), "stop() leaves the temporary build behind"


def test_preview_serves_feed_and_digest(running: tuple[Preview, list[str]], project: Path) -> None:
    from conftest import article_dates

    server, _ = running
    assert server.url.startswith("http://127.0.0.1:")
    feed = feedparser.parse(fetch(server.url + "feed.xml"))
    assert not feed.bozo
    now = dt.datetime.fromisoformat(NOW)
    expected = {
        title for title, date, draft in article_dates(project).values() if not draft and date <= now
    }
    assert {entry.title for entry in feed.entries} == expected
    digest = fetch(f"{server.url}digests/{WEEK}/digest.html").decode("utf-8")
    assert "Wat is systematische desensitisatie?" in digest
    assert WEEK in fetch(server.url + "digests/").decode("utf-8")


def test_preview_rebuilds_after_a_change_and_survives_a_broken_edit(
    running: tuple[Preview, list[str]], project: Path
) -> None:
    server, messages = running
    digest_url = f"{server.url}digests/{WEEK}/digest.html"
    assert "Nieuw in de preview" not in feed_titles(server.url)
    write_article(project, "2025-11-22-preview.md", title="Nieuw in de preview", date="2025-11-22")
    assert wait_until(lambda: "Nieuw in de preview" in feed_titles(server.url))
    assert "Nieuw in de preview" in fetch(digest_url).decode("utf-8")

    # A broken article: the error is reported and the last good build stays online.
    (project / "articles" / "2025-11-23-kapot.md").write_text("---\ntitle: [\n---\n", "utf-8")
    assert wait_until(lambda: any("2025-11-23-kapot.md" in m for m in messages))
    assert "build failed, still serving the previous build" in messages[-1]
    assert "Nieuw in de preview" in fetch(digest_url).decode("utf-8")

    # Fixing it brings rebuilds back; a template change is picked up as well.
    (project / "articles" / "2025-11-23-kapot.md").unlink()
    template = project / "templates" / "digest.txt.j2"
    template.write_text(template.read_text("utf-8") + "\nPREVIEW-MARKER\n", "utf-8")
    text_url = f"{server.url}digests/{WEEK}/digest.txt"
    assert wait_until(lambda: b"PREVIEW-MARKER" in fetch(text_url))


def test_stop_before_serving_does_not_hang(project: Path) -> None:
    server = Preview(project, 0)
    stopper = threading.Thread(target=server.stop, daemon=True)
    stopper.start()
    stopper.join(timeout=DEADLINE_SECONDS)
    assert not stopper.is_alive(), "stop() blocked although the server never started"
    assert not server.out.exists()
    server.serve_forever()  # returns at once: it was stopped
    assert server.rebuilds == 0
    assert not server.out.parent.exists()


def test_a_busy_port_is_a_clear_error(project: Path, run_cli: RunCli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("preview", "-p", project, "--port", str(port))
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_the_command_prints_its_url_serves_and_stops_on_ctrl_c(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nieuwsbrief",
            "preview",
            "-p",
            str(project),
            "--port",
            "0",
            "--now",
            NOW,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Serving http://127.0.0.1:"), line
        url = line.split()[1]
        assert wait_until(lambda: _answers(url + "feed.xml"))
        assert "Wat is systematische desensitisatie?" in feed_titles(url)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=DEADLINE_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "built " in stderr


def _answers(url: str) -> bool:
    try:
        fetch(url)
    except OSError:
        return False
    return True


def test_preview_starts_on_broken_settings_and_builds_once_they_are_fixed(project: Path) -> None:
    settings = project / "schedule.yaml"
    good = settings.read_text("utf-8")
    settings.write_text("site: [\n", encoding="utf-8")
    local_now = dt.datetime(2025, 11, 24, 9)  # no offset: read in the site's time zone
    messages: list[str] = []
    server = Preview(project, 0, now=lambda: local_now, report=messages.append, interval=0.05)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: any("schedule.yaml" in m for m in messages)), messages
        assert "build failed" in messages[0] and server.rebuilds == 0
        settings.write_text(good, encoding="utf-8")
        assert wait_until(lambda: server.rebuilds == 1), messages
        assert WEEK in fetch(server.url + "digests/").decode("utf-8")
    finally:
        server.stop()
        thread.join(timeout=DEADLINE_SECONDS)
