"""Write a build's files so that the output folder is always whole: old or new, never a mix."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath

from nieuwsbrief.errors import BuildError

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


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


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(data)


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
        return
    if not out.is_dir():
        raise BuildError(f"{out} exists and is not a folder; choose another --out")
    if _exchange(staging, out):
        shutil.rmtree(staging)
        return
    # Without an atomic exchange, keep the old tree until the new one is in place.
    retired = staging.with_name(staging.name + "-old")
    out.rename(retired)
    staging.rename(out)
    shutil.rmtree(retired)


def _clean_stale(out: Path) -> None:
    """Remove staging folders left by a build that was killed; called under the lock."""
    for stale in out.parent.glob(f".{out.name}.staging-*"):
        shutil.rmtree(stale, ignore_errors=True)


def publish(out: Path, files: Mapping[str, bytes], keep: Iterable[str] = ()) -> None:
    """Replace the contents of ``out`` with ``files`` in one atomic step.

    ``keep`` names folders (relative to ``out``) whose old files survive when the new
    build does not write them, such as earlier weeks' digests.
    """
    out = out.absolute()
    with build_lock(out):
        _clean_stale(out)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
        try:
            targets = {_safe_relative(name): data for name, data in files.items()}
            for folder in keep:
                old_folder = out / folder
                if not old_folder.is_dir():
                    continue
                for old_file in sorted(old_folder.rglob("*")):
                    relative = PurePosixPath(old_file.relative_to(out).as_posix())
                    if old_file.is_file() and relative not in targets:
                        destination = staging / relative
                        destination.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(old_file, destination)
            for relative, data in sorted(targets.items()):
                _write_file(staging / relative, data)
            staging.chmod(0o755)
            _swap_in(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
