"""Swapping in a header re-wrapped offline: checked against the laptop's hashes, then replaced.

The server never holds a file key, so it cannot check a new header's MAC; what it can promise
is that the payload bytes are exactly the old ones, that the old file was the one the header
was made from (its hash is checked while it is copied), and that readers see either the old
file or the new one. The swap itself, and the overwriting of the old header, is
`intake.sealed.replace_header`, shared with the witness site.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from intake.blobstore import BlobStore
from intake.errors import StorageError
from intake.sealed import Reheadered, header_size, replace_header

__all__ = ["SealedFile", "current_header", "describe", "swap_header"]

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SealedFile:
    """A stored blob's size and SHA-256."""

    size: int
    sha256: str


def current_header(store: BlobStore, name: str) -> bytes:
    """The stored blob's header bytes, exactly. Raises StorageError."""
    with store.open(name) as handle:
        return handle.read(header_size(name, handle))


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

    def check(found: Reheadered) -> None:
        if not hmac.compare_digest(found.old_sha256, expected_sha256):
            raise StorageError(
                f"the stored blob {name} is not the file the new header was made from",
                hint="it changed since it was exported: export it again and re-wrap that copy",
            )
        if not hmac.compare_digest(found.sha256, expected_new_sha256):
            raise StorageError(
                f"the re-wrapped blob {name} would not be the file the laptop computed",
                hint="export it again and re-wrap that copy; this blob was not changed",
            )

    found = replace_header(store, name, new_header, check=check)
    return SealedFile(found.size, found.sha256)
