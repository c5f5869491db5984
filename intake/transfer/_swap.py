"""Replacing a stored blob's age header: new header plus the untouched payload, atomically.

The server never holds a file key, so it cannot check a new header's MAC; what it can promise
is that the payload bytes are exactly the old ones, that the old file was the one the header
was made from (its hash is checked while it is copied), and that readers see either the old
file or the new one (temporary file, fsync, rename: LocalBlobStore.commit with replace).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import BinaryIO

from crypto.errors import HeaderError
from crypto.header import Header
from intake.blobstore import BlobStore
from intake.errors import StorageError

__all__ = ["SealedFile", "current_header", "describe", "swap_header"]

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SealedFile:
    """A stored blob's size and SHA-256."""

    size: int
    sha256: str


def _header_size(name: str, handle: BinaryIO) -> int:
    try:
        header, _covered = Header.parse(handle)
    except HeaderError as exc:
        raise StorageError(
            f"the stored blob {name} is not an age file ({exc})",
            hint="run `intake doctor`; this blob was not changed",
        ) from exc
    handle.seek(0)
    return header.size


def current_header(store: BlobStore, name: str) -> bytes:
    """The stored blob's header bytes, exactly. Raises StorageError."""
    with store.open(name) as handle:
        return handle.read(_header_size(name, handle))


def describe(store: BlobStore, name: str) -> SealedFile:
    """Size and SHA-256 of the stored blob, read now. Raises StorageError."""
    digest = hashlib.sha256()
    size = 0
    with store.open(name) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return SealedFile(size, digest.hexdigest())


def swap_header(
    store: BlobStore,
    name: str,
    new_header: bytes,
    *,
    expected_sha256: str,
    expected_new_sha256: str,
) -> SealedFile:
    """Give blob `name` the header `new_header`, keeping its payload byte for byte.

    The old file must hash to `expected_sha256` and the new one to `expected_new_sha256` (what
    the laptop computed from its copy): both are checked before the swap. Returns the new
    file's size and hash. Raises StorageError; the blob is then unchanged.
    """
    temp, out = store.create_temp()
    try:
        with store.open(name) as old, out:
            old_digest = hashlib.sha256(old.read(_header_size(name, old)))
            new_digest = hashlib.sha256(new_header)
            size = out.write(new_header)
            while chunk := old.read(_CHUNK):
                old_digest.update(chunk)
                new_digest.update(chunk)
                size += out.write(chunk)
        if not hmac.compare_digest(old_digest.hexdigest(), expected_sha256):
            raise StorageError(
                f"the stored blob {name} is not the file the new header was made from",
                hint="it changed since it was exported: export it again and re-wrap that copy",
            )
        if not hmac.compare_digest(new_digest.hexdigest(), expected_new_sha256):
            raise StorageError(
                f"the re-wrapped blob {name} would not be the file the laptop computed",
                hint="export it again and re-wrap that copy; this blob was not changed",
            )
        store.commit(temp, name, replace=True)
    except BaseException:
        store.discard(temp)
        raise
    return SealedFile(size, new_digest.hexdigest())
