"""Stop early when a build would change nothing: same inputs, same moment, same ``--out``.

After a build that (with the cache on) found every output file already as it would write
it, and removed nothing, this module records in ``.nieuwsbrief-cache/shortcut.json``:

* a key of everything the outputs are rendered from: the package's code and version, every
  template file, every setting (:func:`nieuwsbrief.reuse.base_fingerprint`), every field
  and body of every article (drafts and future ones too), ``--now``, the digest week asked
  for, whether empty feeds are allowed, and the real path of ``--out``;
* the state of ``--out``: the hash of the record's bytes, and the size, modification and
  change times and inode of every file the record lists and of every folder on their way;
* what that build reported: the files with their sizes, the digest week, its warnings.

The next build with the cache on loads and validates the articles as always (so every
article error and warning is still reported), and when the key and the state of ``--out``
are the recorded ones it returns that report without rendering or writing anything: a
full build in that state would render the same bytes, find them in place and write
nothing. The record is saved only after such a confirming build (one that wrote nothing),
so the warnings it replays are the ones a full build gives in that state, not those of the
build that last changed ``--out``. Anything else (a changed article, setting, template or
package, another ``--now``, a touched, removed or replaced output file or folder, a
damaged or foreign shortcut file) means a full build.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nieuwsbrief.articles import Article
from nieuwsbrief.cache import CACHE_DIR, read_bounded
from nieuwsbrief.config import Settings
from nieuwsbrief.output import RECORD_FILE, OutputFolder

SHORTCUT_FILE = "shortcut.json"
FORMAT = 1
MAX_BYTES = 50_000_000


@dataclass
class Report:
    """What the confirming build reported, replayed by a build that stops early."""

    files: dict[str, int]
    digest_week: str | None
    warnings: list[str]


def _hash(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def build_key(
    settings: Settings,
    articles: Sequence[Article],
    out: Path,
    now: dt.datetime,
    digest_week: str | None,
    allow_empty_feeds: bool,
) -> str:
    """Return the key of everything a build's outputs and report are made from."""
    from nieuwsbrief.reuse import Reuse

    fingerprints = Reuse(settings, None)
    return _hash(
        [
            FORMAT,
            fingerprints.base,
            str(out),
            now.isoformat(),
            now.tzname(),
            digest_week,
            allow_empty_feeds,
            [[a.source.name, fingerprints.article(a)] for a in articles],
        ]
    )


def out_state(folder: OutputFolder) -> str | None:
    """Return a fingerprint of ``--out`` as the record sees it; None if it cannot be taken.

    Stats, never reads, the outputs: a file edited, replaced, removed or touched since has
    another size, modification time, change time or inode, and a folder on the way that
    was replaced (by a link, say) another inode.
    """
    out = folder.path
    try:
        info = os.lstat(out / RECORD_FILE)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return None
        record = hashlib.sha256(read_bounded(out / RECORD_FILE, MAX_BYTES)).hexdigest()
        entries: list[list[object]] = []
        folders: set[str] = set()
        for name in sorted(folder.record):
            info = os.lstat(out / name)
            if not stat.S_ISREG(info.st_mode):
                return None
            entries.append(
                [name, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
            )
            parts = name.split("/")[:-1]
            folders.update("/".join(parts[: index + 1]) for index in range(len(parts)))
        for name in sorted(folders):
            info = os.lstat(out / name)
            if not stat.S_ISDIR(info.st_mode):
                return None
            entries.append([name + "/", info.st_ino, info.st_mtime_ns, info.st_ctime_ns])
    except (OSError, ValueError):
        return None
    return _hash([record, entries])


def _path(settings: Settings) -> Path:
    return settings.project_dir / CACHE_DIR / SHORTCUT_FILE


def lookup(settings: Settings, key: str, folder: OutputFolder) -> Report | None:
    """Return the recorded report if ``key`` and the state of ``--out`` are the recorded ones.

    The file is read back from disk, so anything unexpected in it means None (build).
    """
    path = _path(settings)
    try:
        data = json.loads(read_bounded(path, MAX_BYTES).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
        return None
    files, week, warnings = data.get("files"), data.get("digest_week"), data.get("warnings")
    if not (
        isinstance(files, dict)
        and all(
            isinstance(name, str)
            and name in folder.record
            and isinstance(size, int)
            and not isinstance(size, bool)
            and size >= 0
            for name, size in files.items()
        )
        and (week is None or isinstance(week, str))
        and isinstance(warnings, list)
        and all(isinstance(warning, str) for warning in warnings)
    ):
        return None
    state = data.get("state")
    if not isinstance(state, str) or state != out_state(folder):
        return None
    return Report(dict(sorted(files.items())), week, list(warnings))


def save(settings: Settings, key: str, folder: OutputFolder, report: Report) -> None:
    """Record a confirming build's report; never fail a build over it."""
    state = out_state(folder)
    if state is None:
        forget(settings)
        return
    data = {
        "format": FORMAT,
        "key": key,
        "state": state,
        "files": report.files,
        "digest_week": report.digest_week,
        "warnings": report.warnings,
    }
    path = _path(settings)
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".shortcut-")
        with os.fdopen(handle, "wb") as stream:
            stream.write(json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        Path(temporary).replace(path)
        temporary = None
    except (OSError, ValueError):
        pass
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()


def forget(settings: Settings) -> None:
    """Remove the record (a build that changed ``--out`` makes it useless)."""
    with contextlib.suppress(OSError):
        _path(settings).unlink()


def sizes(files: Mapping[str, bytes]) -> dict[str, int]:
    """Return the size of every rendered file, by name, sorted."""
    return {name: len(data) for name, data in sorted(files.items())}
