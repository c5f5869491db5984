"""Free-disk reservations: an upload reserves its declared length before its body is read.

A check of free space alone passes each of several concurrent uploads that together do not fit:
each sees the disk as it is before the others have written. So every upload in progress holds
a reservation of its declared length (plus the sealing overhead), and a new one is admitted only
if it fits in the free space *after* all reservations held now.

Per process is not enough: gunicorn runs several worker processes on the same disk, and a
counter in one worker cannot see the uploads of another. The ledger is therefore a directory
on the blob store's filesystem: one file per reservation, named by its size, held under an
exclusive `flock` for as long as the upload runs. `flock` locks belong to an open file
description, so they exclude threads of one worker as well as other workers; the kernel drops
them when a worker dies, so a killed worker's reservation is seen as stale and removed, never
leaked. A lock on `.lock` makes check-and-reserve one step. (A local filesystem is assumed:
the store lives on the server's own disk, SECURITY.md.)

The count is conservative: a reservation stays whole while its upload writes, so bytes already
written are counted twice (once as used, once as reserved) until the request ends. An upload
refused that way is asked to try again; none is admitted that cannot fit.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from intake.errors import DiskFullError

__all__ = ["HEADROOM_BYTES", "DiskReservations", "sealed_bound"]

HEADROOM_BYTES = 1024 * 1024
"""Kept free beyond every reservation: age headers, the database's rows and journal."""

_LOCK_NAME = ".lock"


def sealed_bound(length: int) -> int:
    """An upper bound on the disk a body of `length` bytes can take once sealed.

    age's STREAM adds a 16-byte tag per 64 KiB chunk (1/4096); 1/2048 covers it and the part
    headers with room to spare.
    """
    return length + length // 2048 + HEADROOM_BYTES


class DiskReservations:
    """The reservation ledger in `directory` (created 0700 on first use)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextlib.contextmanager
    def reserve(self, length: int) -> Iterator[None]:
        """Hold a reservation for a body of `length` bytes until the block ends (however).

        Raises DiskFullError, before anything is written, when it does not fit beside the
        reservations held now.
        """
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        need = sealed_bound(length)
        with self._ledger_locked():
            free = shutil.disk_usage(self.directory).free
            if self.held_bytes() + need > free:
                raise DiskFullError(
                    "not enough free disk for this upload beside the uploads in progress",
                    hint="free disk space in the data directory; nothing was read",
                )
            fd, path = self._claim(need)
        try:
            yield
        finally:
            # Unlinked before the lock goes, so no one counts it as stale in between.
            path.unlink(missing_ok=True)
            os.close(fd)

    def held_bytes(self) -> int:
        """The bytes reserved by uploads in progress; removes reservations whose holder died.

        Call with the ledger lock held (reserve does), or the result is only an estimate.
        """
        total = 0
        for path in self.directory.iterdir():
            if path.name == _LOCK_NAME:
                continue
            size = _size_of(path.name)
            if size is None or not _is_held(path):
                path.unlink(missing_ok=True)
                continue
            total += size
        return total

    @contextlib.contextmanager
    def _ledger_locked(self) -> Iterator[None]:
        fd = os.open(self.directory / _LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held for a stat and a directory scan only
            yield
        finally:
            os.close(fd)  # closing drops the lock

    def _claim(self, need: int) -> tuple[int, Path]:
        path = self.directory / f"{secrets.token_hex(8)}-{need}"
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # under the ledger lock: nobody sees it unheld
        return fd, path


def _size_of(name: str) -> int | None:
    _, _, size = name.partition("-")
    return int(size) if size.isdigit() else None


def _is_held(path: Path) -> bool:
    """Whether a live upload holds `path` (its exclusive lock refuses ours)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False  # released a moment ago
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
