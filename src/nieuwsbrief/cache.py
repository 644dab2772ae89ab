"""Remember validated articles between builds, keyed by file content and settings."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from nieuwsbrief import __version__
from nieuwsbrief.articles import Article, parse_article, read_source, split_text
from nieuwsbrief.config import SiteSettings

CACHE_DIR = ".nieuwsbrief-cache"
CACHE_FILE = "articles.json"
# Bump when Article's fields or their meaning change, so old caches are never trusted.
FORMAT = 3


def settings_key(site: SiteSettings) -> str:
    """Return a key that changes whenever anything an article's validation depends on does."""
    return hashlib.sha256(f"{FORMAT}|{__version__}|{site!r}".encode()).hexdigest()


def _to_record(article: Article) -> dict[str, Any]:
    return {
        "slug": article.slug,
        "title": article.title,
        "date": article.date.isoformat(),
        "zone": getattr(article.date.tzinfo, "key", None),
        "updated": article.updated.isoformat() if article.updated else None,
        "updated_zone": getattr(article.updated.tzinfo, "key", None) if article.updated else None,
        "summary": article.explicit_summary,
        "tags": list(article.tags),
        "author": article.author,
        "image": article.image,
        "image_alt": article.image_alt,
        "draft": article.draft,
        "url": article.url,
        "id": article.id,
        "crisis_notice": article.crisis_notice,
    }


def _moment(text: str, zone: str | None) -> dt.datetime:
    from zoneinfo import ZoneInfo

    moment = dt.datetime.fromisoformat(text)
    # Restore a named zone, so a cached article is identical to a freshly parsed one.
    return moment.astimezone(ZoneInfo(zone)) if zone else moment


def _from_record(record: dict[str, Any], source: Path, body: str) -> Article:
    return Article(
        source=source,
        slug=record["slug"],
        title=record["title"],
        date=_moment(record["date"], record["zone"]),
        updated=_moment(record["updated"], record["updated_zone"]) if record["updated"] else None,
        explicit_summary=record["summary"],
        tags=tuple(record["tags"]),
        author=record["author"],
        image=record["image"],
        image_alt=record["image_alt"],
        draft=record["draft"],
        url=record["url"],
        id=record["id"],
        body=body,
        crisis_notice=record.get("crisis_notice"),
    )


class ArticleCache:
    """A JSON file of validated article metadata, by file name and content hash."""

    def __init__(self, project: Path, site: SiteSettings) -> None:
        self.path = project / CACHE_DIR / CACHE_FILE
        self.key = settings_key(site)
        self.entries: dict[str, dict[str, Any]] = {}
        self.used: dict[str, dict[str, Any]] = {}
        self.hits = 0
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("key") == self.key and isinstance(data.get("articles"), dict):
                self.entries = data["articles"]

    def load(self, path: Path, site: SiteSettings) -> Article:
        """Return the article at ``path``, from the cache when its bytes are unchanged."""
        text = read_source(path)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        entry = self.entries.get(path.name)
        if entry is not None and entry.get("sha256") == digest:
            try:
                _, body = split_text(path, text)
                article = _from_record(entry["record"], path, body)
            except (KeyError, TypeError, ValueError):
                article = None  # A damaged entry: parse the file as if it were new.
            if article is not None:
                self.hits += 1
                self.used[path.name] = entry
                return article
        article = parse_article(path, text, site)
        self.used[path.name] = {"sha256": digest, "record": _to_record(article)}
        return article

    def save(self) -> None:
        """Write the entries used by this build; never fail a build over the cache."""
        if self.used == self.entries:
            return
        data = {"key": self.key, "articles": self.used}
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".articles-")
            # json.dumps, not json.dump: only dumps uses the C encoder (3x faster here).
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            Path(temporary).replace(self.path)
