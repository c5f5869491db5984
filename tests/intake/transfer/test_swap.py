"""A re-wrapped header swapped in: payload kept, old header bytes gone from the disk."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from crypto.age import open_bytes, rewrap_header, seal_bytes
from crypto.errors import NoIdentityMatchError
from crypto.keyfile import identity_file_text
from crypto.x25519 import X25519Identity
from intake.blobstore import LocalBlobStore
from intake.errors import StorageError
from intake.transfer._swap import swap_header

NAME = "c" * 32


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    made = LocalBlobStore(tmp_path / "store")
    made.ensure_dirs()
    return made


def _stored(store: LocalBlobStore, sealed: bytes) -> Path:
    temp, out = store.create_temp()
    with out:
        out.write(sealed)
    store.commit(temp, NAME)
    return store.blob_dir / NAME


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_swap_overwrites_the_old_header_on_disk(store: LocalBlobStore, tmp_path: Path):
    old, new = X25519Identity.generate(), X25519Identity.generate()
    data = os.urandom(200_000)
    sealed = seal_bytes(data, [old.recipient()])
    path = _stored(store, sealed)
    header, header_size = rewrap_header(io.BytesIO(sealed), [old], [new.recipient()])
    expected = header + sealed[header_size:]
    # A descriptor opened before the swap still reaches the old inode after the rename.
    fd = os.open(path, os.O_RDONLY)
    try:
        found = swap_header(
            store, NAME, header, expected_sha256=_sha(sealed), expected_new_sha256=_sha(expected)
        )
        left = os.pread(fd, len(sealed), 0)
    finally:
        os.close(fd)
    assert len(left) == len(sealed)
    assert left[:header_size] == bytes(header_size)  # the old header: zeros now
    assert left[header_size:] == sealed[header_size:]  # the payload (same as the new file's)
    stored = path.read_bytes()
    assert stored == expected
    assert (found.size, found.sha256) == (len(expected), _sha(expected))
    assert open_bytes(stored, [new]) == data
    with pytest.raises(NoIdentityMatchError):
        open_bytes(stored, [old])
    key = tmp_path / "new-key.txt"
    key.write_text(identity_file_text(new))
    age = shutil.which("age")
    assert age is not None
    opened = subprocess.run(
        [age, "-d", "-i", str(key)], input=stored, capture_output=True, check=True
    )
    assert opened.stdout == data


def test_a_refused_swap_leaves_the_old_file_whole(store: LocalBlobStore):
    old, new = X25519Identity.generate(), X25519Identity.generate()
    sealed = seal_bytes(b"testimony", [old.recipient()])
    path = _stored(store, sealed)
    header, _size = rewrap_header(io.BytesIO(sealed), [old], [new.recipient()])
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(StorageError, match="would not be the file the laptop computed"):
            swap_header(store, NAME, header, expected_sha256=_sha(sealed), expected_new_sha256="0")
        assert os.pread(fd, len(sealed), 0) == sealed
    finally:
        os.close(fd)
    assert path.read_bytes() == sealed
    assert list(store.temp_dir.iterdir()) == []
