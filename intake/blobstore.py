"""Sealed blobs on disk: a small BlobStore protocol and the local-directory implementation.

Only ciphertext ever reaches the store (the web layer seals as bytes arrive), so these rules
are about metadata and integrity: random names checked against a grammar and against the store
root, files 0600 in 0700 directories, file times normalised to the UTC day, fsync before a blob
is named, overwrite before unlink (and a replaced file's header after its rename), and ENOSPC
reported as a typed error.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from intake.clock import midnight_utc_timestamp
from intake.errors import DiskFullError, PathEscapeError, StorageError
from protocol.ids import new_blob_name

__all__ = ["BlobStore", "LocalBlobStore", "new_blob_name"]

# protocol.ids.new_blob_name's grammar: 32 lower-case hex digits. Nothing else is a blob name.
_NAME = re.compile(r"[0-9a-f]{32}")
_OVERWRITE_CHUNK = 1024 * 1024


class BlobStore(Protocol):
    """Where sealed blobs live. Local directory by default; a shared one on multi-host setups."""

    def create_temp(self) -> tuple[str, BinaryIO]: ...
    def commit(
        self, temp_name: str, final_name: str, *, replace: bool = False, scrub_replaced: int = 0
    ) -> None: ...
    def discard(self, temp_name: str) -> None: ...
    def open(self, name: str) -> BinaryIO: ...
    def exists(self, name: str) -> bool: ...
    def size(self, name: str) -> int: ...
    def delete_secure(self, name: str, *, missing_ok: bool = False) -> None: ...
    def sweep_temps(
        self, *, min_idle_seconds: float, keep: frozenset[str] = frozenset()
    ) -> int: ...
    def names(self, *, min_age_seconds: float = 0.0) -> list[str]: ...


@contextmanager
def _storage_errors(what: str) -> Iterator[None]:
    """Turn OSError into StorageError; ENOSPC into DiskFullError."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise DiskFullError(f"the disk is full while {what}") from exc
        if isinstance(exc, FileNotFoundError):
            raise StorageError(f"no such blob while {what}") from exc
        raise StorageError(f"{what} failed: {exc.strerror or exc.__class__.__name__}") from exc


class _TempWriter(io.BufferedWriter):
    """The writer `create_temp` hands out: a disk-full write raises DiskFullError."""

    def write(self, buffer: bytes | bytearray | memoryview, /) -> int:  # type: ignore[override]
        with _storage_errors("writing a blob"):
            return super().write(buffer)

    def flush(self) -> None:
        with _storage_errors("writing a blob"):
            super().flush()

    def close(self) -> None:
        with _storage_errors("writing a blob"):
            super().close()


class _RawFile(io.FileIO):
    """The unbuffered file under a _TempWriter (a Python subclass, so tests can fail writes)."""


def _changed_before(path: Path, cutoff: float, *, ctime: bool) -> bool:
    """Whether a regular file's mtime (or ctime) is at or before `cutoff`; False once gone."""
    try:
        info = path.lstat()
    except FileNotFoundError:  # another worker's sweep took it a moment ago
        return False
    changed = info.st_ctime if ctime else info.st_mtime
    return stat.S_ISREG(info.st_mode) and changed <= cutoff


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _overwrite(fd: int, length: int) -> None:
    """Write zeros over the first `length` bytes of the open file `fd` (no further), then fsync."""
    length = min(length, os.fstat(fd).st_size)
    zeros = bytes(min(_OVERWRITE_CHUNK, length))
    done = 0
    while done < length:
        done += os.pwrite(fd, zeros[: length - done], done)
    os.fsync(fd)


def _replace(source: Path, target: Path, scrub: int) -> None:
    """Rename `source` over `target`, then zero the first `scrub` bytes of the file replaced.

    A replaced age header wraps the file key to keys that may since have been revoked: its bytes
    must not stay in the freed blocks. They are overwritten after the rename, not before, so
    that a crash in between leaves the blob whole (old or new file), never without a header;
    a descriptor opened before the rename still reaches the old inode.
    """
    try:
        old = os.open(target, os.O_WRONLY | os.O_CLOEXEC) if scrub > 0 else None
    except FileNotFoundError:
        old = None
    try:
        os.replace(source, target)
        if old is not None:
            _overwrite(old, scrub)
    finally:
        if old is not None:
            os.close(old)


class LocalBlobStore:
    """Blobs as files under `<root>/blobs/`, uploads in progress under `<root>/tmp/`.

    Both directories are on one filesystem, so `commit` is an atomic rename. Every name is
    checked against a grammar and resolved inside its directory before use.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blob_dir = root / "blobs"
        self.temp_dir = root / "tmp"

    def ensure_dirs(self) -> None:
        """Create the store's directories with mode 0700 (`intake init`; idempotent)."""
        with _storage_errors("creating the blob store"):
            for path in (self.root, self.blob_dir, self.temp_dir):
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(path, 0o700)

    def _path(self, directory: Path, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise PathEscapeError(f"refused a malformed blob name {name[:80]!r}")
        path = (directory / name).resolve()
        if path.parent != directory.resolve():
            raise PathEscapeError(f"refused a blob path outside the store: {name!r}")
        return path

    def create_temp(self) -> tuple[str, BinaryIO]:
        """A new temporary file (0600, exclusive) and its name; close it before `commit`."""
        name = new_blob_name()
        path = self._path(self.temp_dir, name)
        with _storage_errors("creating a temporary blob"):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        return name, _TempWriter(_RawFile(fd, "wb", closefd=True))

    def commit(
        self, temp_name: str, final_name: str, *, replace: bool = False, scrub_replaced: int = 0
    ) -> None:
        """fsync the closed temp file and move it to `blobs/final_name`, its times set to the day.

        Without `replace` an existing blob is never overwritten (StorageError); with it the
        swap is atomic (a re-wrapped header replacing a file), and the first `scrub_replaced`
        bytes of the file replaced are overwritten with zeros (see `_replace`). Raises
        DiskFullError on ENOSPC.
        """
        source = self._path(self.temp_dir, temp_name)
        target = self._path(self.blob_dir, final_name)
        with _storage_errors("committing a blob"):
            fd = os.open(source, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            day = midnight_utc_timestamp()
            os.utime(source, (day, day))
            if replace:
                _replace(source, target, scrub_replaced)
            else:
                # link() refuses an existing target atomically, where rename() would clobber it.
                os.link(source, target)
                os.unlink(source)
            _fsync_dir(self.blob_dir)
            # The directory's mtime would otherwise record the time of the last submission.
            os.utime(self.blob_dir, (day, day))
            os.utime(self.temp_dir, (day, day))

    def discard(self, temp_name: str) -> None:
        """Delete a temporary file (a failed or refused upload); a missing one is fine."""
        path = self._path(self.temp_dir, temp_name)
        self._overwrite_and_unlink(path, missing_ok=True, temp=True)

    def open(self, name: str) -> BinaryIO:
        """The sealed blob, opened for reading. Raises StorageError if it does not exist."""
        path = self._path(self.blob_dir, name)
        with _storage_errors("opening a blob"):
            return path.open("rb")

    def exists(self, name: str) -> bool:
        return self._path(self.blob_dir, name).is_file()

    def size(self, name: str) -> int:
        """Size in bytes of a committed blob."""
        path = self._path(self.blob_dir, name)
        with _storage_errors("reading a blob's size"):
            return path.stat().st_size

    def delete_secure(self, name: str, *, missing_ok: bool = False) -> None:
        """Overwrite a committed blob with zeros, fsync, then unlink it.

        On SSDs and copy-on-write filesystems the old blocks may survive (SECURITY.md says so);
        what the blob held is ciphertext either way. `missing_ok`: a blob another process
        deleted first is fine (two workers sweeping at start-up).
        """
        self._overwrite_and_unlink(self._path(self.blob_dir, name), missing_ok=missing_ok)

    def _overwrite_and_unlink(
        self, path: Path, *, missing_ok: bool = False, temp: bool = False
    ) -> None:
        if missing_ok:
            try:
                self._overwrite_and_unlink(path, temp=temp)
            except StorageError as exc:
                if not isinstance(exc.__cause__, FileNotFoundError):
                    raise
            return
        with _storage_errors("deleting a blob"):
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
            try:
                # A temp left linked to its blob by a commit cut between link and unlink
                # shares the blob's inode: overwriting it would zero the kept blob.
                info = os.fstat(fd)
                if not temp or info.st_nlink <= 1:
                    _overwrite(fd, info.st_size)
            finally:
                os.close(fd)
            path.unlink()
            _fsync_dir(path.parent)

    def sweep_temps(self, *, min_idle_seconds: float, keep: frozenset[str] = frozenset()) -> int:
        """Delete temp files not written for `min_idle_seconds`, except those named in `keep`
        (a live upload in parts, paused for hours); returns how many.

        Another worker (or host sharing the store) may be receiving a slow upload into a temp
        file right now, and temps hold only ciphertext, so the sweep only takes idle ones.
        """
        if not self.temp_dir.is_dir():
            return 0
        cutoff = time.time() - min_idle_seconds
        removed = 0
        for path in self.temp_dir.iterdir():
            if path.name in keep:
                continue
            if _NAME.fullmatch(path.name) and _changed_before(path, cutoff, ctime=False):
                self._overwrite_and_unlink(path, missing_ok=True, temp=True)
                removed += 1
        return removed

    def names(self, *, min_age_seconds: float = 0.0) -> list[str]:
        """Names of committed blobs whose inode changed at least `min_age_seconds` ago.

        The age is the ctime (set by the commit's rename and not normalisable): the orphan sweep
        must not take a blob whose database row is being committed right now.
        """
        if not self.blob_dir.is_dir():
            return []
        cutoff = time.time() - min_age_seconds
        return sorted(
            path.name
            for path in self.blob_dir.iterdir()
            if _NAME.fullmatch(path.name) and _changed_before(path, cutoff, ctime=True)
        )
