"""replace_header: new header, same payload, the old header overwritten; refusals change nothing."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from crypto.age import open_bytes, rewrap_header, seal_bytes
from crypto.x25519 import X25519Identity
from intake.blobstore import LocalBlobStore, new_blob_name
from intake.errors import StorageError
from intake.sealed import Reheadered, replace_header


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    made = LocalBlobStore(tmp_path / "store")
    made.ensure_dirs()
    return made


def _put(store: LocalBlobStore, data: bytes) -> str:
    temp, handle = store.create_temp()
    with handle:
        handle.write(data)
    name = new_blob_name()
    store.commit(temp, name)
    return name


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_check_sees_both_hashes_and_the_old_header_is_overwritten(store: LocalBlobStore):
    old, new = X25519Identity.generate(), X25519Identity.generate()
    data = os.urandom(150_000)
    sealed = seal_bytes(data, [old.recipient()])
    name = _put(store, sealed)
    header, size = rewrap_header(io.BytesIO(sealed), [old], [new.recipient()])
    expected = header + sealed[size:]
    seen: list[Reheadered] = []
    fd = os.open(store.blob_dir / name, os.O_RDONLY)
    try:
        done = replace_header(store, name, header, check=seen.append)
        assert os.pread(fd, size, 0) == bytes(size)
    finally:
        os.close(fd)
    assert seen == [done] == [Reheadered(_sha(sealed), len(expected), _sha(expected))]
    with store.open(name) as handle:
        assert open_bytes(handle.read(), [new]) == data


def test_a_refusing_check_leaves_the_blob_whole(store: LocalBlobStore):
    old = X25519Identity.generate()
    sealed = seal_bytes(b"testimony", [old.recipient()])
    name = _put(store, sealed)
    header, _size = rewrap_header(io.BytesIO(sealed), [old], [old.recipient()])

    def refuse(_found: Reheadered) -> None:
        raise StorageError("refused")

    fd = os.open(store.blob_dir / name, os.O_RDONLY)
    try:
        with pytest.raises(StorageError, match="refused"):
            replace_header(store, name, header, check=refuse)
        assert os.pread(fd, len(sealed) + 1, 0) == sealed
    finally:
        os.close(fd)
    assert (store.blob_dir / name).read_bytes() == sealed
    assert list(store.temp_dir.iterdir()) == []


def test_a_blob_that_is_not_an_age_file_is_refused_unchanged(store: LocalBlobStore):
    name = _put(store, b"not an age file\n")
    with pytest.raises(StorageError, match="is not an age file"):
        replace_header(store, name, b"age-encryption.org/v1\n")
    assert (store.blob_dir / name).read_bytes() == b"not an age file\n"
    assert list(store.temp_dir.iterdir()) == []
