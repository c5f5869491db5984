"""Replacing a stored blob's age header: the one place the server rewrites a sealed file.

Two callers: the witness site, when the keyring changed while a file was arriving (it still
knows the file key and makes the header itself), and `intake keys apply-rewrap`, with headers
made offline. Either way the payload is copied byte for byte after the new header into a
temporary blob, which replaces the old file by an atomic rename; the old header's bytes are
then overwritten on disk, because they wrap the file key to keys that may be revoked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from crypto.errors import HeaderError
from crypto.header import Header
from intake.blobstore import BlobStore
from intake.errors import StorageError

__all__ = ["Reheadered", "header_size", "replace_header"]

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Reheadered:
    """What a header swap read and wrote: the old file's SHA-256, the new file's size and hash."""

    old_sha256: str
    size: int
    sha256: str


def header_size(name: str, handle: BinaryIO) -> int:
    """Length of the age header at the start of `handle` (left at 0). Raises StorageError."""
    try:
        header, _covered = Header.parse(handle)
    except HeaderError as exc:
        raise StorageError(
            f"the stored blob {name} is not an age file ({exc})",
            hint="run `intake doctor`; this blob was not changed",
        ) from exc
    handle.seek(0)
    return header.size


def replace_header(
    store: BlobStore,
    name: str,
    new_header: bytes,
    *,
    check: Callable[[Reheadered], None] | None = None,
) -> Reheadered:
    """Give blob `name` the header `new_header`, keeping its payload byte for byte.

    `check` sees the hashes before the swap and may refuse it by raising; the blob is then
    unchanged. The server cannot check the new header's MAC (it needs the file key): callers
    make the header or check the result's hash. Raises StorageError (blob unchanged).
    """
    temp, out = store.create_temp()
    try:
        with store.open(name) as old, out:
            old_size = header_size(name, old)
            old_digest = hashlib.sha256(old.read(old_size))
            new_digest = hashlib.sha256(new_header)
            size = out.write(new_header)
            while chunk := old.read(_CHUNK):
                old_digest.update(chunk)
                new_digest.update(chunk)
                size += out.write(chunk)
        done = Reheadered(old_digest.hexdigest(), size, new_digest.hexdigest())
        if check is not None:
            check(done)
        store.commit(temp, name, replace=True, scrub_replaced=old_size)
    except BaseException:
        store.discard(temp)
        raise
    return done
