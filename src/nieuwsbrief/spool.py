"""Bytes a build keeps long but reads seldom, in a temporary file instead of in memory.

At 10,000 articles a build holds every article's Markdown body (~43 MB; read for the
teaser, the fingerprint and the few items that show the whole article) and the feed items
an article shares between its feeds (~30 MB, from the main feed to its last topic). In a
spool they cost the operating system's page cache, which it can drop and write out, not
the build's memory (issue 15: at most 150 MB at 10,000 articles); reading one back is one
system call. What is spooled is read back byte for byte; where the file cannot be made or
written, the caller keeps the bytes in memory instead.
"""

from __future__ import annotations

import os
import threading
import weakref

# A spool grows to at most this before the next write starts a new one.
SPOOL_LIMIT = 256 * 1024 * 1024


class Spool:
    """An unnamed temporary file that bytes are appended to and read back from by place.

    It is closed (and, being unnamed, gone) when no ``Spooled`` refers to it any more.
    """

    def __init__(self) -> None:
        import tempfile

        # Open as long as the spool lives: closed by the finalizer below, not by a block.
        self._file = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115
        self._descriptor = self._file.fileno()
        self.size = 0
        # A process that forks starts its own: both appending to one file would overwrite.
        self.pid = os.getpid()
        # Closed here rather than by the file object's finalizer, which would warn.
        weakref.finalize(self, self._file.close)

    def append(self, data: bytes) -> int:
        """Write ``data`` at the end; return where it starts."""
        start = self.size
        view = memoryview(data)
        while view:
            written = os.pwrite(self._descriptor, view, self.size)
            if written <= 0:
                raise OSError("a temporary file took no bytes")
            self.size += written
            view = view[written:]
        return start

    def read(self, start: int, length: int) -> bytes:
        """Return the ``length`` bytes from ``start``."""
        data = os.pread(self._descriptor, length, start)
        if len(data) != length:
            raise OSError("a temporary file lost bytes")
        return data


class Spooled:
    """The place of some bytes in a spool; holds the spool open."""

    __slots__ = ("length", "spool", "start")

    def __init__(self, spool: Spool, start: int, length: int) -> None:
        self.spool = spool
        self.start = start
        self.length = length

    def read(self) -> bytes:
        """Return the bytes; OSError if the file fails."""
        return self.spool.read(self.start, self.length)


# The spool written to now (at most one); full ones stay open while their bytes are used.
_CURRENT: list[Spool] = []
# The preview checks articles in a thread while a build may load them: one writer at a time.
_WRITING = threading.Lock()


def spool_bytes(data: bytes) -> Spooled | None:
    """Append ``data`` to the current spool; None when it cannot be written."""
    with _WRITING:
        return _append(data)


def _append(data: bytes) -> Spooled | None:
    current = _CURRENT[0] if _CURRENT else None
    if current is None or current.pid != os.getpid() or current.size + len(data) > SPOOL_LIMIT:
        try:
            current = Spool()
        except OSError:
            _CURRENT.clear()
            return None
        _CURRENT[:] = [current]
    try:
        return Spooled(current, current.append(data), len(data))
    except OSError:
        _CURRENT.clear()  # the next write tries a new file
        return None


def spool_pieces(pieces: list[memoryview]) -> list[Spooled] | None:
    """Spool several pieces in one write; return each one's place, or None as above."""
    whole = spool_bytes(b"".join(pieces))
    if whole is None:
        return None
    places = []
    start = whole.start
    for piece in pieces:
        places.append(Spooled(whole.spool, start, len(piece)))
        start += len(piece)
    return places


class SpooledText:
    """A text kept in the spool (in memory where that fails), read back on each use.

    Equal to another holding the same text, and hashed as the text, so an object holding
    one compares and hashes as it would holding the text itself.
    """

    __slots__ = ("_hash", "_kept", "_place")

    def __init__(self, text: str) -> None:
        # surrogatepass: a text with lone surrogates reads back as exactly that text.
        self._place = spool_bytes(text.encode("utf-8", "surrogatepass"))
        self._kept = text if self._place is None else None
        # Kept: articles are hashed (dict keys, sets) far more often than their bodies read.
        self._hash = hash(text)

    @property
    def text(self) -> str:
        """Return the text."""
        if self._kept is not None:
            return self._kept
        assert self._place is not None
        try:
            data = self._place.read()
        except OSError as exc:
            # The file was readable a moment ago and is this process's own: nothing the
            # editor's input can cause, but still one line and exit 1, never a traceback.
            from nieuwsbrief.errors import BuildError

            raise BuildError(
                f"a text kept in a temporary file cannot be read back ({exc}); check that "
                "the temporary folder (TMPDIR) has room and build again"
            ) from None
        return data.decode("utf-8", "surrogatepass")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpooledText):
            return NotImplemented
        return self is other or self.text == other.text

    def __hash__(self) -> int:
        return self._hash
