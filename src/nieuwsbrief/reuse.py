"""Keep the topic layer's files of the previous build when nothing they show has changed.

Each group of files (a topic's feeds and list, the list of all articles, one article's
related list) has a fingerprint of everything it is rendered from: the code and templates,
the settings, and every field and the body of each article it shows. When the fingerprint
is the one recorded in ``.nieuwsbrief-cache/topics.json`` and the files in ``--out`` are
still the bytes nieuwsbrief wrote, the build takes those bytes instead of rendering again.
The bytes are the same either way, so a build with or without cache is identical.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from nieuwsbrief import __version__
from nieuwsbrief.articles import Article
from nieuwsbrief.config import Settings

CACHE_DIR = ".nieuwsbrief-cache"
CACHE_FILE = "topics.json"
FORMAT = 1
# The modules whose code shapes the topic files: a change in any of them renders anew.
_MODULES = ("articles.py", "digest.py", "feeds.py", "lists.py", "markup.py", "topics.py", "urls.py")
_TEMPLATES = ("list.html.j2", "crisis_notice.html.j2", "feed.xsl")

Read = Callable[[str], "bytes | None"]


def _hash(*parts: object) -> str:
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def base_fingerprint(settings: Settings) -> str:
    """Return a fingerprint of the code, templates and settings the topic files depend on."""
    from nieuwsbrief.scaffold import skeleton_dir

    here = Path(__file__).parent
    code = [hashlib.sha256((here / name).read_bytes()).hexdigest() for name in _MODULES]
    templates = []
    for folder in (settings.project_dir / "templates", skeleton_dir() / "templates"):
        for name in _TEMPLATES:
            with contextlib.suppress(OSError):
                templates.append([name, hashlib.sha256((folder / name).read_bytes()).hexdigest()])
    return _hash(
        FORMAT,
        __version__,
        code,
        templates,
        repr(settings.site),
        repr(settings.feeds),
        repr(settings.topics),
        list(settings.digest.topics),
    )


class Reuse:
    """Fingerprints of the previous build's topic files, and a reader of ``--out``."""

    def __init__(self, settings: Settings, read: Read | None) -> None:
        self.read = read
        self.path = settings.project_dir / CACHE_DIR / CACHE_FILE
        self.base = base_fingerprint(settings)
        self.old: dict[str, Any] = {}
        self.new: dict[str, Any] = {}
        self.articles: dict[str, str] = {}
        self.hits = 0
        if read is not None:
            with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if data.get("base") == self.base and isinstance(data.get("groups"), dict):
                    self.old = data["groups"]

    def article(self, article: Article) -> str:
        """Return the fingerprint of everything an output can show of an article."""
        found = self.articles.get(article.source.name)
        if found is None:
            found = _hash(
                article.slug,
                article.id,
                article.title,
                article.date.isoformat(),
                article.updated.isoformat() if article.updated else None,
                article.explicit_summary,
                list(article.tags),
                article.author,
                article.image,
                article.image_alt,
                article.url,
                article.crisis_notice,
                hashlib.sha256(article.body.encode("utf-8")).hexdigest(),
            )
            self.articles[article.source.name] = found
        return found

    def fingerprint(self, *parts: object, articles: Sequence[Article] = ()) -> str:
        return _hash(self.base, parts, [self.article(article) for article in articles])

    def get(self, key: str, fingerprint: str) -> dict[str, bytes] | None:
        """Return the files of ``key`` from ``--out`` if their fingerprint is unchanged."""
        entry = self.old.get(key)
        if self.read is None or not isinstance(entry, dict) or entry.get("fp") != fingerprint:
            return None
        names = entry.get("files")
        if not isinstance(names, list):
            return None
        files: dict[str, bytes] = {}
        for name in names:
            data = self.read(name) if isinstance(name, str) else None
            if data is None:
                return None
            files[name] = data
        self.new[key] = entry
        self.hits += 1
        return files

    def put(self, key: str, fingerprint: str, files: Mapping[str, bytes]) -> None:
        self.new[key] = {"fp": fingerprint, "files": sorted(files)}

    def group(
        self, key: str, fingerprint: str, render: Callable[[], dict[str, bytes]]
    ) -> dict[str, bytes]:
        """Return the files of ``key``: reused when unchanged, else rendered and recorded."""
        found = self.get(key, fingerprint)
        if found is None:
            found = render()
            self.put(key, fingerprint, found)
        return found

    def save(self) -> None:
        """Record this build's fingerprints (after it published); never fail a build."""
        if self.read is None:
            return
        data = {"base": self.base, "groups": self.new}
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".topics-")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(json.dumps(data, separators=(",", ":"), sort_keys=True))
            Path(temporary).replace(self.path)
