"""Serve a live preview of the build on 127.0.0.1, rebuilding when a source file changes.

Besides the build itself (feeds, digests, archive), the preview serves pages that only the
editor sees, rendered from ``templates/preview.html.j2``: a home page with the digest that goes
out next, the latest digest, the feeds, every article with its status and the current
warnings; a page per article, drafts included (marked as concept); and the coming digest as
it would go out.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import os
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nieuwsbrief.build import BuildResult, build
from nieuwsbrief.errors import NieuwsbriefError

if TYPE_CHECKING:
    from nieuwsbrief.articles import Article
    from nieuwsbrief.build import Site

WATCHED = ("schedule.yaml", "articles", "templates")
# The editor-only pages by URL path: bytes, or a function that renders the page when asked.
Pages = dict[str, bytes | Callable[[], bytes]]
PREVIEW_TEMPLATE = "preview.html.j2"
# Paths of the editor-only pages; everything else is the build in the temporary folder.
COMING_PREFIX = "/voorbeeld/nieuwsbrief/"
ARTICLE_PREFIX = "/voorbeeld/artikel/"


def watched(project: Path) -> Callable[[Any, str], bool]:
    """Return a watchfiles filter: True for a change to a source file of ``project``.

    Only schedule.yaml, articles/ and templates/ count: the article cache the build writes
    into the project, editors' swap files and version-control folders do not.
    """
    from watchfiles import DefaultFilter

    root = project.resolve()
    settings, folders = root / WATCHED[0], [root / name for name in WATCHED[1:]]
    editors = DefaultFilter()

    def keep(change: Any, path: str) -> bool:
        where = Path(path)
        inside = where == settings or any(where.is_relative_to(folder) for folder in folders)
        return inside and editors(change, path)

    return keep


def watch_folders(project: Path) -> list[Path]:
    """Return the folders whose entries the preview watches: the project folder itself (for
    schedule.yaml, and for articles/ or templates/ appearing), articles/, templates/ and the
    subfolders of templates/ (a template may include one from there).

    Each is watched without its subfolders and no symlink to a folder is followed, except
    articles/ or templates/ themselves: a link in the project to /usr or $HOME would
    otherwise set up a watch for every folder there (tens of thousands, the system's limit).
    """
    root = project.resolve()
    folders = [root]
    articles, templates = (root / name for name in WATCHED[1:])
    if articles.is_dir():
        folders.append(articles)
    if templates.is_dir():
        folders.append(templates)
        for parent, names, _ in os.walk(templates):  # os.walk enters no linked folder
            names[:] = sorted(name for name in names if not Path(parent, name).is_symlink())
            folders.extend(Path(parent, name) for name in names)
    return folders


def _identity(folders: list[Path]) -> list[tuple[Path, int]]:
    """Return the folders with their inodes: a folder removed and made again is a new one,
    which the old watch no longer sees."""
    identity = []
    for folder in folders:
        try:
            identity.append((folder, folder.stat().st_ino))
        except OSError:
            identity.append((folder, -1))
    return identity


class _StopOrStarted:
    """The stop event watchfiles asks while it watches; its first question means the watch
    is in place (watchfiles asks only from inside its watch loop)."""

    def __init__(self, stop: threading.Event, started: threading.Event | None = None) -> None:
        self.stop = stop
        self.started = started or threading.Event()

    def is_set(self) -> bool:
        self.started.set()
        return self.stop.is_set()


class Preview:
    """A build folder served over HTTP, rebuilt whenever the project changes."""

    def __init__(
        self,
        project: Path,
        port: int = 0,
        *,
        now: Callable[[], dt.datetime] | None = None,
        report: Callable[[str], None] = lambda message: None,
        interval: float = 0.05,
        digest_week: str | None = None,
    ) -> None:
        self.project = project
        self.digest_week = digest_week
        self.pages: Pages = {}
        self._generation = 0
        self._home_context: dict[str, Any] | None = None
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.report = report
        self.interval = interval
        self._tmp = Path(tempfile.mkdtemp(prefix="nieuwsbrief-preview-"))
        self.out = self._tmp / "public"
        self.out.mkdir()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._serving = False
        self._closed = False
        self._building = threading.Lock()  # one build at a time: the first, then the watcher's
        self._watching = threading.Event()  # set once the first watch is in place
        handler = functools.partial(_PreviewHandler, directory=str(self.out), preview=self)
        try:
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise
        self.rebuilds = 0

    @property
    def url(self) -> str:
        """Return the base URL the preview is served at."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def rebuild(self) -> bool:
        """Build once; on failure keep serving the last good build and report why."""
        with self._building:
            return self._rebuild()

    def _rebuild(self) -> bool:
        now = self.now()
        try:
            result = build(self.project, self.out, now)
            pages, context = render_pages(self.project, now, result, self.digest_week)
        except (NieuwsbriefError, OSError) as error:
            serving = (
                "still serving the previous build"
                if self.rebuilds
                else "nothing to serve until a build succeeds; the home page shows the error"
            )
            self.report(f"build failed, {serving}:\n{error}")
            home = self._error_home(str(error))
            with self._lock:
                self._generation += 1  # a search for the previous build's warnings is moot
                self.pages = {**self.pages, "/": home}
            return False
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._home_context = context
            self.pages = pages
        threading.Thread(target=self._find_problems, args=(generation, now), daemon=True).start()
        self.rebuilds += 1
        week = f", digest {result.digest_week}" if result.digest_week else ""
        count = len(result.published)
        self.report(f"built {count} published article{'' if count == 1 else 's'}{week}")
        return True

    def _find_problems(self, generation: int, now: dt.datetime) -> None:
        """Look for the warnings after serving the build, then put them on the home page."""
        try:
            problems = find_problems(self.project, now)
            with self._lock:
                if generation != self._generation or self._home_context is None:
                    return  # a newer build is being served; its own search follows
                context = {**self._home_context, "problems": problems}
            home = render_home(self.project, context)
        except Exception as error:
            # A bug here must not end the preview; the home page keeps saying "looking".
            self.report(f"could not look for warnings: {error!r}")
            return
        with self._lock:
            if generation == self._generation:
                self._home_context = context
                self.pages = {**self.pages, "/": home}

    def _watch(self) -> None:
        """Rebuild after each burst of changes, as the OS reports them (no polling).

        ``interval`` is the quiet time that ends a burst: saving ten files is one rebuild.
        Only the folders ``watch_folders`` names are watched, each without its subfolders;
        when that list changes (articles/ created, a template folder added), the watch starts
        again over the new list and rebuilds once it is in place.
        """
        from watchfiles import watch

        step = max(1, round(self.interval * 1000))
        rebuild_when_watching = False
        try:
            while not self._stop.is_set():
                folders = watch_folders(self.project)
                identity = _identity(folders)
                # The first watch tells serve_forever it is in place; later ones a rebuild.
                first = self._watching if not self._watching.is_set() else None
                watching = _StopOrStarted(self._stop, first)
                if rebuild_when_watching:
                    threading.Thread(
                        target=self._rebuild_when, args=(watching.started,), daemon=True
                    ).start()
                changes = watch(
                    *folders,
                    watch_filter=watched(self.project),
                    debounce=max(step, 1600),
                    step=step,
                    stop_event=watching,
                    raise_interrupt=False,
                    recursive=False,
                )
                rebuild_when_watching = False
                try:
                    for _ in changes:
                        if _identity(watch_folders(self.project)) != identity:
                            rebuild_when_watching = True
                            break
                        self._safe_rebuild()
                    else:
                        return  # stopped
                finally:
                    changes.close()  # ends the old watch now, not when it is collected
        except Exception as error:  # the OS refused to watch (e.g. too many inotify watches)
            self.report(f"stopped watching {self.project} ({error}); restart the preview")

    def _safe_rebuild(self) -> None:
        try:
            self.rebuild()
        except Exception as error:
            # A bug in one rebuild must not end the watcher: the preview keeps serving.
            self.report(f"build crashed, still serving the previous build: {error!r}")

    def _rebuild_when(self, started: threading.Event) -> None:
        """Rebuild once the new watch is in place, so no change falls between two watches."""
        while not started.wait(0.1):
            if self._stop.is_set():
                return
        if not self._stop.is_set():
            self._safe_rebuild()

    def serve_forever(self) -> None:
        """Build, then serve and watch until ``stop`` is called."""
        if self._stop.is_set():
            return
        # Watch from before the first build, so that a change made while it runs is seen.
        watcher = threading.Thread(target=self._watch, daemon=True)
        watcher.start()
        while not self._watching.wait(0.05) and watcher.is_alive():
            pass  # the watch is being set up (a watch the OS refuses ends the thread)
        self.rebuild()
        with self._lock:
            if self._stop.is_set():
                watcher.join()
                return
            # From here on stop() may call shutdown(): it returns once the loop below ends.
            self._serving = True
        try:
            self.server.serve_forever(poll_interval=0.2)
        finally:
            with self._lock:
                self._serving = False
            self._stop.set()
            watcher.join()

    def stop(self) -> None:
        """Stop serving and remove the temporary build; safe before, during and after serving."""
        with self._lock:
            self._stop.set()
            serving, closed, self._closed = self._serving, self._closed, True
        if serving:
            self.server.shutdown()
        if not closed:
            self.server.server_close()
            shutil.rmtree(self._tmp, ignore_errors=True)

    def _error_home(self, error: str) -> bytes:
        """Return the home page with the failed build's message above the last good one."""
        if self._home_context is None:
            return _bare_error_page(error)
        try:
            return _render(_templates(self.project), {**self._home_context, "error": error})
        except NieuwsbriefError:
            return _bare_error_page(error)


def _templates(project: Path | None) -> Path:
    """Return the project's templates folder, or the default one when it has no preview page."""
    from nieuwsbrief.scaffold import skeleton_dir
    from nieuwsbrief.templating import TEMPLATES_DIR

    if project is not None and (project / TEMPLATES_DIR / PREVIEW_TEMPLATE).is_file():
        return project / TEMPLATES_DIR
    return skeleton_dir() / TEMPLATES_DIR


def _render(templates: Path, context: Mapping[str, Any]) -> bytes:
    from nieuwsbrief.templating import filter_links, render_template

    # The same link filter as every published page: the preview shows the articles' and the
    # template's links to an editor, who may click them (javascript:, data: and the like go).
    page = render_template(templates, PREVIEW_TEMPLATE, context, html=True)
    return filter_links(page, templates / PREVIEW_TEMPLATE).encode("utf-8")


def _complete_home(context: dict[str, Any]) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "coming": None,
        "latest": None,
        "feeds": [],
        "articles": [],
        "problems": None,
        "notes": [],
        "error": None,
        "page": "home",
    }
    return {**defaults, **context}


def _bare_error_page(error: str) -> bytes:
    import html

    return (
        '<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8"><title>Voorbeeld</title>'
        "</head><body><h1>De laatste wijziging gaf een fout</h1><pre>"
        f"{html.escape(error)}</pre></body></html>\n"
    ).encode()


def _status(article: Article, now: dt.datetime) -> tuple[str, str]:
    from nieuwsbrief.dutch import dutch_date

    if article.draft:
        return "draft", "concept"
    if article.date.astimezone(dt.UTC) > now.astimezone(dt.UTC):
        return "scheduled", f"gepland voor {dutch_date(article.date)}"
    return "published", "gepubliceerd"


def _article_href(article: Article) -> str:
    return ARTICLE_PREFIX + urllib.parse.quote(article.slug) + ".html"


def _listed(article: Article, now: dt.datetime) -> dict[str, Any]:
    from nieuwsbrief.dutch import dutch_date

    status, text = _status(article, now)
    return {
        "title": article.title,
        "date": dutch_date(article.date),
        "status": status,
        "status_text": text,
        "href": _article_href(article),
    }


def find_problems(project: Path, now: dt.datetime) -> list[dict[str, str]]:
    """Return what 'nieuwsbrief check' reports, for the home page's warnings."""
    from nieuwsbrief.check import check_project

    return [{"severity": p.severity, "text": str(p)} for p in check_project(project, now)]


def render_home(project: Path, context: Mapping[str, Any]) -> bytes:
    """Render the home page from its context (see ``render_pages``)."""
    return _render(_templates(project), context)


def render_pages(
    project: Path,
    now: dt.datetime,
    result: BuildResult,
    digest_week: str | None = None,
    problems: list[dict[str, str]] | None = None,
) -> tuple[Pages, dict[str, Any]]:
    """Render the editor-only pages by URL path: home, one per article, the coming digest.

    Return them with the home page's context, so a later failed build can show its error on
    top of it. Without ``problems`` the home page says the warnings are still being looked for.
    """
    from nieuwsbrief.build import load_site

    site = load_site(project, cache=True)
    now = site.settings.localize(now)
    pages, coming = _coming_digest(site, now, digest_week)
    templates = _templates(project)
    for article in site.articles:
        # Rendered when asked for: a site of thousands of articles renders only those viewed.
        pages[_article_href(article)] = functools.partial(
            _article_page, templates, site.settings.site, article, now
        )
    from nieuwsbrief.select import newest_first

    context = _complete_home(
        {
            "site": site.settings.site,
            "coming": coming,
            "latest": _latest(site, result),
            "feeds": [
                {"name": "RSS (feed.xml)", "href": "/feed.xml"},
                {"name": "Atom (atom.xml)", "href": "/atom.xml"},
                {"name": "JSON Feed (feed.json)", "href": "/feed.json"},
            ],
            "articles": [_listed(a, now) for a in newest_first(site.articles)],
            # None: still being looked for (check renders every article, which takes a while).
            "problems": problems,
            "notes": [f"build: {warning}" for warning in result.warnings],
        }
    )
    pages["/"] = _render(templates, context)
    return pages, context


def _article_page(templates: Path, site: Any, article: Article, now: dt.datetime) -> bytes:
    """Render the page of one article, drafts included, with its status on top."""
    context = {
        "site": site,
        "page": "article",
        "error": None,
        "article": {
            **_listed(article, now),
            "summary": article.summary,
            "tags": list(article.tags),
            "author": article.author or site.author.name,
            "content": _markup(article.content_html),
        },
    }
    return _render(templates, context)


def _markup(html: str) -> Any:
    """Mark sanitized article HTML as safe for the autoescaping template."""
    import markupsafe

    return markupsafe.Markup(html)  # noqa: S704 - content_html is sanitized by nh3


def _coming_digest(
    site: Site, now: dt.datetime, digest_week: str | None
) -> tuple[Pages, dict[str, Any]]:
    """Render the digest that goes out next (or of ``digest_week``) as of its send moment.

    Drafts stay out, as they would; articles dated before the send moment are in it.
    """
    from nieuwsbrief.build import digest_window, render_site
    from nieuwsbrief.dutch import dutch_weekday_date
    from nieuwsbrief.schedule import upcoming, window_ending_at

    settings = site.settings
    if digest_week is None:
        window = window_ending_at(settings.digest, next(upcoming(settings.digest, now, 1)))
    else:
        window = digest_window(settings, now, digest_week)
    rendered = render_site(site, window.send_moment, digest_week=window.week)
    pages: Pages = {}
    if rendered.digest is not None:
        for name, data in rendered.digest.files().items():
            pages[COMING_PREFIX + name.rsplit("/", 1)[-1]] = data
    inside = [a for a in site.articles if window.covers(a.date)]
    from nieuwsbrief.select import newest_first

    send = window.send_moment.astimezone(settings.digest.timezone)
    coming = {
        "week": window.week,
        "chosen": digest_week is not None,
        "send_date": dutch_weekday_date(send),
        "send_time": f"{send:%H:%M}",
        "zone": settings.digest.timezone.key,
        "count": sum(1 for a in inside if not a.draft) if rendered.digest else 0,
        "articles": [_listed(a, now) for a in newest_first(inside) if not a.draft],
        "drafts": [_listed(a, now) for a in newest_first(inside) if a.draft],
        "href": COMING_PREFIX + "digest.html",
        "text_href": COMING_PREFIX + "digest.txt",
    }
    return pages, coming


def _latest(site: Site, result: BuildResult) -> dict[str, Any] | None:
    """Return the newest digest in the build, for the home page."""
    from nieuwsbrief.build import read_manifests
    from nieuwsbrief.digest import DIGESTS_DIR
    from nieuwsbrief.dutch import dutch_date

    manifests, _ = read_manifests(result.out)
    if not manifests:
        return None
    latest = max(manifests, key=lambda manifest: str(manifest["week"]))
    send = dt.datetime.fromisoformat(latest["send_at"]).astimezone(site.settings.digest.timezone)
    return {
        "week": latest["week"],
        "subject": latest["subject"],
        "send_date": dutch_date(send),
        "count": len(latest["articles"]) + len(latest.get("overflow", [])),
        "href": f"/{DIGESTS_DIR}/{latest['week']}/digest.html",
    }


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files without a log line per request (the tests' servers use it too)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _PreviewHandler(QuietHandler):
    """Serve the editor's pages from memory and the build from disk, without request logs."""

    def __init__(self, *args: Any, preview: Preview, **kwargs: Any) -> None:
        self.preview = preview
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if self._host_allowed() and self._path_allowed() and not self._send_page(head=False):
            super().do_GET()

    def do_HEAD(self) -> None:
        if self._host_allowed() and self._path_allowed() and not self._send_page(head=True):
            super().do_HEAD()

    def _path_allowed(self) -> bool:
        """Answer 404 for a path no file can have: with a NUL byte (``/%00``), which would
        make the file server fail with a traceback in the editor's terminal."""
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if "\x00" not in path:
            return True
        self.send_error(404, "Niet gevonden")
        return False

    def _host_allowed(self) -> bool:
        """Answer only requests addressed to this preview by name; refuse the rest, empty.

        A page on another site can point its own domain at 127.0.0.1 (DNS rebinding) and then
        read the preview as same-origin; its requests carry that domain in ``Host``.
        """
        port = self.preview.server.server_address[1]
        host = (self.headers.get("Host") or "").strip().lower()
        if host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            return True
        self.send_response(421)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        return False

    def _send_page(self, *, head: bool) -> bool:
        path = urllib.parse.urlsplit(self.path).path
        if path == "/index.html":
            path = "/"
        page = self.preview.pages.get(path)
        if callable(page):
            try:
                page = page()
            except NieuwsbriefError as error:
                page = _bare_error_page(str(error))
        if page is None:
            if path == "/" or path.startswith(("/voorbeeld/",)):
                self.send_error(404, "Niet gevonden")
                return True
            return False
        kind = "text/plain" if path.endswith(".txt") else "text/html"
        if path.endswith(".json"):
            kind = "application/json"
        elif path.endswith(".eml"):
            kind = "message/rfc822"
        self.send_response(200)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(page)
        return True
