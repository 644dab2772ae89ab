"""Stop early when a build would change nothing: same inputs, same moment, same ``--out``.

After a build that (with the cache on) found every output file already as it would write
it, and removed nothing, this module records in ``.nieuwsbrief-cache/shortcut.json``:

* a key of everything the outputs are rendered from: the package's code and version, every
  template file, every setting (:func:`nieuwsbrief.reuse.base_fingerprint`), every field
  and body of every article (drafts and future ones too), ``--now``, the digest week asked
  for, whether empty feeds are allowed, and the real path of ``--out``;
* the state of ``--out``: the hash of the record's bytes, and the size, modification and
  change times and inode of every file the record lists and of every folder on their way;
* what that build reported: the files with their sizes, the digest week, its warnings;
* the stat signature of every input (see below), with what the loading of the articles
  reported: the site's warnings and the published, draft and scheduled articles.

Two ways to stop, both ending in the same report:

* **By stat, before anything is loaded** (:func:`take_inputs`, :func:`replay`). The
  signature is what ``lstat`` says of every input, taken at the start of the confirming
  build before any of it was read: ``schedule.yaml``, every entry of the articles folder
  (name, kind, size, modification and change times, inode; a link also its target and
  what it leads to), the article cache file, every entry of the project's and the
  default templates folders, every file of the package, and what is not a file (the
  package and Python versions, the project and ``--out`` paths, ``--now``, the digest
  week, whether empty feeds are allowed). When the signature and the state of ``--out``
  are the recorded ones, the recorded report is returned without reading an article:
  no YAML, Markdown or template module is even imported.
* **By key, after loading** (:func:`build_key`, :func:`lookup`): the articles are loaded
  and validated as always; when the key and the state of ``--out`` are the recorded ones
  the recorded report is returned without rendering or writing.

Racily clean files (git's name for the problem): a file changed twice within the
granularity of its file system's timestamps can keep its size and times. So a signature
is recorded only when every input it covers was last modified or changed (``st_mtime``,
``st_ctime``) at least ``RACY_MARGIN_NS`` (2 s, the coarsest common granularity, FAT's)
before the signature was taken, and every output at least that long before the state of
``--out`` was; otherwise the next build takes the full path, and if that one writes
nothing it records the signature then. A file edited later than that moment has newer
times, so it cannot go unseen.

The file starts with the SHA-256 of the bytes after it: a damaged file (a flipped byte, a
cut-off write, an edit by hand) is never replayed. One forged with a right checksum is
validated field by field (the default templates folder must be one of the package's, the
articles must lie in the articles folder); at worst it replays a wrong report, never a
byte into ``--out``: a stopped build writes nothing.

The record is saved only after a confirming build (one that wrote nothing), so the
warnings it replays are the ones a full build gives in that state, not those of the build
that last changed ``--out``. Anything else (a changed article, setting, template or
package, another ``--now``, a touched, removed or replaced output file or folder, a
damaged or foreign shortcut file) means a full build.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

from nieuwsbrief import __version__, dependencies
from nieuwsbrief.errors import MAX_YEAR, MIN_YEAR
from nieuwsbrief.output import RECORD_FILE, OutputFolder

if TYPE_CHECKING:
    from nieuwsbrief.articles import Article
    from nieuwsbrief.config import Settings

SHORTCUT_FILE = "shortcut.json"
FORMAT = 3
# The file starts with the SHA-256 of the bytes after it: damage anywhere (a flipped byte, a
# cut-off write, a hand edit) means a full build, never a replayed report it did not say.
_CHECK_HEAD = b'{"check":"'
_CHECK_END = len(_CHECK_HEAD) + 64 + 2
MAX_BYTES = 50_000_000
# Inputs (and outputs) modified or changed less than this before their stat was taken are
# not trusted: a second change within the file system's timestamp granularity could hide.
RACY_MARGIN_NS = 2_000_000_000
# The project's layout, spelled here rather than imported: the modules that own these names
# (articles, config, cache) import YAML and Markdown, which a stopped build never needs.
# tests/test_shortcut_stat.py checks that they agree.
ARTICLES_DIR = "articles"
TEMPLATES_DIR = "templates"
SETTINGS_FILE = "schedule.yaml"
CACHE_DIR = ".nieuwsbrief-cache"
ARTICLE_CACHE_FILE = "articles.json"
_WEEK = re.compile(r"^\d{4}-W\d{2}$")


@dataclass
class Report:
    """What the confirming build reported, replayed by a build that stops early."""

    files: dict[str, int]
    digest_week: str | None
    warnings: list[str]


class Listed(Protocol):
    """What a build's report tells of an article: an Article, or one replayed from a record."""

    @property
    def source(self) -> Path: ...
    @property
    def slug(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def date(self) -> dt.datetime: ...
    @property
    def draft(self) -> bool: ...


@dataclass(frozen=True)
class Recorded:
    """An article as a stopped build reports it, read back from the record."""

    source_text: str
    slug: str
    title: str
    date: dt.datetime
    draft: bool

    @property
    def source(self) -> Path:
        # Made when asked for: a report of 10,000 articles is mostly only counted.
        return Path(self.source_text)


@dataclass
class Loaded:
    """What loading the articles reported, recorded so a stopped build can say it again."""

    warnings: list[str]
    published: Sequence[Listed]
    drafts: Sequence[Listed]
    scheduled: Sequence[Listed]


@dataclass
class Replay:
    """The whole report of a build stopped by stat: the build's and the loading's."""

    report: Report
    loaded: Loaded


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


def _read_bounded(path: Path) -> bytes:
    """Read a regular file (not a link) of at most ``MAX_BYTES``; never block on a FIFO.

    The same rules as :func:`nieuwsbrief.cache.read_bounded`, which a stopped build does
    not import (its module imports the article loader).
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            raise ValueError("not a regular file of bounded size")
        with os.fdopen(os.dup(descriptor), "rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    finally:
        os.close(descriptor)
    if len(data) > MAX_BYTES:
        raise ValueError("too large")
    return data


@dataclass
class _OutState:
    fingerprint: str
    newest_ns: int  # the newest modification or change time of a file
    sizes: dict[str, int]


def _out_entries(folder: OutputFolder) -> _OutState | None:
    """Return a fingerprint of ``--out`` as the record sees it, its newest time and sizes.

    Stats, never reads, the outputs (only the record itself is read and hashed): a file
    edited, replaced, removed or touched since has another size, modification time, change
    time or inode, and a folder on the way that was replaced (by a link, say) another inode.
    Paths are joined as text: 22,000 pathlib joins cost more than the stats.
    """
    out = str(folder.path)
    newest = 0
    sizes: dict[str, int] = {}
    try:
        record = hashlib.sha256(_read_bounded(folder.path / RECORD_FILE)).hexdigest()
        # One line of text per entry: recorded names hold no control characters (output.py
        # refuses them), so a tab and a line break separate unambiguously.
        entries: list[str] = [record]
        folders: set[str] = set()
        for name in sorted(folder.record):
            info = os.lstat(f"{out}/{name}")
            if not stat.S_ISREG(info.st_mode):
                return None
            entries.append(
                f"{name}\t{info.st_size}\t{info.st_mtime_ns}\t{info.st_ctime_ns}\t{info.st_ino}"
            )
            sizes[name] = info.st_size
            newest = max(newest, info.st_mtime_ns, info.st_ctime_ns)
            cut = name.rfind("/")
            while cut > 0 and name[:cut] not in folders:
                folders.add(name[:cut])
                cut = name.rfind("/", 0, cut)
        for name in sorted(folders):
            info = os.lstat(f"{out}/{name}")
            if not stat.S_ISDIR(info.st_mode):
                return None
            entries.append(f"{name}/\t{info.st_ino}\t{info.st_mtime_ns}\t{info.st_ctime_ns}")
    except (OSError, ValueError):
        return None
    fingerprint = hashlib.sha256("\n".join(entries).encode("utf-8", "surrogatepass"))
    return _OutState(fingerprint.hexdigest(), newest, sizes)


def out_state(folder: OutputFolder) -> str | None:
    """Return a fingerprint of ``--out`` as the record sees it; None if it cannot be taken."""
    found = _out_entries(folder)
    return found.fingerprint if found is not None else None


# --- The stat signature of the inputs ------------------------------------------------


class _Signature:
    """What ``lstat`` says of a build's inputs, and the newest time among them."""

    def __init__(self) -> None:
        # One line of text per entry; names are written with repr, so any character in
        # them (a line break included) stays unambiguous.
        self.rows: list[str] = []
        self.newest = 0

    def entry(self, path: str, name: str) -> None:
        """Add one entry: its kind, size, times and inode; a link also where it leads."""
        try:
            info = os.lstat(path)
        except OSError as error:
            self.rows.append(f"{name!r} missing {error.errno}")
            return
        self.rows.append(f"{name!r} {self._fields(info)}")
        if stat.S_ISLNK(info.st_mode):
            # The loader follows links (inside the project): what they lead to counts too.
            try:
                target = os.readlink(path)  # noqa: PTH115
                self.rows.append(f"{name!r} -> {target!r} {os.path.realpath(path)!r}")
                self.rows.append(f"{name!r} => {self._fields(os.stat(path))}")  # noqa: PTH116
            except OSError as error:
                self.rows.append(f"{name!r} => error {error.errno}")

    def _fields(self, info: os.stat_result) -> str:
        if stat.S_ISDIR(info.st_mode):
            # A folder's times change with its entries, which are listed themselves.
            return f"{info.st_mode} {info.st_ino} {info.st_dev}"
        newest = info.st_mtime_ns if info.st_mtime_ns > info.st_ctime_ns else info.st_ctime_ns
        if newest > self.newest:
            self.newest = newest
        return (
            f"{info.st_mode} {info.st_size} {info.st_mtime_ns} {info.st_ctime_ns} "
            f"{info.st_ino} {info.st_dev}"
        )

    def listing(self, folder: Path, name: str) -> None:
        """Add every entry of a folder but hidden ones (the loader never reads those).

        Paths are joined as text: at 10,000 articles pathlib would cost more than the stats.
        """
        self.entry(str(folder), name)
        try:
            entries = sorted(entry.name for entry in os.scandir(folder))
        except OSError as error:
            self.rows.append(f"{name!r} unlisted {error.errno}")
            return
        for entry in entries:
            if not entry.startswith("."):
                self.entry(f"{folder}/{entry}", f"{name}/{entry}")

    def tree(self, folder: Path, name: str, skip: frozenset[str] = frozenset()) -> None:
        """Add every entry of a folder and its subfolders (links to folders not followed)."""
        self.entry(str(folder), name)
        found: list[Path] = []
        for top, folders, files in os.walk(folder):
            folders[:] = sorted(entry for entry in folders if entry not in skip)
            found += [Path(top, entry) for entry in [*folders, *files]]
        for path in sorted(found):
            self.entry(str(path), f"{name}/{path.relative_to(folder).as_posix()}")


def _package_dir() -> Path:
    return Path(__file__).resolve().parent


def _skeleton_candidates() -> tuple[str, ...]:
    """Return the folders ``templating.skeleton_dir`` can find the default templates in.

    Spelled here (the package's ``skeleton/`` or the source checkout's top level) so that a
    stopped build imports no settings module; only one of these is taken from the record.
    """
    package = Path(__file__).parent
    return tuple(
        str(folder / TEMPLATES_DIR)
        for folder in (package / "skeleton", _package_dir() / "skeleton", _package_dir().parents[1])
    )


@dataclass
class Inputs:
    """The stat signature of a build's inputs, taken before any of them is read."""

    signature: str
    # When it was taken, and the newest modification or change time it saw.
    taken_ns: int
    newest_ns: int
    skeleton: str
    recorded: dict[str, Any] | None
    # The articles folder as the loader names it: every recorded source lies inside.
    articles: str

    def trusted(self) -> bool:
        """Return whether no input changed so recently that a later change could hide."""
        return self.newest_ns < self.taken_ns - RACY_MARGIN_NS

    def as_recorded(self) -> bool:
        """Return whether the record holds this very signature (then :func:`replay` decides)."""
        stop = self.recorded.get("stop") if self.recorded is not None else None
        return isinstance(stop, dict) and stop.get("inputs") == self.signature


def _now(moment: dt.datetime) -> list[object]:
    return [moment.isoformat(), moment.tzname(), repr(moment.tzinfo)]


def take_inputs(
    project: Path,
    out: Path,
    now: dt.datetime,
    digest_week: str | None,
    allow_empty_feeds: bool,
) -> Inputs:
    """Stat every input of a build of ``project`` into ``out``; only the shortcut file is read.

    The default templates' folder is the one the record names: finding it anew imports the
    settings module (and YAML). A record that names another folder than the build finds
    is not saved (:func:`save`), so a stale name only costs a full build.
    """
    recorded = _read_record(project)
    skeleton = recorded.get("skeleton") if recorded is not None else None
    if skeleton not in _skeleton_candidates():
        # Any other folder (the file system's root, say) would be walked: never taken.
        from nieuwsbrief.templating import skeleton_dir

        skeleton = str(skeleton_dir() / TEMPLATES_DIR)
    taken = _clock()
    found = _Signature()
    found.entry(str(project / SETTINGS_FILE), SETTINGS_FILE)
    found.listing(project / ARTICLES_DIR, ARTICLES_DIR)
    found.entry(str(project / CACHE_DIR / ARTICLE_CACHE_FILE), ARTICLE_CACHE_FILE)
    found.tree(project / TEMPLATES_DIR, TEMPLATES_DIR)
    found.tree(Path(skeleton), "default templates")
    found.tree(_package_dir(), "package", frozenset({"__pycache__"}))
    for name, origin in dependencies.module_files():
        found.entry(origin, f"dependency {name}")
    signature = _hash(
        [
            FORMAT,
            __version__,
            sys.implementation.name,
            sys.version,
            str(project),
            os.path.realpath(project.absolute()),
            skeleton,
            os.path.realpath(out.absolute()),
            _now(now),
            digest_week,
            allow_empty_feeds,
            hashlib.sha256("\n".join(found.rows).encode("utf-8", "surrogatepass")).hexdigest(),
        ]
    )
    return Inputs(signature, taken, found.newest, skeleton, recorded, str(project / ARTICLES_DIR))


def _clock() -> int:
    """Return the time a signature is taken (a function, so a test can move it)."""
    return time.time_ns()


def _listed_rows(articles: Sequence[Listed]) -> list[list[object]]:
    return [[str(a.source), a.slug, a.title, a.date.isoformat(), a.draft] for a in articles]


def _read_listed(rows: object, articles: str) -> list[Listed] | None:
    """Return the articles of a record's list, or None unless each is one loading could give.

    ``articles`` is the articles folder, ending in a slash: every source is in it.
    """
    if not isinstance(rows, list):
        return None
    found: list[Listed] = []
    for row in rows:
        if not (
            isinstance(row, list)
            and len(row) == 5
            and all(isinstance(part, str) for part in row[:4])
            and isinstance(row[4], bool)
            and row[0].startswith(articles)
        ):
            return None
        try:
            date = dt.datetime.fromisoformat(row[3])
        except ValueError:
            return None
        # The loader's bounds: a year past them cannot be shown in another time zone.
        if date.tzinfo is None or not MIN_YEAR <= date.year <= MAX_YEAR:
            return None
        found.append(Recorded(row[0], row[1], row[2], date, row[4]))
    return found


def _strings(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _read_report(data: Mapping[str, Any], folder: OutputFolder) -> Report | None:
    """Return the report of a record read back from disk, or None if anything is off."""
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
        and (week is None or (isinstance(week, str) and _WEEK.match(week) is not None))
        and _strings(warnings)
    ):
        return None
    return Report(dict(sorted(files.items())), week, list(warnings))


def replay(inputs: Inputs, folder: OutputFolder) -> Replay | None:
    """Return the recorded report if the inputs and ``--out`` are as the record found them.

    Call it holding the claim of ``--out``. Nothing but the record and the shortcut file is
    read; anything unexpected in the latter (it is read back from disk) means None (build).
    """
    data = inputs.recorded
    stop = data.get("stop") if data is not None else None
    if data is None or not isinstance(stop, dict) or not inputs.as_recorded():
        return None
    report = _read_report(data, folder)
    warnings = stop.get("warnings")
    lists = [
        _read_listed(stop.get(part), f"{inputs.articles}/")
        for part in ("published", "drafts", "scheduled")
    ]
    if report is None or not _strings(warnings):
        return None
    published, drafts, scheduled = lists
    if published is None or drafts is None or scheduled is None:
        return None
    if not _in_place(data, report, folder):
        return None
    return Replay(report, Loaded(list(warnings), published, drafts, scheduled))


# --- The record -------------------------------------------------------------------------


def _path_in(project: Path) -> Path:
    return project / CACHE_DIR / SHORTCUT_FILE


def _path(settings: Settings) -> Path:
    return _path_in(settings.project_dir)


def _read_record(project: Path) -> dict[str, Any] | None:
    """Return the shortcut file of ``project`` if it is whole, a JSON object of this format."""
    try:
        raw = _read_bounded(_path_in(project))
        check, rest = raw[len(_CHECK_HEAD) : _CHECK_END], raw[_CHECK_END:]
        if not raw.startswith(_CHECK_HEAD) or check != f'{sha256(rest).hexdigest()}",'.encode():
            return None
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return data


def _record_bytes(data: Mapping[str, Any]) -> bytes:
    """Return ``data`` as the shortcut file holds it: JSON led by the hash of what follows."""
    body = json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")
    rest = body[1:]  # after the "{": data is never empty (it holds "format")
    return _CHECK_HEAD + f'{hashlib.sha256(rest).hexdigest()}",'.encode() + rest


def lookup(settings: Settings, key: str, folder: OutputFolder) -> Report | None:
    """Return the recorded report if ``key`` and the state of ``--out`` are the recorded ones.

    The file is read back from disk, so anything unexpected in it means None (build).
    """
    data = _read_record(settings.project_dir)
    if data is None or data.get("key") != key:
        return None
    report = _read_report(data, folder)
    if report is None or not _in_place(data, report, folder):
        return None
    return report


def _in_place(data: Mapping[str, Any], report: Report, folder: OutputFolder) -> bool:
    """Return whether ``--out`` is as recorded, and holds the files reported at their sizes.

    The sizes reported are checked against ``--out``: a forged report has to get them right.
    """
    found = _out_entries(folder)
    return (
        found is not None
        and data.get("state") == found.fingerprint
        and all(found.sizes[name] == size for name, size in report.files.items())
    )


def save(
    settings: Settings,
    key: str,
    folder: OutputFolder,
    report: Report,
    inputs: Inputs | None = None,
    loaded: Loaded | None = None,
) -> None:
    """Record a confirming build's report; never fail a build over it.

    With ``inputs`` (taken at the start of this build) and what loading the articles
    reported, the stat signature is recorded too, unless an input or output changed so
    recently that it cannot be trusted (see the module's notes on racily clean files).
    """
    found = _out_entries(folder)
    if found is None:
        forget(settings)
        return
    state, newest_out = found.fingerprint, found.newest_ns
    data: dict[str, Any] = {
        "format": FORMAT,
        "key": key,
        "state": state,
        "files": report.files,
        "digest_week": report.digest_week,
        "warnings": report.warnings,
    }
    if inputs is not None and loaded is not None and _stoppable(inputs, newest_out):
        data["skeleton"] = inputs.skeleton
        data["stop"] = {
            "inputs": inputs.signature,
            "warnings": loaded.warnings,
            "published": _listed_rows(loaded.published),
            "drafts": _listed_rows(loaded.drafts),
            "scheduled": _listed_rows(loaded.scheduled),
        }
    path = _path(settings)
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".shortcut-")
        with os.fdopen(handle, "wb") as stream:
            stream.write(_record_bytes(data))
        Path(temporary).replace(path)
        temporary = None
    except (OSError, ValueError):
        pass
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()


def _stoppable(inputs: Inputs, newest_out: int) -> bool:
    """Return whether a signature may be recorded: old enough, and of the real templates."""
    from nieuwsbrief.templating import skeleton_dir

    return (
        inputs.trusted()
        and newest_out < _clock() - RACY_MARGIN_NS
        and inputs.skeleton == str(skeleton_dir() / TEMPLATES_DIR)
    )


def worth_recording(inputs: Inputs | None) -> bool:
    """Return whether a build that stopped by key should record its stat signature.

    True when the record has none for these inputs (it was taken too soon after a change,
    or an input was touched without changing) and they can be trusted now.
    """
    return inputs is not None and inputs.trusted() and not inputs.as_recorded()


def forget(settings: Settings) -> None:
    """Remove the record (a build that changed ``--out`` makes it useless)."""
    with contextlib.suppress(OSError):
        _path(settings).unlink()
