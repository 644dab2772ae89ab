"""Write a build's files into --out without touching anything nieuwsbrief did not write.

``--out`` may be a website folder that holds other files. nieuwsbrief keeps a record in it
(:data:`RECORD_FILE`: every path it wrote, with the SHA-256 of the bytes it wrote there) and
only ever replaces or removes a file that the record lists and whose bytes still match it.

Each publish is crash-safe. New files are written to a staging folder inside ``--out`` (the
same file system, so a rename is atomic) and flushed to disk; then a journal naming every
rename and removal and the new record is written in one atomic step; then the renames and
removals are applied and the record replaced. A build killed before the journal leaves every
published file old (the next build deletes the staging folder); one killed after it leaves
each file old or new, and the next build finishes the journal before anything else.

A build stages each file as soon as it is rendered (:class:`StagedFiles`) and keeps only its
name, size and hash in memory: a large build's outputs (180 MB at 10,000 articles) are never
all held at once. Staging publishes nothing, so a build that fails while rendering still
leaves every published file as it was; its staging folder is removed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from nieuwsbrief.errors import BuildError

RECORD_FILE = ".nieuwsbrief-written.json"
JOURNAL_FILE = ".nieuwsbrief-journal.json"
STAGING_DIR = ".nieuwsbrief-staging"
RECORD_FORMAT = "nieuwsbrief-written/1"
JOURNAL_FORMAT = "nieuwsbrief-journal/1"
# nieuwsbrief's own bookkeeping; never an output path.
RESERVED_NAMES = frozenset({RECORD_FILE, JOURNAL_FILE, STAGING_DIR, RECORD_FILE + ".tmp"})

# Names a build writes at the top of --out; an --out without a record that holds only these
# (and, below them, only paths a build writes) was written by nieuwsbrief and is adopted.
OUTPUT_NAMES = frozenset(
    {"feed.xml", "atom.xml", "feed.json", "feed.xsl"}
    | {"archive", "digests", "tags", "lists", "related"}
)
# A folder with nieuwsbrief settings is a project: --out pointing there is a mistake. (A
# website's own articles/ folder is fine: nieuwsbrief never writes there.)
PROJECT_NAMES = frozenset({"schedule.yaml"})
_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_FEEDS = (
    r"(?:feed\.xml|atom\.xml|feed\.json|feed\.xsl"
    r"|archive/(?:feed|atom)-\d+\.xml|archive/feed-\d+\.json)"
)
_DIGEST = r"(?:digest\.html|digest\.txt|digest\.eml|email\.html|manifest\.json)"
# Every path a build of this version (or an earlier one) writes: what adoption accepts.
_OUTPUT_PATH = re.compile(
    rf"^(?:{_FEEDS}"
    rf"|tags/index\.json|tags/{_SLUG}/(?:{_FEEDS}|list\.html|list\.json)"
    rf"|lists/all\.(?:html|json)|related/{_SLUG}\.(?:html|json)"
    rf"|digests/index\.html|digests/\d{{4}}-W\d{{2}}/(?:{_SLUG}/)?{_DIGEST})$"
)
OUTPUT_LIST = "feed.xml, atom.xml, feed.json, feed.xsl, archive/, digests/, tags/, lists/, related/"

# 100,000 articles make about 220,000 files (a 28 MB record, a 45 MB journal); the bounds
# leave room for twice that, and a publish that would record more is refused.
MAX_RECORD_BYTES = 128_000_000
MAX_RECORD_ENTRIES = 500_000
MAX_PATH_CHARS = 1024
# The largest file a build stages (one feed page, one list): the bench's largest output is
# 160 kB, the record (written otherwise) at most MAX_RECORD_BYTES. A journal read back names
# each staged file's size, at most this: recovery reads no staged file further than that.
MAX_OUTPUT_FILE_BYTES = 256_000_000
_HASH_CHUNK = 1 << 20
MAX_NAME_BYTES = 255  # one part of a path (NAME_MAX of ext4, XFS, APFS, NTFS in UTF-16 units)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_STAGED_NAME = re.compile(r"^\d{1,6}$")
# A file changed within this many nanoseconds before it was checked may change again
# within the same timestamp tick unseen (git's "racily clean" files): its stat is not
# trusted in a later build.
RACY_MARGIN_NS = 2_000_000_000


class Seen(NamedTuple):
    """An own file as a build found it: the SHA-256 it checked, and its ``lstat`` then."""

    sha256: str
    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

# Named points of a publish. Production passes them by; the crash tests replace
# :func:`_reached` to stop a real build at one of them and kill it there. "mid-write" is
# the first staged file: the build goes on rendering and staging the rest.
STAGES = ("locked", "mid-write", "journaled", "mid-commit", "committed")


def _reached(stage: str) -> None:
    """Mark that a publish reached ``stage`` (one of :data:`STAGES`); does nothing."""


def quote(value: str, limit: int = 60) -> str:
    """Quote a path or value for a message the one way every message does (errors.quote)."""
    from nieuwsbrief import errors

    return errors.quote(value, limit)


def sha256(data: bytes) -> str:
    """Return the hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def lock_path(out: Path) -> Path:
    """Return the lock file that guards ``out`` against two builds at once."""
    return out.parent / f".{out.name}.lock"


@contextlib.contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` or fail at once if another build holds it."""
    import fcntl

    out.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(out)
    refusal = (
        f"the output folder {out}: its build lock {path} is a symbolic link or not a regular file; "
        "remove it (each build creates the lock itself, as a plain file)"
    )
    if path.is_symlink():
        raise BuildError(refusal)
    try:
        # O_NOFOLLOW: a link put there after the check above is refused, never followed.
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise BuildError(refusal) from None
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise BuildError(refusal)
    with os.fdopen(descriptor, "r+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError(
                f"another nieuwsbrief build is running and writing to {out} "
                f"(it holds {path}); wait for it to finish and try again"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _name_bytes(part: str) -> int:
    return len(part.encode("utf-8", "surrogatepass"))


def safe_relative(name: object) -> PurePosixPath:
    """Return ``name`` as a clean relative path inside --out; raise ValueError otherwise."""
    return PurePosixPath(safe_relative_text(name))


def safe_relative_text(name: object) -> str:
    """Return ``name`` if it is a clean relative path inside --out; raise ValueError otherwise.

    A clean name is already in the form ``PurePosixPath(name).as_posix()`` gives (no empty,
    ``.`` or ``..`` part, not absolute): checked as text, it needs no path object (a record
    of 22,000 files is read on every build).
    """
    if not isinstance(name, str) or not name:
        raise ValueError("is not a non-empty text path")
    if len(name) > MAX_PATH_CHARS or _CONTROL.search(name) or "\\" in name:
        raise ValueError(f"{quote(name)} is too long or holds control characters or '\\'")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):  # an absolute name starts with ""
        raise ValueError(f"{quote(name)} is not a plain relative path inside the output folder")
    # A part can be no longer than the name: most names are too short to check part by part.
    if len(name) > MAX_NAME_BYTES // 4 and any(
        len(part) > MAX_NAME_BYTES // 4 and _name_bytes(part) > MAX_NAME_BYTES for part in parts
    ):
        # No file system takes a longer name: a record or journal naming one could never be
        # carried out, and a build would stop on it every time.
        raise ValueError(f"{quote(name)} has a part longer than {MAX_NAME_BYTES} bytes")
    if parts[0] in RESERVED_NAMES:
        raise ValueError(f"{quote(name)} is nieuwsbrief's own bookkeeping file")
    return name


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    # A file (a staged one, where syncfs is missing): a link or FIFO swapped in is neither
    # followed nor waited on. A folder: O_DIRECTORY opens nothing else.
    flags = os.O_RDONLY | (os.O_DIRECTORY if directory else os.O_NOFOLLOW | os.O_NONBLOCK)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_new(
    path: Path, data: bytes | Iterable[bytes], mode: int = 0o666, *, sync: bool = True
) -> None:
    """Create ``path`` (it must not exist), write ``data`` (bytes or chunks) and flush it.

    With ``sync=False`` the caller flushes later (see :func:`_sync_files`).
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(descriptor, "wb") as handle:
        if isinstance(data, bytes):
            handle.write(data)
        else:
            for chunk in data:
                handle.write(chunk)
        handle.flush()
        if sync:
            # Without this a power cut after the rename could leave a renamed but empty file.
            os.fsync(handle.fileno())


def _syncfs(folder: Path) -> bool:
    """Flush the whole file system holding ``folder`` in one call; False where unsupported.

    Linux's ``syncfs(2)`` writes every dirty file of that file system to disk before it
    returns: one call instead of one ``fsync`` per staged file (22,000 in a large cold
    build, most of its publishing time).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return False
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return bool(syncfs(descriptor) == 0)
    finally:
        os.close(descriptor)


# Up to this many files are flushed one by one: syncfs writes every dirty file of the
# whole file system (other programs' too), which a build that changed a few files should
# not wait for; past it, one syncfs is cheaper than thousands of fsyncs.
FSYNC_EACH_UP_TO = 128


def _sync_files(folder: Path, paths: Collection[Path]) -> None:
    """Flush the files at ``paths`` (all inside ``folder``) to disk, then the folder."""
    if len(paths) > FSYNC_EACH_UP_TO and _syncfs(folder):
        paths = ()
    for path in paths:
        _fsync_path(path)
    _fsync_path(folder, directory=True)


def _json_chunks(data: object) -> Iterator[bytes]:
    """Yield ``json.dumps(data, indent=1) + "\\n"`` as UTF-8, in chunks.

    The same encoder, so the same bytes; but a record or journal of 22,000 files is never
    held whole as text (nor as the encoder's list of pieces).
    """
    pieces: list[str] = []
    size = 0
    for piece in json.JSONEncoder(indent=1).iterencode(data):
        pieces.append(piece)
        size += len(piece)
        if size >= 1 << 16:
            yield "".join(pieces).encode("utf-8")
            pieces, size = [], 0
    pieces.append("\n")
    yield "".join(pieces).encode("utf-8")


def _write_atomic(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Replace ``path`` with ``data`` in one rename (a temp file next to it, flushed first)."""
    temp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    _write_new(temp, data)
    temp.replace(path)
    _fsync_path(path.parent, directory=True)


class Blocked(Exception):
    """A path nieuwsbrief wants to write or remove is not its own file."""


def _inside(out: Path, relative: PurePosixPath) -> Path:
    """Return ``out/relative``; raise Blocked if any folder on the way is not a real folder."""
    return Path(_inside_text(str(out), relative.as_posix()))


def _inside_text(out: str, name: str, checked: set[str] | None = None) -> str:
    """Return ``out/name`` as text; raise Blocked if a folder on the way is not a real folder.

    ``name`` is a clean relative path (safe_relative_text). ``checked`` holds folders (as
    relative text) found real by an earlier call of the same step, which are not looked at
    again; each folder found real here is added to it. Joined as text: at 22,000 files a
    build's path objects cost more than its ``lstat`` calls.
    """
    cut = name.find("/")
    while cut > 0:
        way = name[:cut]
        if checked is None or way not in checked:
            current = f"{out}/{way}"
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                # The rest of the way does not exist yet; nothing there can be a link.
                break
            if stat.S_ISLNK(info.st_mode):
                raise Blocked(f"{current} is a symbolic link")
            if not stat.S_ISDIR(info.st_mode):
                raise Blocked(f"{current} is a file where nieuwsbrief needs a folder")
            if checked is not None:
                checked.add(way)
        cut = name.find("/", cut + 1)
    return f"{out}/{name}"


def _current_hash(path: Path | str) -> str | None:
    """Return the SHA-256 of the regular file at ``path``, None if absent; Blocked otherwise.

    A file larger than :data:`MAX_OUTPUT_FILE_BYTES` was not written by nieuwsbrief (no
    build writes one) and is Blocked without reading it: what is in --out is untrusted, and
    a sparse file of a terabyte at an output path would take an hour to hash. The kind and
    size are those of the open descriptor (O_NOFOLLOW, O_NONBLOCK: a link or FIFO swapped
    in after a check is neither followed nor waited on).
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENXIO):  # a link; a socket
            raise Blocked(f"{path} is not a regular file (a folder or a link)") from None
        raise
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise Blocked(f"{path} is not a regular file (a folder or a link)")
        if info.st_size > MAX_OUTPUT_FILE_BYTES:
            raise Blocked(
                f"{path} is larger than any file nieuwsbrief writes "
                f"({MAX_OUTPUT_FILE_BYTES:,} bytes)"
            )
        digest, read = _hash_descriptor(descriptor, MAX_OUTPUT_FILE_BYTES)
        if read > MAX_OUTPUT_FILE_BYTES:
            raise Blocked(f"{path} grew larger than any file nieuwsbrief writes")
        return digest
    finally:
        os.close(descriptor)


def _hash_descriptor(descriptor: int, limit: int) -> tuple[str, int]:
    """Return the SHA-256 of what the descriptor reads and how many bytes that was.

    Reads at most ``limit + 1`` bytes, in chunks: one byte more than a file may hold
    shows a file that grew since its fstat.
    """
    digest = hashlib.sha256()
    read = 0
    while read <= limit:
        chunk = os.read(descriptor, min(limit + 1 - read, _HASH_CHUNK))
        if not chunk:
            break
        digest.update(chunk)
        read += len(chunk)
    return digest.hexdigest(), read


def _read_bounded_json(path: Path, what: str, fix: str) -> Any:
    not_regular = BuildError(f"{path}: {what} is not a regular file; {fix}")
    too_large = BuildError(f"{path}: {what} is larger than {MAX_RECORD_BYTES:,} bytes; {fix}")
    try:
        # The kind and size of what is read, not of what was at the path a moment before:
        # a link or FIFO swapped in is neither followed nor waited on, and a file that
        # grows is read no further than the bound.
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.ENXIO):
                raise not_regular from None
            raise
        with os.fdopen(descriptor, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise not_regular
            if info.st_size > MAX_RECORD_BYTES:
                raise too_large
            raw = handle.read(MAX_RECORD_BYTES + 1)
        if len(raw) > MAX_RECORD_BYTES:
            raise too_large
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except BuildError:
        raise
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise BuildError(f"{path}: {what} is not valid JSON; {fix}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _record_files(data: Any, path: Path, fix: str) -> dict[str, str]:
    """Validate a record's ``files`` mapping (path -> sha256)."""
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        raise BuildError(f"{path}: field 'files' is missing or not a mapping; {fix}")
    if len(files) > MAX_RECORD_ENTRIES:
        raise BuildError(f"{path}: field 'files' lists more than {MAX_RECORD_ENTRIES:,}; {fix}")
    clean: dict[str, str] = {}
    for name, digest in files.items():
        try:
            relative = safe_relative_text(name)
        except ValueError as exc:
            raise BuildError(f"{path}: field 'files': path {exc}; {fix}") from None
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise BuildError(
                f"{path}: field 'files': {quote(name)} has no SHA-256 hex digest; {fix}"
            )
        clean[relative] = digest
    return clean


def _record_fix(out: Path) -> str:
    return (
        f"it is nieuwsbrief's list of the files it wrote in {out}; restore it from a backup, "
        f"or delete it, move nieuwsbrief's old files ({OUTPUT_LIST}) "
        "out of the folder and build again"
    )


def read_record(out: Path) -> dict[str, str] | None:
    """Return the validated record of ``out`` (path -> sha256), or None if it has none."""
    path = out / RECORD_FILE
    if not path.exists() and not path.is_symlink():
        return None
    fix = _record_fix(out)
    data = _read_bounded_json(path, "the record", fix)
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        raise BuildError(f"{path}: field 'format' is not {RECORD_FORMAT!r}; {fix}")
    return _record_files(data, path, fix)


def _record_bytes(files: Mapping[str, str]) -> Iterator[bytes]:
    data = {"format": RECORD_FORMAT, "files": dict(sorted(files.items()))}
    return _json_chunks(data)


@dataclass
class OutputFolder:
    """An --out claimed for one build: its real path and what nieuwsbrief wrote there."""

    path: Path
    record: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    # Own files read back in this build and found as recorded, with their stat signature
    # then: the publish need not hash them again while the signature is unchanged.
    verified: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    # What this build stages; claim() discards it on the way out unless a publish journaled it.
    staged: StagedFiles | None = None
    # Own files whose bytes this build found as recorded (read and hashed, or kept by their
    # Seen of an earlier build), last changed long enough before that a later change
    # cannot hide in the same timestamp: a later build may trust their lstat (keep_own).
    proven: dict[str, Seen] = field(default_factory=dict)
    # Folders of --out found to be real folders (no links) by read_own and keep_own.
    checked_folders: set[str] = field(default_factory=set)

    def stage(self) -> StagedFiles:
        """Return this build's staged files (empty at first): render straight into them."""
        if self.staged is None:
            self.staged = StagedFiles(self)
        return self.staged

    def owns(self, name: str) -> bool:
        """Say whether nieuwsbrief wrote ``name`` (relative to the folder)."""
        return name in self.record

    def read_own(self, name: str, limit: int) -> bytes | None:
        """Return the bytes of an own file if they are still what nieuwsbrief wrote."""
        digest = self.record.get(name)
        if digest is None:
            return None
        try:
            path = _inside_text(
                str(self.path), safe_relative_text(name), self.checked_folders
            )
            # Read once, then hash what was read: what is returned is what was checked.
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(descriptor, "rb") as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode):
                    return None
                data = handle.read(limit + 1)
            if len(data) > limit or sha256(data) != digest:
                return None
            self.verified[name] = _signature(info)
            self._prove(name, digest, info)
            return data
        except (Blocked, ValueError, OSError):
            return None

    def keep_own(self, name: str, seen: Seen) -> bool:
        """Say whether an own file is, by ``lstat`` alone, the one an earlier build checked.

        ``seen`` is what that build found (its ``proven``, read back from a cache, so it is
        checked here like any input): the recorded hash must still be the one it checked,
        every folder on the way a real folder, and the file a regular file with the same
        device, inode, size, modification and change time. Editing, replacing, touching or
        linking the file changes one of them; a file changed within the racy margin before
        it was checked is never in ``proven``. Then the publish keeps it without reading it.
        """
        digest = self.record.get(name)
        if digest is None or seen.sha256 != digest:
            return False
        try:
            # A recorded name is clean: the record's names passed safe_relative_text.
            path = _inside_text(str(self.path), name, self.checked_folders)
            info = os.lstat(path)
        except (Blocked, ValueError, OSError):
            return False
        if not stat.S_ISREG(info.st_mode) or _seen(digest, info) != seen:
            return False
        self.verified[name] = _signature(info)
        self.proven[name] = seen
        return True

    def proven_files(self) -> dict[str, Seen]:
        """Return ``proven`` for the files the record (after a publish) still lists so."""
        return {
            name: seen
            for name, seen in self.proven.items()
            if self.record.get(name) == seen.sha256
        }

    def _prove(self, name: str, digest: str, info: os.stat_result) -> None:
        # The change time, not the modification time: only the kernel sets it.
        if info.st_ctime_ns < _clock() - RACY_MARGIN_NS:
            self.proven[name] = _seen(digest, info)


def _clock() -> int:
    """Return the time now (a function, so a test can move it)."""
    return time.time_ns()


def _seen(digest: str, info: os.stat_result) -> Seen:
    return Seen(
        digest, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns
    )


def _signature(info: os.stat_result) -> tuple[int, int, int, int]:
    """Return what changes when a file is written, replaced or touched."""
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _contains(ancestor: Path, path: Path) -> bool:
    return path == ancestor or ancestor in path.parents


def check_out(out: Path, protect: Iterable[Path] = ()) -> None:
    """Refuse an --out that is a file, a root, or holds (or sits in) the project's sources.

    :func:`claim` checks again; call this early to refuse before doing any work.
    """
    _check_out(Path(os.path.realpath(out.absolute())), protect)


def _check_out(out: Path, protect: Iterable[Path]) -> None:
    if out.parent == out:
        raise BuildError(
            f"the output folder {out} is a file system root; choose a folder such as public"
        )
    for protected in protect:
        real = Path(os.path.realpath(protected.absolute()))
        if _contains(out, real):
            raise BuildError(
                f"the output folder {out} is or contains {real}, part of the project; "
                "nieuwsbrief never "
                "writes over the project's own files: choose a folder outside it or one such "
                "as public inside the project"
            )
        if real.name in ("articles", "templates", ".nieuwsbrief-cache") and _contains(real, out):
            raise BuildError(
                f"the output folder {out} is inside the project's {real.name}/ folder; "
                "choose a folder "
                "such as public in the project"
            )
    if not out.exists():
        return
    if not out.is_dir():
        raise BuildError(
            f"the output folder {out} exists and is not a folder; choose another output folder"
        )
    names = {child.name for child in out.iterdir()}
    if names & PROJECT_NAMES:
        raise BuildError(
            f"the output folder {out} holds schedule.yaml: it looks like a nieuwsbrief project; "
            "choose another folder such as public"
        )


def _adopt_legacy(out: Path) -> dict[str, str]:
    """Return a record for an --out without one: empty, or what an earlier version wrote.

    A folder without any of nieuwsbrief's names starts with an empty record (its files are
    someone else's and stay untouched). A folder holding nothing but nieuwsbrief's names is
    an earlier version's output: its files are adopted. A mix is refused: nobody can tell
    whose ``feed.xml`` that is.
    """
    if not out.exists():
        return {}
    # The journal and staging folder of a killed first build are judged by recover().
    names = {child.name for child in out.iterdir()} - RESERVED_NAMES
    ours = names & OUTPUT_NAMES
    if not ours:
        return {}
    fix = (
        "if they are from an earlier nieuwsbrief build, move them out of the folder and build "
        "again; otherwise choose another output folder"
    )
    if names - OUTPUT_NAMES:
        raise BuildError(
            f"the output folder {out} holds {', '.join(sorted(ours))} "
            "but no record of nieuwsbrief's files "
            f"({RECORD_FILE}) and other files too (such as {quote(min(names - OUTPUT_NAMES))}), "
            f"so nieuwsbrief cannot tell whose they are; {fix}"
        )
    record: dict[str, str] = {}
    for path in sorted(path for name in names for path in [out / name, *(out / name).rglob("*")]):
        relative = path.relative_to(out).as_posix()
        if path.is_symlink() or not (path.is_dir() or path.is_file()):
            raise BuildError(
                f"the output folder {out}: {quote(relative)} is a link or special file; {fix}"
            )
        if path.is_dir():
            continue
        if not _OUTPUT_PATH.match(relative):
            raise BuildError(
                f"the output folder {out} has no record of nieuwsbrief's files ({RECORD_FILE}) "
                "and holds "
                f"{quote(relative)}, which nieuwsbrief never writes; {fix}"
            )
        try:
            digest = _current_hash(path)
        except Blocked as exc:
            raise BuildError(f"the output folder {out}: {exc}; {fix}") from None
        assert digest is not None
        record[relative] = digest
    return record


@contextlib.contextmanager
def _os_errors(out: Path) -> Iterator[None]:
    """Turn a failing file system call into a message that names the folder."""
    try:
        yield
    except OSError as error:
        where = error.filename or out
        raise BuildError(
            f"cannot write the output to {out}: {error.strerror or error} ({where}); "
            "check that the folder is writable and the disk is not full"
        ) from None


@contextlib.contextmanager
def claim(out: Path, protect: Iterable[Path] = ()) -> Iterator[OutputFolder]:
    """Lock ``out`` for one build, finish or clean up a killed build, and read its record.

    ``protect`` names the project's own folders: an ``out`` that is or contains one of them
    is refused. A symlinked ``out`` stays a link; the folder it points to is written. Read
    old output (such as earlier digests) only inside this block.
    """
    out = Path(os.path.realpath(out.absolute()))
    protect = list(protect)
    with contextlib.ExitStack() as stack:
        with _os_errors(out):
            _check_out(out, protect)
            stack.enter_context(build_lock(out))
            _reached("locked")
            _check_out(out, protect)
            recover(out)
            record = read_record(out)
            if record is None:
                record = _adopt_legacy(out)
        folder = OutputFolder(out, record)
        try:
            yield folder
        finally:
            # A build that failed (or found nothing to write) leaves no staging behind.
            if folder.staged is not None:
                folder.staged.discard()


def recover(out: Path) -> None:
    """Finish a publish that was killed after its journal, or drop its staging folder.

    Call it only while holding the lock of ``out``.
    """
    journal_path = out / JOURNAL_FILE
    if journal_path.exists() or journal_path.is_symlink():
        fix = (
            f"it is the plan of a build that was interrupted; delete it and {STAGING_DIR}/ "
            "and build again"
        )
        journal = _read_journal(journal_path, fix)
        record = read_record(out)
        if record is None:
            # Before the first record, the journal may change only what a build would adopt
            # (a folder of nothing but nieuwsbrief's paths); beside anyone else's files it
            # may only fill empty places. A journal is read back from disk: a planted or
            # copied one must not replace or remove a file nieuwsbrief never wrote.
            try:
                record = _adopt_legacy(out)
            except BuildError:
                record = {}
        known = record

        def owns(name: str, digest: str) -> bool:
            # The journal may only change what the record on disk says is nieuwsbrief's.
            return known.get(name) == digest

        try:
            _apply(out, journal, owns, strict=True)
        except OSError as error:
            # What cannot be carried out now will not be next time either: say which file
            # stops it and that deleting the plan is the way out, not only "is it writable".
            where = quote(str(error.filename or out))
            raise BuildError(
                f"{journal_path}: cannot finish the interrupted build it plans: "
                f"{error.strerror or error} ({where}); {fix}"
            ) from None
    _drop_staging(out)


@dataclass
class _Journal:
    record: dict[str, str]
    # staged name, destination, sha256 and size of the new bytes (None: a journal of an
    # earlier version, which named no sizes; read to at most MAX_OUTPUT_FILE_BYTES)
    moves: list[tuple[str, str, str, int | None]]
    removals: list[tuple[str, str]]  # destination, sha256 of the bytes to remove

    def data(self) -> dict[str, Any]:
        """Return the journal as written to disk (what :func:`_read_journal` reads)."""
        return {
            "format": JOURNAL_FORMAT,
            "files": self.record,
            "moves": [
                [staged, destination, size] for staged, destination, _, size in self.moves
            ],
            "remove": [[destination, digest] for destination, digest in self.removals],
        }


def _read_journal(path: Path, fix: str) -> _Journal:
    data = _read_bounded_json(path, "the journal", fix)
    if not isinstance(data, dict) or data.get("format") != JOURNAL_FORMAT:
        raise BuildError(f"{path}: field 'format' is not {JOURNAL_FORMAT!r}; {fix}")
    record = _record_files(data, path, fix)
    moves, removals = data.get("moves"), data.get("remove")
    if not isinstance(moves, list) or not isinstance(removals, list):
        raise BuildError(f"{path}: fields 'moves' and 'remove' must be lists; {fix}")
    checked_moves: list[tuple[str, str, str, int | None]] = []
    for entry in moves:
        if not (
            isinstance(entry, list)
            and len(entry) in (2, 3)  # [staged, destination, size]; earlier builds named no size
            and isinstance(entry[0], str)
            and _STAGED_NAME.match(entry[0])
            and isinstance(entry[1], str)
            and entry[1] in record
        ):
            raise BuildError(f"{path}: field 'moves' has an invalid entry; {fix}")
        size = entry[2] if len(entry) == 3 else None
        if size is not None and not (
            type(size) is int and 0 <= size <= MAX_OUTPUT_FILE_BYTES
        ):
            raise BuildError(
                f"{path}: field 'moves': {quote(entry[1])} has no size from 0 to "
                f"{MAX_OUTPUT_FILE_BYTES:,}; {fix}"
            )
        checked_moves.append((entry[0], entry[1], record[entry[1]], size))
    checked_removals = []
    for entry in removals:
        if not (
            isinstance(entry, list)
            and len(entry) == 2
            and isinstance(entry[1], str)
            and _SHA256.match(entry[1])
        ):
            raise BuildError(f"{path}: field 'remove' has an invalid entry; {fix}")
        try:
            name = safe_relative(entry[0]).as_posix()
        except ValueError as exc:
            raise BuildError(f"{path}: field 'remove': path {exc}; {fix}") from None
        checked_removals.append((name, entry[1]))
    return _Journal(record, checked_moves, checked_removals)


def _drop_staging(out: Path) -> None:
    """Remove the staging folder and what a build staged in it, under numbered names.

    A numbered entry goes whatever it became (a crash or someone may have damaged it: a
    link is removed as a link, never followed). A name a build never stages under (someone's
    notes.txt), or something other than a folder in the folder's place, is not
    nieuwsbrief's: the build stops, naming it, rather than remove it.
    """
    staging = out / STAGING_DIR
    try:
        info = staging.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        raise BuildError(_foreign_in_staging(out, STAGING_DIR))
    with os.scandir(staging) as entries:
        names = sorted(entry.name for entry in entries)
    for name in names:
        if not _STAGED_NAME.match(name):
            raise BuildError(_foreign_in_staging(out, f"{STAGING_DIR}/{name}"))
    for name in names:
        path = staging / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)  # never follows the links it holds
        else:
            path.unlink()
    staging.rmdir()


def _foreign_in_staging(out: Path, name: str) -> str:
    return (
        f"the output folder {out} holds {quote(name)}, which nieuwsbrief never writes: "
        f"{STAGING_DIR}/ is where a build stages its numbered files; move it out of the "
        "way and build again"
    )


def _apply(
    out: Path, journal: _Journal, owns: Callable[[str, str], bool], *, strict: bool = False
) -> dict[str, str]:
    """Carry out a journal: rename staged files into place, remove, write the record.

    Idempotent, so a build killed half-way is finished by running it again. A destination
    is only replaced or removed while it is absent or ``owns(path, sha256)`` says its bytes
    are nieuwsbrief's. A staged file is moved only while it is a regular file of the size
    and SHA-256 the journal names, found reading no further than that size (what is in the
    staging folder is untrusted: see :func:`_sized_hash`). The record written keeps only
    what ``owns`` accepts and the files this journal moved into place (now, or before the
    kill) whose bytes are the ones it names: a forged journal cannot make a foreign file
    nieuwsbrief's, and a move not made leaves no record of bytes that are not there.
    ``strict`` (a journal read back from disk, finished by :func:`recover`): a move not made
    is left to the next build. Otherwise (this build's own journal) it is an error naming
    the file, raised once the journal is finished.
    """
    staging = out / STAGING_DIR
    touched: set[Path] = set()
    placed: set[str] = set()
    missed: list[str] = []
    half = len(journal.moves) // 2
    for index, (staged_name, destination, digest, size) in enumerate(journal.moves):
        if index == half:
            _reached("mid-commit")
        staged = staging / staged_name
        try:
            target = _inside(out, PurePosixPath(destination))
            current = _current_hash(target)
        except Blocked:
            missed.append(destination)
            continue  # someone put something in the way since; the next build says so
        if current == digest:
            # In place already (moved before the kill): nieuwsbrief's, at those bytes.
            placed.add(destination)
            continue
        if _sized_hash(staged, size) != digest:
            # Lost, damaged, or not a regular file of the size named: never read further.
            missed.append(destination)
            continue
        if current is not None and not owns(destination, current):
            missed.append(destination)
            continue
        folder = target.parent
        while not folder.is_dir():
            # A new folder's entry lives in its parent: flush that too.
            touched.add(folder.parent)
            folder = folder.parent
        target.parent.mkdir(parents=True, exist_ok=True)
        staged.replace(target)
        touched.add(target.parent)
        placed.add(destination)
    for destination, digest in journal.removals:
        try:
            target = _inside(out, PurePosixPath(destination))
            if _current_hash(target) != digest or not owns(destination, digest):
                continue
        except Blocked:
            continue
        target.unlink()
        touched.add(target.parent)
        # Remove the folders the file leaves empty (a retracted week's folder), never more.
        folder = target.parent
        while folder != out:
            try:
                folder.rmdir()
            except OSError:
                break
            touched.add(folder.parent)
            folder = folder.parent
    for folder in sorted(touched, key=lambda path: len(path.parts), reverse=True):
        if folder.is_dir():
            _fsync_path(folder, directory=True)
    record: dict[str, str] = {}
    for name, digest in journal.record.items():
        if name in placed or owns(name, digest):
            record[name] = digest
            continue
        # A move that could not be made (its staged file lost or damaged): a file that
        # still holds the bytes the record on disk names stays nieuwsbrief's, at those
        # bytes, so the next build replaces it instead of refusing it as foreign.
        with contextlib.suppress(Blocked, OSError):
            current = _current_hash(_inside(out, PurePosixPath(name)))
            if current is not None and owns(name, current):
                record[name] = current
    _write_atomic(out / RECORD_FILE, _record_bytes(record))
    _reached("committed")
    (out / JOURNAL_FILE).unlink()
    _drop_staging(out)
    _fsync_path(out, directory=True)
    if missed and not strict:
        more = f" (and {len(missed) - 1} more)" if len(missed) > 1 else ""
        raise BuildError(
            f"{out / missed[0]}{more}: its new bytes, staged in {staging}, were changed or "
            "replaced (or the file in its place was) while the build published them; it was "
            "left as it was and the other files were published, build again"
        )
    return record


def publish(
    out: Path, files: Mapping[str, bytes], remove: Iterable[str] = (), protect: Iterable[Path] = ()
) -> None:
    """Write ``files`` into ``out`` and remove the own files named in ``remove``."""
    with claim(out, protect) as folder:
        publish_claimed(folder, files, remove)


class StagedFiles(MutableMapping[str, bytes]):
    """A build's output files by path, each written to the staging folder when it is set.

    Memory holds only each file's size and SHA-256 (and its name in the staging folder), so
    a build never holds all of its outputs at once. A file whose bytes are the ones the
    record lists, and which is still in the output folder, is not staged: nothing is to be
    written for it. Reading a file back (``files[name]``) reads it from the staging folder
    or the output folder and checks its hash. Make it with :func:`staged_files`, which
    removes the staging folder again unless a publish got as far as its journal.
    """

    def __init__(self, folder: OutputFolder) -> None:
        self.folder = folder
        # name -> (size, sha256, name in the staging folder or None when not staged)
        self._entries: dict[str, tuple[int, str, str | None]] = {}
        # staged name -> a hash of its lstat right after it was written (inode, size, times):
        # a staged file changed, replaced or removed since has another (see staged_name).
        self._written: dict[str, int] = {}
        self._staged_count = 0
        self._staging: Path | None = None
        self._made_out = False
        # Set once a publish names these files in its journal: from then on the staging
        # folder belongs to the journal (and to recover() after a crash), never discarded.
        self.journaled = False

    def __setitem__(self, name: str, data: bytes) -> None:
        out = self.folder.path
        try:
            safe_relative(name)
        except ValueError as exc:
            raise BuildError(
                f"refusing to write a path outside the output folder {out}: {exc}"
            ) from None
        if len(data) > MAX_OUTPUT_FILE_BYTES:
            # A journal naming a larger staged file would be refused when read back.
            raise BuildError(
                f"{out / name} would be {len(data):,} bytes, more than the "
                f"{MAX_OUTPUT_FILE_BYTES:,} nieuwsbrief writes in one file; nothing was "
                "published: lower feeds.limit or shorten the longest articles"
            )
        self._unstage(name)
        digest = sha256(data)
        staged = None
        if self.folder.record.get(name) != digest or not os.path.lexists(out / name):
            staged = self._stage(data)
        self._entries[name] = (len(data), digest, staged)

    def __getitem__(self, name: str) -> bytes:
        size, digest, staged = self._entries[name]
        if staged is None:
            data = self.folder.read_own(name, size)
        else:
            data = _read_staged(self.staging_folder() / staged, size)
        if data is None or sha256(data) != digest:
            raise BuildError(
                f"{self.folder.path / name} was changed or removed during the build "
                "(nieuwsbrief had staged or checked it); nothing was published, build again"
            )
        return data

    def keep(self, name: str, seen: Seen) -> bool:
        """Take the own file ``name`` as it is in the output folder, without reading it.

        Only when :meth:`OutputFolder.keep_own` finds it in place as ``seen`` (the bytes
        the record lists): nothing is staged, as when its bytes are set and found in place.
        Return whether it was taken.
        """
        if not self.folder.keep_own(name, seen):
            return False
        self._unstage(name)
        self._entries[name] = (seen.size, seen.sha256, None)
        return True

    def __delitem__(self, name: str) -> None:
        if name not in self._entries:
            raise KeyError(name)
        self._unstage(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries  # without reading the file back

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def sizes(self) -> dict[str, int]:
        """Return the size of every file, by name, sorted (without reading any back)."""
        return {name: entry[0] for name, entry in sorted(self._entries.items())}

    def digest(self, name: str) -> str:
        """Return the SHA-256 of the file staged (or kept) as ``name``."""
        return self._entries[name][1]

    def size(self, name: str) -> int:
        """Return the size in bytes of the file staged (or kept) as ``name``."""
        return self._entries[name][0]

    def hashes(self) -> dict[str, str]:
        """Return the SHA-256 of every file, by name."""
        return {name: entry[1] for name, entry in self._entries.items()}

    def staged_name(self, name: str, mode: int | None = None) -> str | None:
        """Return the name of ``name``'s bytes in the staging folder (None: not staged).

        A publish asks this just before its journal names the staged file: so raise
        BuildError if that file is no longer the regular file this build wrote there (it
        was removed, replaced, or written to since). A journal must never name other bytes
        than the record it carries says, nor a link or a FIFO. ``mode`` (the permission
        bits of the file it replaces) is then set on the file found so: through the
        descriptor that was checked, never by path, so a link or a hard link swapped in at
        that path cannot make nieuwsbrief change the mode of a file it did not write.
        """
        staged = self._entries[name][2]
        if staged is not None and self._staging is not None:
            path = self._staging / staged
            refusal = BuildError(
                f"{self.folder.path / name}: its new bytes, staged in {path}, were changed "
                "or removed during the build (the staging folder is nieuwsbrief's own); "
                "nothing was published, build again"
            )
            if mode is None:
                # Nothing to set: its lstat tells (a new file, most of a cold build's).
                try:
                    info = os.lstat(path)
                except OSError:
                    raise refusal from None
                if _stat_hash(info) != self._written.get(staged):
                    raise refusal
                return staged
            try:
                # O_NOFOLLOW: a link there is refused; O_NONBLOCK: a FIFO cannot block.
                descriptor = os.open(
                    path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
                )
            except OSError:
                raise refusal from None
            try:
                if _stat_hash(os.fstat(descriptor)) != self._written.get(staged):
                    raise refusal
                os.fchmod(descriptor, mode)
                # The mode and change time are this build's own doing.
                self._written[staged] = _stat_hash(os.fstat(descriptor))
            finally:
                os.close(descriptor)
        return staged

    def staging_folder(self) -> Path:
        """Return the staging folder, creating it (and the output folder) on first use."""
        if self._staging is None:
            out = self.folder.path
            with _os_errors(out):
                if not out.is_dir():
                    out.mkdir(parents=True)
                    self._made_out = True
                    _fsync_path(out.parent, directory=True)
                # recover() dropped any staging folder when the folder was claimed.
                _drop_staging(out)
                (out / STAGING_DIR).mkdir()
            self._staging = out / STAGING_DIR
        return self._staging

    def discard(self) -> None:
        """Remove what staging made, unless a publish journaled it (recover() finishes that).

        An output folder this build created is removed again when it is left empty, so a
        failed first build leaves nothing behind.
        """
        if self.journaled or self._staging is None:
            return
        out = self.folder.path
        with _os_errors(out):
            _drop_staging(out)
            self._staging = None
            if self._made_out:
                with contextlib.suppress(OSError):
                    out.rmdir()  # only while empty

    def _stage(self, data: bytes) -> str:
        staging = self.staging_folder()
        staged = f"{self._staged_count:06d}"
        self._staged_count += 1
        with _os_errors(self.folder.path):
            # Flushed all at once before the journal names it (see _sync_files).
            _write_new(staging / staged, data, sync=False)
            self._written[staged] = _stat_hash(os.lstat(staging / staged))
        if self._staged_count == 1:
            _reached("mid-write")
        return staged

    def _unstage(self, name: str) -> None:
        entry = self._entries.pop(name, None)
        if entry is not None and entry[2] is not None and self._staging is not None:
            self._written.pop(entry[2], None)
            with contextlib.suppress(FileNotFoundError):
                (self._staging / entry[2]).unlink()


def _stat_hash(info: os.stat_result) -> int:
    """Return a hash of what changes when a file is written, replaced or touched (and its kind)."""
    return hash((info.st_mode, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns))


def _read_staged(path: Path, size: int) -> bytes | None:
    """Return the bytes of a staged file if it is a regular file of ``size`` bytes."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            data = handle.read(size + 1)
    except OSError:
        return None
    return data if len(data) == size else None


def _sized_hash(path: Path, size: int | None) -> str | None:
    """Return the SHA-256 of the file at ``path`` if it is a regular file of ``size`` bytes.

    ``size`` None (a journal of an earlier version, which named no sizes): of at most
    :data:`MAX_OUTPUT_FILE_BYTES`. None for anything else (absent, a link, a FIFO, a
    folder, another size), found without reading more than ``size + 1`` bytes: a journal
    read back names the staged files, but what is at those names is untrusted (a sparse
    3 GB file there was read whole).
    O_NOFOLLOW refuses a link and O_NONBLOCK keeps a FIFO from blocking the open; the fstat
    of the open descriptor is of the very file read, and its size is checked before reading.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            return None
        if size is None and info.st_size <= MAX_OUTPUT_FILE_BYTES:
            size = info.st_size
        if info.st_size != size:
            return None
        digest, read = _hash_descriptor(descriptor, size)
        return digest if read == size else None
    except OSError:
        return None
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def staged_files(folder: OutputFolder) -> Iterator[StagedFiles]:
    """Yield an empty :class:`StagedFiles` for ``folder``; remove its staging when done.

    Whatever happens inside (a render error, a refused publish, an interrupt), the staging
    folder goes unless a publish journaled it: the published files were never touched.
    """
    files = StagedFiles(folder)
    try:
        yield files
    finally:
        files.discard()


def publish_claimed(
    folder: OutputFolder, files: Mapping[str, bytes], remove: Iterable[str] = ()
) -> bool:
    """Do what :func:`publish` does, for a folder yielded by :func:`claim`.

    Every other file nieuwsbrief wrote earlier stays as it is, and stays recorded. A path
    that holds a file nieuwsbrief did not write, or one changed since it wrote it, stops the
    publish before anything is written. Return False when the folder already held every
    file as given and nothing was written, removed or recorded anew. ``files`` may be the
    :class:`StagedFiles` of ``folder``: then the bytes are staged already.
    """
    if isinstance(files, StagedFiles) and files.folder is folder:
        return _publish_staged(files, remove)
    with staged_files(folder) as staged:
        staged.update(files)
        return _publish_staged(staged, remove)


def _publish_staged(staged: StagedFiles, remove: Iterable[str]) -> bool:
    folder = staged.folder
    out = folder.path
    try:
        removals = sorted({safe_relative(name).as_posix() for name in remove} - set(staged))
    except ValueError as exc:
        raise BuildError(
            f"refusing to write a path outside the output folder {out}: {exc}"
        ) from None
    with _os_errors(out):
        hashes = staged.hashes()
        changes, plan_removals = _plan(folder, hashes, removals)
        record = dict(folder.record)
        for name in plan_removals:
            record.pop(name, None)
        for name in list(record):
            # Forget what is gone (deleted by hand): its path is nobody's now.
            if name not in hashes and not os.path.lexists(out / name):
                del record[name]
        record.update(hashes)
        if len(record) > MAX_RECORD_ENTRIES:
            # Its record could not be read back: every later build would be refused.
            raise BuildError(
                f"the output folder {out}: this build would record {len(record):,} files, "
                f"more than the {MAX_RECORD_ENTRIES:,} nieuwsbrief reads back; nothing was "
                "written. Split the project, or give the topics fewer related lists"
            )
        # An adopted folder (no record on disk yet) gets its record even when no byte changes.
        unchanged = not changes and not plan_removals and record == folder.record
        if unchanged and out.is_dir() and (out / RECORD_FILE).is_file():
            return False
        staging = staged.staging_folder()
        moves = []
        for name, mode in changes:
            staged_name = staged.staged_name(name, mode)
            if staged_name is None:
                # Its bytes were in place when rendered; someone removed the file since.
                raise BuildError(
                    f"{out / name} was removed from the output folder during the build; "
                    "nothing was published, build again"
                )
            moves.append([staged_name, name])
        # Every staged file is on disk before the journal names it.
        outputs = {str(staging / staged_name): name for staged_name, name in moves}
        try:
            _sync_files(staging, [Path(path) for path in outputs])
        except OSError as error:
            moved = outputs.get(str(error.filename))
            if moved is None or error.errno not in (errno.ELOOP, errno.ENXIO, errno.ENOENT):
                raise
            # A link, FIFO or nothing where nieuwsbrief staged a file: neither followed nor
            # waited on (a few files are flushed one by one, see FSYNC_EACH_UP_TO).
            raise BuildError(
                f"{out / moved}: its new bytes, staged in {error.filename}, were changed or "
                "removed during the build (the staging folder is nieuwsbrief's own); nothing "
                "was published, build again"
            ) from None
        journal = _Journal(
            dict(sorted(record.items())),
            [
                (staged_name, name, record[name], staged.size(name))
                for staged_name, name in moves
            ],
            [(name, folder.record[name]) for name in plan_removals],
        )
        _write_new(staging / "journal", _json_chunks(journal.data()))
        staged.journaled = True
        (staging / "journal").replace(out / JOURNAL_FILE)
        _fsync_path(out, directory=True)
        _reached("journaled")
        # The journal as written (recover() reads it back from disk; this build knows it).
        folder.record = _apply(
            out, journal, lambda name, digest: folder.record.get(name) == digest
        )
    return True


def _known_hash(folder: OutputFolder, name: str, path: str) -> str | None:
    """Return the hash of an output, trusting this build's check of it while unchanged."""
    seen = folder.verified.get(name)
    if seen is not None:
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return None
        if stat.S_ISREG(info.st_mode) and _signature(info) == seen:
            return folder.record[name]
    return _current_hash(path)


def _plan(
    folder: OutputFolder, targets: Mapping[str, str], removals: Iterable[str]
) -> tuple[list[tuple[str, int | None]], list[str]]:
    """Return the files to (re)write with the mode to keep, and the own files to remove.

    ``targets`` maps each path to the SHA-256 of its new bytes. Raise BuildError naming the
    first path that is not nieuwsbrief's to change.
    """
    out = folder.path
    blocked: list[str] = []
    changes: list[tuple[str, int | None]] = []
    # Each folder on the way is looked at once in this plan, not once per file in it.
    checked: set[str] = set()
    for name, digest in sorted(targets.items()):
        try:
            path = _inside_text(str(out), name, checked)
            if name not in folder.record and os.path.lexists(path):
                blocked.append(f"{quote(name)} exists but nieuwsbrief did not write it")
                continue
            current = _known_hash(folder, name, path)
        except Blocked as exc:
            blocked.append(f"{exc}, where nieuwsbrief writes {quote(name)}")
            continue
        if current is None:
            changes.append((name, None))
            continue
        if current != folder.record[name]:
            blocked.append(f"{quote(name)} was changed since nieuwsbrief wrote it")
            continue
        if current != digest:
            changes.append((name, stat.S_IMODE(Path(path).stat().st_mode)))
    planned: list[str] = []
    for name in removals:
        if name not in folder.record:
            continue  # never remove what nieuwsbrief did not write
        try:
            current = _current_hash(_inside_text(str(out), name, checked))
        except Blocked as exc:
            blocked.append(f"{exc}, where nieuwsbrief would remove {quote(name)}")
            continue
        if current is not None and current != folder.record[name]:
            blocked.append(
                f"{quote(name)} was changed since nieuwsbrief wrote it and is to be removed"
            )
            continue
        planned.append(name)
    if blocked:
        more = f" (and {len(blocked) - 1} more)" if len(blocked) > 1 else ""
        raise BuildError(
            f"the output folder {out}: {blocked[0]}{more}; "
            "nieuwsbrief never overwrites or removes a file "
            f"it did not write (its record {RECORD_FILE} lists those it did): move that file "
            "elsewhere (or restore nieuwsbrief's version) "
            "and build again, or choose another output folder"
        )
    return changes, planned


def written_hash(out: Path, name: str) -> str | None:
    """Return the SHA-256 the record of ``out`` lists for ``name`` (a path inside ``out``).

    None when ``out`` has no record or the record does not list ``name``: nieuwsbrief did
    not write that file (or its record is gone). A broken record raises :class:`BuildError`.
    """
    record = read_record(out)
    return None if record is None else record.get(name)
