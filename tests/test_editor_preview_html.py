"""The preview's own pages are valid HTML by the Nu HTML Checker (vnu), the W3C's validator.

vnu comes from npm ``vnu-jar`` in tests/js (installed by ``.ci/run`` with the email tests'
other references) and runs with Java. A missing checker is a skip locally and a failure when
``CI`` is set. ``NIEUWSBRIEF_VNU_JAR`` points at another copy of vnu.jar.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import NOW, write_article
from nieuwsbrief.build import build
from nieuwsbrief.preview import Preview, find_problems, render_pages

VNU_JAR = Path(
    os.environ.get("NIEUWSBRIEF_VNU_JAR")
    or Path(__file__).parent / "js" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
)
TIMEOUT = 180


def _home(project: Path, context: dict[str, object]) -> bytes:
    from nieuwsbrief.preview import render_home

    page = render_home(project, context)
    assert b"is in the future" in page  # the warnings are on it
    return page


def require(found: bool, message: str) -> None:
    """Skip when the checker is missing; fail under CI, where .ci/run installs it."""
    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(message + "; .ci/run must install it")
    pytest.skip(message)


def test_preview_pages_are_valid_html(project: Path, tmp_path: Path) -> None:
    java = shutil.which("java")
    require(java is not None, "java is not installed (apt-get install default-jre-headless)")
    require(VNU_JAR.is_file(), f"{VNU_JAR} is missing (npm ci --prefix tests/js)")
    assert java is not None
    # Every status on one page: published, scheduled, a draft; a title that needs escaping.
    write_article(
        project, "2025-11-22-tekens.md", "Tekst & <b>vet</b>.", title='A <b> & "c"', draft=True
    )
    now = dt.datetime.fromisoformat(NOW)
    result = build(project, tmp_path / "out", now)
    pages, _ = render_pages(project, now, result)
    _, context = render_pages(project, now, result, problems=find_problems(project, now))
    server = Preview(project, 0)  # only for the error page; never served
    try:
        server._home_context = context
        error_page = server._error_home("articles/x.md: field 'title': <missing>")
    finally:
        server.stop()
    home = pages["/"]
    assert isinstance(home, bytes) and b"nog gezocht" in home
    html_pages = {
        "looking.html": home,
        "home.html": _home(project, context),
        "error.html": error_page,
    }
    html_pages.update(
        {
            name.rsplit("/", 1)[-1]: page() if callable(page) else page
            for name, page in pages.items()
            if "/artikel/" in name
        }
    )
    assert len(html_pages) > 5
    folder = tmp_path / "pages"
    folder.mkdir()
    paths = []
    for name, data in html_pages.items():
        (folder / name).write_bytes(data)
        paths.append(str(folder / name))
    # A control page with a known error: proof that the checker ran and reports.
    control = '<!DOCTYPE html><html lang="nl"><head><title>x</title></head><body><p><div>'
    (folder / "control.html").write_text(control, encoding="utf-8")
    run = subprocess.run(
        [
            java,
            "-jar",
            str(VNU_JAR),
            "--format",
            "json",
            "--exit-zero-always",
            *paths,
            str(folder / "control.html"),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    found = json.loads(run.stderr)["messages"]
    assert any(m.get("url", "").endswith("control.html") for m in found), "did vnu run?"
    messages = [m for m in found if not m.get("url", "").endswith("control.html")]
    problems = [
        f"{Path(m.get('url', '?')).name}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m["type"] in ("error", "non-document-error") or m.get("subType") == "warning"
    ]
    assert problems == []
