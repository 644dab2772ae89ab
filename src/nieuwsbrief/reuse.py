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
import re
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from nieuwsbrief import __version__, dependencies
from nieuwsbrief.articles import Article
from nieuwsbrief.cache import CACHE_DIR, code_key, read_bounded
from nieuwsbrief.config import Settings
from nieuwsbrief.output import Seen

CACHE_FILE = "topics.json"
FORMAT = 4  # 4: each group lists its files' hashes, not only their names
Read = Callable[[str], "bytes | None"]
HandOff = Callable[[Mapping[str, bytes]], None]
# Takes an own file as it is in --out when its lstat is the one recorded (StagedFiles.keep).
Keep = Callable[[str, Seen], bool]
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

# Article fingerprints shared by every Reuse while a build runs (see shared_fingerprints):
# by the article object's identity, the object kept with it so an id is never reused.
_shared: dict[int, tuple[Article, str]] | None = None


@contextlib.contextmanager
def shared_fingerprints() -> Iterator[None]:
    """Let every :class:`Reuse` made inside share its article fingerprints.

    A build hashes each article for its stop key (shortcut.build_key) and again for the
    topic files; the articles are the same objects, not changed in between, so one hash
    serves both. Outside this block each Reuse hashes for itself.
    """
    # One build at a time per process; put back on the way out.
    global _shared
    before = _shared
    _shared = {} if before is None else before
    try:
        yield
    finally:
        _shared = before


# What json.dumps(..., ensure_ascii=False, sort_keys=True, default=str) makes per call,
# made once: 20,000 fingerprints a build spent more on making encoders than on encoding.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)


def _hash(*parts: object) -> str:
    return hashlib.sha256(_ENCODER.encode(parts).encode("utf-8")).hexdigest()


def _folder_hashes(folder: Path) -> list[list[object]]:
    """Return what identifies each entry of a templates folder (any template may include any).

    Only what a template can be is read: a regular file of at most ``MAX_TEMPLATE_BYTES``.
    A larger file, a link or anything else counts by its name, kind and size, unread, so a
    stray backup or a FIFO costs neither memory nor time (and templating refuses to use it).
    """
    from nieuwsbrief.templating import MAX_TEMPLATE_BYTES

    found: list[list[object]] = []
    entries: list[Path] = []
    for top, folders, files in os.walk(folder):  # links to folders are not followed
        folders.sort()
        entries += [Path(top, name) for name in [*folders, *files]]
    for path in sorted(entries):
        name = path.relative_to(folder).as_posix()
        with contextlib.suppress(OSError, ValueError):
            info = path.lstat()
            if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_TEMPLATE_BYTES:
                data = read_bounded(path, MAX_TEMPLATE_BYTES)
                found.append([name, hashlib.sha256(data).hexdigest()])
            elif stat.S_ISLNK(info.st_mode):
                found.append([name, "link", str(path.readlink())])
            elif stat.S_ISDIR(info.st_mode):
                found.append([name, "folder"])
            else:
                found.append([name, stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns])
    return found


def base_fingerprint(settings: Settings) -> str:
    """Return a fingerprint of the code, templates and settings the topic files depend on.

    Deliberately wide: all of the package's code and its dependencies' files (the key the
    article cache uses too), every
    template file and every setting. A fingerprint that missed an input would hand back
    stale bytes; one that changes too often only costs a render.
    """
    from nieuwsbrief.scaffold import TEMPLATES_DIR, skeleton_dir

    return _hash(
        FORMAT,
        __version__,
        code_key(),
        dependencies.fingerprint(),
        _folder_hashes(settings.project_dir / TEMPLATES_DIR),
        _folder_hashes(skeleton_dir() / TEMPLATES_DIR),
        repr(settings),
    )


class Reuse:
    """Fingerprints of the previous build's topic files, and a reader of ``--out``.

    With ``keep`` (a build that stages its files, so ``hand_off`` too), an unchanged
    group's file whose ``lstat`` is the one the cache recorded for it (its ``seen``) is
    kept in place without being read; any other is read back and its hash checked.
    """

    def __init__(
        self,
        settings: Settings,
        read: Read | None,
        hand_off: HandOff | None = None,
        keep: Keep | None = None,
        staged_hash: Callable[[str], str] | None = None,
    ) -> None:
        self.read = read
        # The SHA-256 staging took of a file handed off (StagedFiles.digest): not hashed twice.
        self.staged_hash = staged_hash if hand_off is not None else None
        # A build passes its staged files here: each group's files go there as soon as they
        # exist, so no caller's dict holds them all until the end (see group()).
        self.hand_off = hand_off
        self.keep = keep if hand_off is not None else None
        self.path = settings.project_dir / CACHE_DIR / CACHE_FILE
        self.base = base_fingerprint(settings)
        self.old: dict[str, Any] = {}
        self.new: dict[str, Any] = {}
        # What the last build found of each own file (read back: checked in _seen()).
        self.seen: dict[str, Any] = {}
        self.articles: dict[str, str] = {}
        self.hits = 0
        self.kept = 0
        if read is not None:
            with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
                data = json.loads(read_bounded(self.path).decode("utf-8"))
                if data.get("base") == self.base and isinstance(data.get("groups"), dict):
                    self.old = data["groups"]
                    if isinstance(data.get("seen"), dict):
                        self.seen = data["seen"]

    def article(self, article: Article) -> str:
        """Return the fingerprint of everything an output can show of an article."""
        if _shared is not None:
            shared = _shared.get(id(article))
            if shared is not None and shared[0] is article:
                return shared[1]
        found = self.articles.get(article.source.name)
        if found is None:
            # Every field (the dataclass repr leaves out only the body), and the body's hash.
            found = _hash(
                repr(article),
                hashlib.sha256(article.body.encode("utf-8", "surrogatepass")).hexdigest(),
            )
            self.articles[article.source.name] = found
        if _shared is not None:
            _shared[id(article)] = (article, found)
        return found

    def fingerprint(self, *parts: object, articles: Sequence[Article] = ()) -> str:
        if self.read is None:
            return ""  # Nothing is reused or saved without a reader: skip the hashing.
        # The article fingerprints are fixed-length hex: joined, they need no JSON encoding.
        digest = hashlib.sha256(_hash(self.base, parts).encode())
        digest.update("".join([self.article(article) for article in articles]).encode())
        return digest.hexdigest()

    def get(self, key: str, fingerprint: str, names: Sequence[str]) -> dict[str, bytes] | None:
        """Return the files of ``key`` from ``--out`` if their fingerprint is unchanged.

        ``names`` are the files the group renders: the cache file is read back from disk, so
        an entry listing other names (a damaged or edited cache) is not taken. Files kept in
        place by ``keep`` are not in the dict returned (they are handed off already).
        """
        entry = self.old.get(key)
        if self.read is None or not isinstance(entry, dict) or entry.get("fp") != fingerprint:
            return None
        hashes = entry.get("files")
        if not isinstance(hashes, dict) or sorted(hashes) != sorted(names):
            return None
        files: dict[str, bytes] = {}
        for name in names:
            # The bytes this group's render gave last time: what is in --out now may be
            # another build's (one project built into two folders, a folder restored from
            # a backup), still nieuwsbrief's but not these.
            digest = hashes[name]
            if not isinstance(name, str) or not isinstance(digest, str):
                return None
            if self.keep is not None:
                seen = self._seen(name)
                if seen is not None and seen.sha256 == digest and self.keep(name, seen):
                    self.kept += 1
                    continue
            data = self.read(name)
            if data is None or hashlib.sha256(data).hexdigest() != digest:
                return None
            files[name] = data
        self.new[key] = entry
        self.hits += 1
        return files

    def _seen(self, name: str) -> Seen | None:
        """Return the cache's ``seen`` of ``name`` if it has the form of one; else None."""
        found = self.seen.get(name)
        if (
            isinstance(found, list)
            and len(found) == len(Seen._fields)
            and isinstance(found[0], str)
            and _SHA256.match(found[0])
            and all(type(number) is int for number in found[1:])
        ):
            return Seen(*found)
        return None

    def put(self, key: str, fingerprint: str, files: Mapping[str, bytes]) -> None:
        """Record a group's files by hash; call it after ``hand_off`` (its hashes are reused)."""
        if self.read is None:
            return  # nothing is saved without a reader (see fingerprint())
        digest = self.staged_hash or (lambda name: hashlib.sha256(files[name]).hexdigest())
        self.new[key] = {"fp": fingerprint, "files": {name: digest(name) for name in files}}

    def group(
        self,
        key: str,
        fingerprint: str,
        render: Callable[[], dict[str, bytes]],
        names: Sequence[str],
    ) -> dict[str, bytes]:
        """Return the files ``names`` of ``key``: reused when unchanged, else rendered.

        With ``hand_off``, the files are handed to it instead and an empty dict is returned:
        every caller merges what it gets into the files it returns, and those then hold
        only what did not pass through here.
        """
        found = self.get(key, fingerprint, names)
        rendered = found is None
        if found is None:
            found = render()
        if self.hand_off is not None:
            self.hand_off(found)
        if rendered:
            self.put(key, fingerprint, found)
        return {} if self.hand_off is not None else found

    def save(self, proven: Mapping[str, Seen] | None = None) -> None:
        """Record this build's fingerprints (after it published); never fail a build.

        ``proven`` is what this build found of its own files (OutputFolder.proven_files);
        the next build may keep those of them its groups still name without reading them.
        """
        if self.read is None:
            return
        seen: dict[str, list[object]] = {}
        if proven:
            for entry in self.new.values():
                for name in entry.get("files", ()):
                    found = proven.get(name) if isinstance(name, str) else None
                    if found is not None:
                        seen[name] = list(found)
        data = {"base": self.base, "groups": self.new, "seen": seen}
        temporary: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".topics-")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(json.dumps(data, separators=(",", ":"), sort_keys=True))
            Path(temporary).replace(self.path)
        except (OSError, UnicodeError):
            # A cache that cannot be saved only costs the next build a render.
            if temporary is not None:
                with contextlib.suppress(OSError):
                    Path(temporary).unlink()
