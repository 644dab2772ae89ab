"""Write a build's files so that the output folder is always whole: old or new, never a mix."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import glob
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath

from nieuwsbrief.errors import BuildError

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100

# Names a build writes at the top of --out; a non-empty folder without any of them was not
# written by nieuwsbrief, and replacing it would delete someone's files.
OUTPUT_NAMES = frozenset({"feed.xml", "atom.xml", "feed.json", "digests"})
PROJECT_NAMES = frozenset({"schedule.yaml", "articles"})

# Test hook: the crash tests stop a real build at a named point, then SIGKILL it there.
PAUSE_AT_ENV = "NIEUWSBRIEF_TEST_PAUSE_AT"
PAUSE_FILE_ENV = "NIEUWSBRIEF_TEST_PAUSE_FILE"
PAUSE_STAGES = ("locked", "mid-write", "before-swap", "after-swap")
_PAUSE_LIMIT_SECONDS = 120.0


def _pause(stage: str) -> None:
    """Wait at ``stage`` while the test that asked for it holds its marker file.

    Honoured only when both test variables are set: a test sets the stage and a marker path,
    waits for the marker to appear, and kills the build or deletes the marker to let it go on.
    """
    marker = os.environ.get(PAUSE_FILE_ENV)
    if not marker or os.environ.get(PAUSE_AT_ENV) != stage:
        return
    path = Path(marker)
    path.write_text(stage, encoding="utf-8")
    deadline = time.monotonic() + _PAUSE_LIMIT_SECONDS
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def lock_path(out: Path) -> Path:
    """Return the lock file that guards ``out`` against two builds at once."""
    return out.parent / f".{out.name}.lock"


@contextlib.contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` or fail at once if another build holds it."""
    import fcntl

    out.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(out)
    with path.open("a+b") as handle:
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


def _safe_relative(name: str) -> PurePosixPath:
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise BuildError(f"refusing to write {name!r} outside the output folder")
    return relative


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if directory else 0)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        # Without this a power cut after the swap could leave renamed but empty files.
        os.fsync(handle.fileno())


def _carry_over(old_file: Path, destination: Path) -> None:
    """Put an old output file into the staging folder without copying its bytes."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Old files are never changed in place, so sharing the inode is safe, fast and
        # already durable.
        os.link(old_file, destination)
    except OSError:
        shutil.copy2(old_file, destination)
        _fsync_path(destination)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2); return False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(first))


def _swap_in(staging: Path, out: Path) -> None:
    if not out.exists():
        staging.rename(out)
        _fsync_path(out.parent, directory=True)
        return
    if _exchange(staging, out):
        _fsync_path(out.parent, directory=True)
        _pause("after-swap")
        shutil.rmtree(staging)
        return
    # Without an atomic exchange, keep the old tree until the new one is in place.
    retired = staging.with_name(staging.name + "-old")
    out.rename(retired)
    staging.rename(out)
    _fsync_path(out.parent, directory=True)
    shutil.rmtree(retired)


def _clean_stale(out: Path) -> None:
    """Remove staging folders left by a build that was killed; called under the lock."""
    pattern = f".{glob.escape(out.name)}.staging-*"
    if not out.exists():
        # Killed between the two renames of the non-atomic swap: the old tree is retired.
        for retired in sorted(out.parent.glob(pattern + "-old")):
            retired.rename(out)
            break
    for stale in out.parent.glob(pattern):
        shutil.rmtree(stale, ignore_errors=True)


def _check_out(out: Path) -> None:
    """Refuse an --out that is not a folder nieuwsbrief may replace."""
    if out.parent == out:
        raise BuildError(f"--out {out} is a file system root; choose a folder such as public")
    if not out.exists():
        return
    if not out.is_dir():
        raise BuildError(f"--out {out} exists and is not a folder; choose another --out")
    names = {child.name for child in out.iterdir()}
    if names & PROJECT_NAMES:
        raise BuildError(
            f"--out {out} holds {', '.join(sorted(names & PROJECT_NAMES))}: it looks like a "
            "project folder, and a build replaces its --out completely; "
            "choose another folder such as public"
        )
    if names and not names & OUTPUT_NAMES:
        raise BuildError(
            f"--out {out} holds files that nieuwsbrief did not write (such as "
            f"{min(names)}), and a build replaces its --out completely; "
            "choose an empty or new folder"
        )


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
def claim(out: Path) -> Iterator[Path]:
    """Lock ``out`` for one build, clean up after a killed build, and yield the real folder.

    A symlinked ``out`` stays a link: the folder it points to is the one replaced. Read the
    old output (such as earlier digests) only inside this block, so no other build can
    replace it in between.
    """
    # Resolve so the staging folder shares the target's file system (rename cannot cross).
    out = Path(os.path.realpath(out.absolute()))
    with contextlib.ExitStack() as stack:
        with _os_errors(out):
            _check_out(out)
            stack.enter_context(build_lock(out))
            _pause("locked")
            _check_out(out)
            _clean_stale(out)
        yield out


def publish(out: Path, files: Mapping[str, bytes], keep: Iterable[str] = ()) -> None:
    """Replace the contents of ``out`` with ``files`` in one atomic step.

    ``keep`` names folders (relative to ``out``) whose old files survive when the new
    build does not write them, such as earlier weeks' digests.
    """
    with claim(out) as target:
        publish_claimed(target, files, keep)


def publish_claimed(out: Path, files: Mapping[str, bytes], keep: Iterable[str] = ()) -> None:
    """Do what :func:`publish` does, for an ``out`` already yielded by :func:`claim`."""
    targets = {_safe_relative(name): data for name, data in files.items()}
    with _os_errors(out):
        _publish_locked(out, targets, keep)


def _publish_locked(out: Path, targets: dict[PurePosixPath, bytes], keep: Iterable[str]) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        for folder in keep:
            old_folder = out / folder
            if not old_folder.is_dir():
                continue
            for old_file in sorted(old_folder.rglob("*")):
                relative = PurePosixPath(old_file.relative_to(out).as_posix())
                if old_file.is_file() and relative not in targets:
                    _carry_over(old_file, staging / relative)
        half = len(targets) // 2
        for index, (relative, data) in enumerate(sorted(targets.items())):
            if index == half:
                _pause("mid-write")
            _write_file(staging / relative, data)
        for folder, _, _ in os.walk(staging, topdown=False):
            _fsync_path(Path(folder), directory=True)
        staging.chmod(0o755)
        _pause("before-swap")
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
