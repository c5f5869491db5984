"""One bundle item read in a streamed pass: hashed as read, checked against its manifest entry."""

from __future__ import annotations

import hashlib
import hmac
import io
import os
from pathlib import Path

from protocol import _tar
from protocol._copy import write_all
from protocol.errors import ProtocolError
from protocol.manifest import ItemEntry

__all__ = ["ItemReader"]

_CHUNK = 1 << 16


def _fill(stream: _tar.Readable, view: memoryview) -> int:
    """Read up to len(view) bytes into `view`, straight from the file when the stream can."""
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        return int(readinto(view) or 0)
    data = stream.read(len(view))
    view[: len(data)] = data
    return len(data)


class ItemReader:
    """One item's bytes, hashed as they are read. At its end the size and SHA-256 are checked
    against the manifest (ProtocolError "integrity"): bytes returned before that are unverified,
    so keep them aside (copy_to() does) until the item ends."""

    def __init__(self, stream: _tar.Readable, entry: ItemEntry) -> None:
        self.entry = entry
        self._bundle = stream
        self._stream: _tar.Readable = stream  # where the item's bytes come from (see copy_to)
        self._copy: io.FileIO | None = None
        self._left = entry.size
        self._digest = hashlib.sha256()
        self.verified = False

    def read(self, size: int = _CHUNK) -> bytes:
        """Up to `size` bytes (64 KiB by default; never all at once); b"" once verified."""
        if size == 0:
            return b""
        if size < 0:
            size = _CHUNK
        data = self._stream.read(min(size, self._left, _CHUNK * 16)) if self._left else b""
        if self._left and not data:
            raise ProtocolError("bundle", f"bundle is truncated inside {self.entry.name}")
        self._digest.update(data)
        self._left -= len(data)
        if not self._left and not self.verified:
            self._finish()
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """Like read(), into `buffer`: no new bytes per call, for large items. 0 once verified."""
        if not len(buffer):
            return 0
        view = memoryview(buffer)[: min(len(buffer), self._left)]
        count = _fill(self._stream, view) if self._left else 0
        if self._left and not count:
            raise ProtocolError("bundle", f"bundle is truncated inside {self.entry.name}")
        self._digest.update(view[:count])
        self._left -= count
        if not self._left and not self.verified:
            self._finish()
        return count

    def _finish(self) -> None:
        grown = False
        if self._copy is not None:
            grown = os.fstat(self._copy.fileno()).st_size != self.entry.size
            self.close()
        _tar.skip_padding(self._bundle, self.entry.size)
        if grown or not hmac.compare_digest(self._digest.hexdigest(), self.entry.sha256):
            raise ProtocolError("integrity", f"item {self.entry.name} does not match its SHA-256")
        self.verified = True

    def close(self) -> None:
        """Let go of the copy's file descriptor (see copy_to); the bundle's stays open."""
        if self._copy is not None:
            self._copy.close()

    def drain(self) -> None:
        """Read (and verify) whatever is left of the item."""
        while not self.verified:
            self.read()

    def read_all(self, limit: int) -> bytes:
        """The whole item once verified, if it is at most `limit` bytes (e.g. a sealed JSON)."""
        if self.entry.size > limit:
            raise ProtocolError("bundle", f"item {self.entry.name} is larger than {limit} bytes")
        chunks = []
        while not self.verified:
            chunks.append(self.read())
        return b"".join(chunks)

    def copy_to(self, target: Path) -> None:
        """Copy the rest of the item into a new file `target` (never overwriting; mode 0600), in
        the kernel when the bundle is a file, then go on reading the item from that copy.

        The copy itself checks nothing: reading (or draining) the item to its end hashes the
        copy and checks it against the manifest, so what was kept is what was verified. Until
        then `target` is as unverified as bytes from read(). On an error `target` is removed.
        """
        if self._copy is not None or self._left != self.entry.size:
            # The copy must hold the whole item, and be the only place it is read from.
            raise RuntimeError("copy_to() must come before any read of the item")
        # One descriptor copies and reads back: the bytes hashed are those written, whatever
        # happens meanwhile at `target`'s path.
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        fd = os.open(target, flags, 0o600)
        try:
            copied = self._copy_out(fd)
            if copied != self._left:
                raise ProtocolError("bundle", f"bundle is truncated inside {self.entry.name}")
            os.lseek(fd, 0, os.SEEK_SET)
            self._copy = io.FileIO(fd, "rb", closefd=True)
        except BaseException:
            os.close(fd)
            target.unlink(missing_ok=True)
            raise
        self._stream = self._copy

    def _copy_out(self, fd: int) -> int:
        copy = getattr(self._bundle, "copy_to", None)  # JoinedParts: in the kernel
        if copy is not None:
            return int(copy(fd, self._left))
        done = 0
        while done < self._left and (data := self._bundle.read(min(_CHUNK, self._left - done))):
            write_all(fd, data)
            done += len(data)
        return done
