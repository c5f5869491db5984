"""Temporary and committed sealed blobs for the witness site, over the `BlobStore` interface."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crypto.age import header_for_file_key
from intake.blobstore import BlobStore
from intake.sealed import replace_header
from intake.web.upload import TempBlob

__all__ = ["Resealed", "StoreTemp", "reseal_header", "write_blob"]


class StoreTemp(TempBlob):
    """A temporary blob being written; `commit` names it, `discard` removes it (idempotent)."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store
        self.name, self.file = store.create_temp()
        self._settled = False

    def _close(self) -> None:
        if not self.file.closed:
            self.file.close()

    def commit(self, final_name: str, *, replace: bool = False) -> None:
        """Close the file and move it to `final_name` in the store."""
        self._close()
        self._store.commit(self.name, final_name, replace=replace)
        self._settled = True

    def discard(self) -> None:
        if self._settled:
            return
        self._settled = True
        try:
            self._close()
        finally:
            self._store.discard(self.name)


@dataclass(frozen=True)
class Resealed:
    """A blob's sealed size and SHA-256 after its header was re-issued."""

    sealed_size: int
    sealed_sha256: str


def write_blob(store: BlobStore, name: str, data: bytes) -> Resealed:
    """Store small sealed bytes (the submission.json) under `name`."""
    temp = StoreTemp(store)
    try:
        temp.file.write(data)
        temp.commit(name)
    except BaseException:
        temp.discard()
        raise
    return Resealed(len(data), hashlib.sha256(data).hexdigest())


def reseal_header(
    store: BlobStore, name: str, file_key: bytes, recipients: Sequence[Any]
) -> Resealed:
    """Give the committed blob `name` a header for `recipients`, keeping its payload.

    The keyring changed while the file was arriving: the server still knows the file key, so
    it writes a fresh header (its length differs with the recipient count) and swaps it in
    (`intake.sealed.replace_header`: atomic, the old header overwritten).
    """
    found = replace_header(store, name, header_for_file_key(file_key, recipients))
    return Resealed(found.size, found.sha256)
