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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# --- The preview's own pages: home, article pages with drafts, the coming digest -------------


class _Page:
    """What a test needs from an HTML page: links, texts by CSS class, and every resource."""

    def __init__(self, html: str) -> None:
        from html.parser import HTMLParser

        self.links: dict[str, str] = {}
        self.rows: list[list[str]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        page = self

        class Parser(HTMLParser):
            href: str | None = None
            text: list[str] | None = None
            row: list[str] | None = None
            cell: list[str] | None = None

            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                page.tags.append((tag, dict(attrs)))
                if tag == "a":
                    self.href, self.text = dict(attrs).get("href"), []
                elif tag == "tr":
                    self.row = []
                elif tag == "td":
                    self.cell = []

            def handle_endtag(self, tag: str) -> None:
                if tag == "a" and self.href is not None:
                    page.links["".join(self.text or []).strip()] = self.href
                    self.href = None
                elif tag == "td" and self.row is not None and self.cell is not None:
                    self.row.append(" ".join("".join(self.cell).split()))
                    self.cell = None
                elif tag == "tr" and self.row:
                    page.rows.append(self.row)
                    self.row = None

            def handle_data(self, data: str) -> None:
                if self.href is not None and self.text is not None:
                    self.text.append(data)
                if self.cell is not None:
                    self.cell.append(data)

        Parser().feed(html)


def _home(server: Preview) -> tuple[str, _Page]:
    html = fetch(server.url).decode("utf-8")
    return html, _Page(html)


def test_home_page_lists_every_article_with_its_status(
    running: tuple[Preview, list[str]], project: Path
) -> None:
    from conftest import article_dates

    server, _ = running
    html, page = _home(server)
    assert '<html lang="nl">' in html
    now = dt.datetime.fromisoformat(NOW)
    facts = article_dates(project)  # read from the files, not through nieuwsbrief
    statuses = {row[0]: row[2] for row in page.rows}
    assert set(statuses) == {title for title, _, _ in facts.values()}
    for title, date, draft in facts.values():
        if draft:
            assert statuses[title] == "concept"
        elif date > now:
            assert statuses[title].startswith("gepland voor ")
        else:
            assert statuses[title] == "gepubliceerd"
    # The home page loads nothing: no scripts, no stylesheets, no images, no frames.
    assert not [t for t, _ in page.tags if t in ("script", "img", "iframe", "link", "object")]
    assert all(not href.startswith(("http:", "https:", "//")) for href in page.links.values())
    # Every link on it works.
    for href in page.links.values():
        assert fetch(server.url + href.lstrip("/")), href
    # The feeds and the latest digest are linked.
    assert {"/feed.xml", "/atom.xml", "/feed.json", "/digests/"} <= set(page.links.values())
    assert f"/digests/{WEEK}/digest.html" in page.links.values()


def test_home_page_shows_the_warnings_of_check(
    running: tuple[Preview, list[str]], project: Path, run_cli: RunCli
) -> None:
    """The warnings are looked for after the build is served, then appear on the home page."""
    import html as html_module
    import json

    server, _ = running
    assert wait_until(lambda: "nog gezocht" not in fetch(server.url).decode("utf-8"))
    home = html_module.unescape(fetch(server.url).decode("utf-8"))
    checked = run_cli("check", "-p", project, "--now", NOW, "--format", "json")
    problems = json.loads(checked.stdout)
    assert any(p["field"] == "date" for p in problems)  # the example has a future article
    for problem in problems:
        assert problem["message"] in home, problem
    # After a change the search starts again, for the new build.
    write_article(project, "2025-11-22-plaatje.md", title="Plaatje", image="/p.jpg", summary="K.")
    assert wait_until(
        lambda: "add image_alt" in html_module.unescape(fetch(server.url).decode("utf-8"))
    )


def test_drafts_are_shown_marked_as_concept(
    running: tuple[Preview, list[str]], project: Path
) -> None:
    server, _ = running
    write_article(
        project, "2025-11-22-nog-niet-af.md", "Halve **zin**.", title="Nog niet af", draft=True
    )
    assert wait_until(lambda: "Nog niet af" in fetch(server.url).decode("utf-8"))
    _, page = _home(server)
    draft_page = fetch(server.url + page.links["Nog niet af"].lstrip("/")).decode("utf-8")
    assert "concept" in draft_page and "draft: true" in draft_page
    assert "Halve <strong>zin</strong>." in draft_page
    # ... and the draft stays out of what readers get.
    assert "Nog niet af" not in feed_titles(server.url)
    assert "Nog niet af" not in fetch(f"{server.url}digests/{WEEK}/digest.html").decode()


def test_home_shows_the_digest_that_goes_out_next(project: Path) -> None:
    """Right after a send moment, the next digest already holds what is scheduled for it."""
    from conftest import article_dates

    # Tuesday of week 49: the next send moment is Monday 1 December 2025 08:00.
    now = dt.datetime(2025, 11, 25, 12, tzinfo=dt.UTC)
    write_article(
        project,
        "2025-11-26-gepland.md",
        title="Gepland voor woensdag",
        date="2025-11-26T10:00:00+01:00",
    )
    write_article(
        project,
        "2025-11-27-concept.md",
        title="Concept voor donderdag",
        date="2025-11-27",
        draft=True,
    )
    server = Preview(project, 0, now=lambda: now, interval=0.05)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: server.rebuilds >= 1)
        html, page = _home(server)
        assert "maandag 1 december 2025 om 08:00" in html and "2025-W49" in html
        digest = fetch(
            server.url + page.links["Bekijk deze nieuwsbrief zoals hij nu zou uitgaan"].lstrip("/")
        ).decode("utf-8")
        start = dt.datetime(2025, 11, 24, 8, tzinfo=dt.timezone(dt.timedelta(hours=1)))
        end = start + dt.timedelta(days=7)
        for title, date, draft in article_dates(project).values():
            inside = start <= date < end and not draft
            assert (title in digest) == inside, title
        assert "Gepland voor woensdag" in digest
        # Nothing of it is published yet: the build's own folder has no week 49.
        assert not (server.out / "digests" / "2025-W49").exists()
        assert "Concept voor donderdag" in html  # listed apart, as a draft of that week
    finally:
        server.stop()
        thread.join(timeout=DEADLINE_SECONDS)


def test_a_broken_edit_is_shown_on_the_home_page(
    running: tuple[Preview, list[str]], project: Path
) -> None:
    server, _ = running
    (project / "articles" / "2025-11-23-kapot.md").write_text("---\ntitle: [\n---\n", "utf-8")
    assert wait_until(lambda: "De laatste wijziging gaf een fout" in fetch(server.url).decode())
    html = fetch(server.url).decode("utf-8")
    assert "2025-11-23-kapot.md" in html and "Wat is systematische desensitisatie?" in html
    (project / "articles" / "2025-11-23-kapot.md").unlink()
    assert wait_until(lambda: "De laatste wijziging gaf een fout" not in fetch(server.url).decode())


def _start(project: Path, *args: str, tmp: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TMPDIR": str(tmp)}
    process = subprocess.Popen(
        [sys.executable, "-m", "nieuwsbrief", "preview", "-p", str(project), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("Serving http://127.0.0.1:"), line
    return process, line.split()[1]


def test_digest_week_option_and_sigterm_cleans_up(project: Path, tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    process, url = _start(project, "--now", NOW, "--digest-week", "2025-W51", tmp=tmp)
    try:
        assert wait_until(lambda: _answers(url))
        html = fetch(url).decode("utf-8")
        assert "Nieuwsbrief van week 2025-W51" in html
        assert "maandag 15 december 2025 om 08:00" in html
        digest = fetch(url + "voorbeeld/nieuwsbrief/digest.html").decode("utf-8")
        assert "Rouw rond de feestdagen" in digest  # dated 8 December: in week 51's digest
        assert any(tmp.iterdir()), "the preview builds in a temporary folder"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=DEADLINE_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert list(tmp.iterdir()) == [], "SIGTERM left the temporary build behind"


def test_preview_outside_a_project_gives_the_build_error(tmp_path: Path, run_cli: RunCli) -> None:
    elsewhere = tmp_path / "geen-project"
    elsewhere.mkdir()
    preview = run_cli("preview", "-p", elsewhere, "--port", "0")
    build = run_cli("build", "-p", elsewhere, "-o", tmp_path / "out")
    assert preview.exit_code == build.exit_code == 1
    assert preview.output == build.output
    assert "schedule.yaml" in preview.output


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    title=st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60
    ).filter(lambda t: t.strip() == t and t.strip()),
    draft=st.booleans(),
)
def test_any_title_is_text_on_the_preview_pages(
    empty_project: Path, title: str, draft: bool
) -> None:
    """Hostile titles: the build fails cleanly, or the pages show them as text, never as markup."""
    import tempfile

    from nieuwsbrief.build import build
    from nieuwsbrief.errors import NieuwsbriefError
    from nieuwsbrief.preview import render_pages

    now = dt.datetime.fromisoformat(NOW)
    path = write_article(
        empty_project,
        "2025-11-20-titel.md",
        "<script>x()</script> Tekst.",
        title=title,
        draft=draft,
    )
    try:
        with tempfile.TemporaryDirectory() as folder:
            result = build(empty_project, Path(folder) / "out", now)
            pages, _ = render_pages(empty_project, now, result)
    except NieuwsbriefError as error:
        assert str(error).count("\n") == 0 or str(path) in str(error)
        return
    for name, entry in pages.items():
        if not name.endswith(".html") and name != "/":
            continue
        data = entry() if callable(entry) else entry  # article pages render when asked for
        page = _Page(data.decode("utf-8"))
        assert not [tag for tag, _ in page.tags if tag == "script"], name
    home = _Page(pages["/"].decode("utf-8"))
    [row] = home.rows
    assert row[0] == " ".join(title.split())
    assert row[2] == ("concept" if draft else "gepubliceerd")


def test_home_page_template_is_the_projects_own_or_the_default(
    project: Path, tmp_path: Path
) -> None:
    from nieuwsbrief.build import build
    from nieuwsbrief.preview import render_pages

    now = dt.datetime.fromisoformat(NOW)
    template = project / "templates" / "preview.html.j2"
    template.write_text(
        template.read_text("utf-8").replace("<h2>Feeds</h2>", "<h2>EIGEN-SJABLOON</h2>"), "utf-8"
    )
    result = build(project, tmp_path / "a", now)
    assert b"EIGEN-SJABLOON" in render_pages(project, now, result)[0]["/"]
    # A project made before the preview page existed has no such template: the default serves.
    template.unlink()
    pages, _ = render_pages(project, now, build(project, tmp_path / "b", now))
    assert b"<h2>Feeds</h2>" in pages["/"] and b"EIGEN-SJABLOON" not in pages["/"]


def test_the_preview_answers_only_its_own_host_names(project: Path) -> None:
    """A DNS-rebinding page sends its own domain as Host: it gets 421 and no content."""
    import http.client

    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    command = [sys.executable, "-m", "nieuwsbrief", "preview", "-p", str(project)]
    process = subprocess.Popen(
        [*command, "--port", "0", "--now", NOW],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[1]
        assert wait_until(lambda: _answers(url))
        port = int(url.rstrip("/").rsplit(":", 1)[1])

        def get(host: str | None, method: str = "GET", path: str = "/") -> tuple[int, bytes]:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                connection.putrequest(method, path, skip_host=True)
                if host is not None:
                    connection.putheader("Host", host)
                connection.endheaders()
                response = connection.getresponse()
                return response.status, response.read()
            finally:
                connection.close()

        for host in ("evil.com", f"evil.com:{port}", "127.0.0.1", f"localhost:{port + 1}", None):
            for method, path in (("GET", "/"), ("GET", "/feed.xml"), ("HEAD", "/")):
                assert get(host, method, path) == (421, b""), (host, method, path)
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
            status, body = get(host)
            assert status == 200 and b"<html" in body, host
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=DEADLINE_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_home_page_counts_in_good_dutch(empty_project: Path) -> None:
    """One article: 'staat er 1 artikel in'; more: 'staan er N artikelen in'."""
    import html as html_module

    write_article(empty_project, "a.md", title="Eerste", date="2025-11-25")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    command = [sys.executable, "-m", "nieuwsbrief", "preview", "-p", str(empty_project)]
    process = subprocess.Popen(
        [*command, "--port", "0", "--now", NOW],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )

    def home() -> str:
        return " ".join(html_module.unescape(fetch(url).decode("utf-8")).split())

    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[1]
        assert wait_until(lambda: _answers(url))
        assert "Als er niets meer verandert, staat er 1 artikel in." in home()
        write_article(empty_project, "b.md", title="Tweede", date="2025-11-26")
        assert wait_until(lambda: "staan er 2 artikelen in." in home())
        assert "staan er 1 " not in home() and "staat er 2 " not in home()
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=DEADLINE_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_watcher_counts_only_source_files(project: Path) -> None:
    """The build's own writes in the project (the article cache) never start a rebuild."""
    from watchfiles import Change

    from nieuwsbrief.preview import watched

    keep = watched(project)
    root = project.resolve()
    for source in ("schedule.yaml", "articles/2025-11-22-nieuw.md", "templates/digest.txt.j2"):
        assert keep(Change.modified, str(root / source)), source
    for other in (
        ".nieuwsbrief-cache/articles.json",
        "public/feed.xml",
        "schedule.yaml.bak/x",
        "articles/.2025-11-22-nieuw.md.swp",
        "articles/.git/index",
        "README.md",
    ):
        assert not keep(Change.modified, str(root / other)), other


def test_an_idle_preview_does_not_rebuild_itself(
    running: tuple[Preview, list[str]], project: Path
) -> None:
    """Its own build (and the cache it writes into the project) is not a change to react to;
    a change to settings is, once."""
    server, messages = running
    assert (project / ".nieuwsbrief-cache").exists(), "the build wrote no cache to ignore"
    time.sleep(1.0)
    assert server.rebuilds == 1, messages
    settings = project / "schedule.yaml"
    settings.write_text(settings.read_text("utf-8") + "\n", "utf-8")
    assert wait_until(lambda: server.rebuilds == 2), messages
    time.sleep(1.0)
    assert server.rebuilds == 2, messages


def test_preview_pages_pass_the_link_filter_of_published_pages(
    project: Path, tmp_path: Path
) -> None:
    # An edited preview template with script and data links: the editor's browser must not
    # get them, as no reader gets them in a published page; the safe links stay.
    from nieuwsbrief.build import build
    from nieuwsbrief.preview import render_pages

    now = dt.datetime.fromisoformat(NOW)
    template = project / "templates" / "preview.html.j2"
    template.write_text(
        template.read_text("utf-8").replace(
            "<h2>Feeds</h2>",
            '<h2>Feeds</h2><a href="javascript:alert(1)">a</a>'
            '<a href="  JaVaScRiPt:alert(2)">b</a><img src="data:text/html,x" alt="c">'
            '<a href="https://www.example.nl/hulp">d</a>',
        ),
        "utf-8",
    )
    pages, _ = render_pages(project, now, build(project, tmp_path / "out", now))
    home = pages["/"]
    assert isinstance(home, bytes)
    assert b"javascript:" not in home.lower() and b"data:text" not in home
    assert b'<a href="https://www.example.nl/hulp">d</a>' in home
    assert b"<a>a</a>" in home  # the tag stays, without the link
