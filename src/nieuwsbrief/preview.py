"""Serve a live preview of the build on 127.0.0.1, rebuilding when a source file changes."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nieuwsbrief.build import build
from nieuwsbrief.errors import NieuwsbriefError

WATCHED = ("schedule.yaml", "articles", "templates")


def snapshot(project: Path) -> dict[str, tuple[int, int]]:
    """Return the size and modification time of every watched source file."""
    state = {}
    for name in WATCHED:
        root = project / name
        paths = [root] if root.is_file() else sorted(root.rglob("*")) if root.is_dir() else []
        for path in paths:
            if path.is_file():
                info = path.stat()
                state[str(path)] = (info.st_size, info.st_mtime_ns)
    return state


class Preview:
    """A build folder served over HTTP, rebuilt whenever the project changes."""

    def __init__(
        self,
        project: Path,
        port: int = 0,
        *,
        now: Callable[[], dt.datetime] | None = None,
        report: Callable[[str], None] = lambda message: None,
        interval: float = 0.5,
    ) -> None:
        self.project = project
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
        self._state: dict[str, tuple[int, int]] = {}
        handler = functools.partial(_QuietHandler, directory=str(self.out))
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
        self._state = snapshot(self.project)
        try:
            result = build(self.project, self.out, self.now())
        except (NieuwsbriefError, OSError) as error:
            self.report(f"build failed, still serving the previous build:\n{error}")
            return False
        self.rebuilds += 1
        week = f", digest {result.digest_week}" if result.digest_week else ""
        self.report(f"built {len(result.published)} articles{week}")
        return True

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            if snapshot(self.project) == self._state:
                continue
            try:
                self.rebuild()
            except Exception as error:
                # A bug in one rebuild must not end the watcher: the preview keeps serving.
                self.report(f"build crashed, still serving the previous build: {error!r}")

    def serve_forever(self) -> None:
        """Build, then serve and watch until ``stop`` is called."""
        if self._stop.is_set():
            return
        self.rebuild()
        with self._lock:
            if self._stop.is_set():
                return
            # From here on stop() may call shutdown(): it returns once the loop below ends.
            self._serving = True
        watcher = threading.Thread(target=self._watch, daemon=True)
        watcher.start()
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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files without logging every request to the terminal."""

    def log_message(self, format: str, *args: Any) -> None:
        pass
