"""Remember parsed front matter between builds, keyed by file content, code and settings.

Only the expensive step is cached: parsing the YAML front matter. Every build validates
what it reads back with exactly the rules it applies to a freshly parsed file
(``parse_article``), and derives everything else (URL, id, dates in their zone) again, so a
stale cache (an article, the code or the settings changed since) can change neither what is
accepted nor a single output byte, and a damaged or tampered one nothing an article's own
front matter could not: it can hold no value fresh input could not. An entry edited to
other valid front matter is taken for that file (an outside probe turned a draft into a
published article that way): the cache is as trusted as the articles beside it, and
``--no-cache`` or deleting the folder builds from the articles alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import stat
import sys
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from nieuwsbrief import dependencies
from nieuwsbrief.articles import (
    Article,
    parse_article,
    read_source,
    split_front_matter,
    split_text,
)
from nieuwsbrief.config import SiteSettings
from nieuwsbrief.errors import ArticleError, quote

CACHE_DIR = ".nieuwsbrief-cache"
CACHE_FILE = "articles.json"
# Bump when the cache file's layout changes.
FORMAT = 2
_TEMP_PREFIX = ".articles-"
_MAX_NESTING = 20


# A cache file larger than this is not read (a cache of 100,000 articles is about 60 MB).
MAX_CACHE_BYTES = 128_000_000


def read_bounded(path: Path, limit: int = MAX_CACHE_BYTES) -> bytes:
    """Read a cache file: a regular file (not a link) of at most ``limit`` bytes.

    Opening never blocks (a FIFO put in its place is refused, not waited on), and memory
    stays bounded. Raises OSError when the file cannot be read, ValueError when it is refused.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("is not a regular file")
        if info.st_size > limit:
            raise ValueError(f"is larger than {limit:,} bytes")
        with os.fdopen(os.dup(descriptor), "rb") as stream:
            data = stream.read(limit + 1)
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise ValueError(f"is larger than {limit:,} bytes")
    return data


@lru_cache(maxsize=1)
def code_key() -> str:
    """Return a hash of the package's source files: validation rules live in them."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def settings_key(site: SiteSettings) -> str:
    """Return a key that changes whenever anything an article's validation depends on does."""
    python = ".".join(str(part) for part in sys.version_info[:3])
    libraries = json.dumps(dependencies.fingerprint())
    return hashlib.sha256(
        f"{FORMAT}|{code_key()}|{libraries}|{sys.implementation.name}-{python}|{site!r}".encode()
    ).hexdigest()


def is_plain(value: object, depth: int = 0) -> bool:
    """Return whether ``value`` survives a JSON round trip unchanged (types included)."""
    if depth > _MAX_NESTING:
        return False
    kind = type(value)
    # Exact types first: a cached front matter (10,000 in a large build) is all of them.
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is dict:
        items: Iterable[object] = value.values()  # type: ignore[attr-defined]
        if not all(type(key) is str for key in value):  # type: ignore[attr-defined]
            return _is_plain_slowly(value, depth)
    elif kind is list:
        items = value  # type: ignore[assignment]
    else:
        return _is_plain_slowly(value, depth)
    for item in items:
        inner = type(item)
        if inner is str or inner is int or inner is bool or item is None:
            if depth >= _MAX_NESTING:
                return False
        elif not is_plain(item, depth + 1):
            return False
    return True


def _is_plain_slowly(value: object, depth: int) -> bool:
    """Do what :func:`is_plain` does for any type (subclasses, floats)."""
    if depth > _MAX_NESTING:
        return False
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(is_plain(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and is_plain(item, depth + 1) for key, item in value.items()
        )
    return False


class ArticleCache:
    """A JSON file of parsed front matter, by file name and content hash."""

    def __init__(self, project: Path, site: SiteSettings) -> None:
        self.path = project / CACHE_DIR / CACHE_FILE
        self.key = settings_key(site)
        self.entries: dict[str, Any] = {}
        self.used: dict[str, dict[str, Any]] = {}
        self.hits = 0
        self.warnings: list[str] = []
        try:
            raw = read_bounded(self.path)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            self._warn(f"{exc.strerror if isinstance(exc, OSError) else exc}; it is rebuilt")
            return
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            self._warn("is not valid JSON; it is rebuilt")
            return
        if not isinstance(data, dict):
            self._warn(f"holds {type(data).__name__}, not an object; it is rebuilt")
        elif data.get("key") == self.key:
            if isinstance(data.get("articles"), dict):
                self.entries = data["articles"]
            else:
                self._warn("has no 'articles' object; it is rebuilt")

    def _warn(self, problem: str, name: str | None = None) -> None:
        where = f"{CACHE_DIR}/{CACHE_FILE}" + (f" entry {quote(name)}" if name else "")
        self.warnings.append(f"{where} {problem}")

    def _cached_front(self, name: str, digest: str) -> dict[str, Any] | None:
        entry = self.entries.get(name)
        if entry is None:
            return None
        if not isinstance(entry, dict):
            self._warn(f"is {type(entry).__name__}, not an object; the file is read again", name)
            return None
        if entry.get("sha256") != digest:
            return None  # The file changed: an ordinary miss.
        front = entry.get("front")
        if not isinstance(front, dict) or not is_plain(front):
            self._warn("is damaged; the file is read again", name)
            return None
        return front

    def load(self, path: Path, site: SiteSettings) -> Article:
        """Return the article at ``path``, skipping YAML parsing when its bytes are unchanged."""
        text = read_source(path)
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        front = self._cached_front(path.name, digest)
        if front is not None:
            try:
                _, body = split_text(path, text)
                article = parse_article(path, text, site, front_matter=(dict(front), body))
            except ArticleError:
                # The file's own front matter decides: a cache may not add an error either.
                self._warn("does not validate; the file is read again", path.name)
            else:
                self.hits += 1
                self.used[path.name] = {"sha256": digest, "front": front}
                return article
        fresh_front, body = split_front_matter(path, text)
        article = parse_article(path, text, site, front_matter=(fresh_front, body))
        if is_plain(fresh_front):
            self.used[path.name] = {"sha256": digest, "front": fresh_front}
        return article

    def _remove_stale_temporaries(self) -> None:
        """Remove temp files of saves that were killed (their process is gone)."""
        with contextlib.suppress(OSError):
            for leftover in self.path.parent.glob(_TEMP_PREFIX + "*"):
                pid_text = leftover.name[len(_TEMP_PREFIX) :].partition("-")[0]
                if pid_text.isdigit() and int(pid_text) != os.getpid():
                    try:
                        os.kill(int(pid_text), 0)
                        continue  # Another build is saving right now.
                    except ProcessLookupError:
                        pass
                    except OSError:
                        continue
                elif pid_text.isdigit():
                    continue
                with contextlib.suppress(OSError):
                    leftover.unlink()

    def save(self) -> None:
        """Write the entries used by this build; never fail a build over the cache."""
        self._remove_stale_temporaries()
        if self.used == self.entries:
            return
        data = {"key": self.key, "articles": self.used}
        temporary: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # json.dumps, not json.dump: only dumps uses the C encoder (3x faster here).
            encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
            handle, temporary = tempfile.mkstemp(
                dir=self.path.parent, prefix=f"{_TEMP_PREFIX}{os.getpid()}-"
            )
            with os.fdopen(handle, "wb") as stream:
                stream.write(encoded)
            Path(temporary).replace(self.path)
            temporary = None
        except (OSError, ValueError):
            pass
        finally:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    Path(temporary).unlink()
