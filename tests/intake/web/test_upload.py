"""The sealing request pieces without Flask: writers, sinks, the upload session, resealing."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from crypto.age import open_bytes
from crypto.errors import CryptoError
from crypto.header import Header
from crypto.x25519 import X25519Identity
from intake.blobstore import LocalBlobStore
from intake.web.services.storage import StoreTemp, reseal_header
from intake.web.upload import DiscardSink, SealingWriter, UploadSession


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    made = LocalBlobStore(tmp_path / "store")
    made.ensure_dirs()
    return made


def _session(store: LocalBlobStore, identity: X25519Identity, max_files: int = 2) -> UploadSession:
    return UploadSession(
        new_temp=lambda: StoreTemp(store), recipients=[identity.recipient()], max_files=max_files
    )


def _feed(container: object, data: bytes, chunk: int = 7000) -> None:
    for start in range(0, len(data), chunk):
        container.write(data[start : start + chunk])  # type: ignore[attr-defined]


def test_writer_seals_as_bytes_arrive_and_hashes_both_sides(store: LocalBlobStore) -> None:
    identity = X25519Identity.generate()
    upload = _session(store, identity)
    data = bytes(range(256)) * 1000
    writer = upload.open_part("group1-files", "photo.jpg", "image/jpeg")
    assert isinstance(writer, SealingWriter)
    _feed(writer, data)
    complete_before = writer.complete
    writer.seek(0)  # Werkzeug's end-of-part call
    assert (complete_before, writer.complete) == (False, True)
    assert writer.plain_size == len(data)
    assert writer.plain_sha256.hexdigest() == hashlib.sha256(data).hexdigest()
    temp = writer.temp
    assert isinstance(temp, StoreTemp)
    temp.commit("a" * 32)
    upload.claim(writer)
    sealed = (store.blob_dir / ("a" * 32)).read_bytes()
    assert data not in sealed
    assert data[:4096] not in sealed
    assert hashlib.sha256(sealed).hexdigest() == writer.sealed_sha256
    assert len(sealed) == writer.sealed_size
    assert open_bytes(sealed, [identity]) == data
    upload.discard_unclaimed()
    assert (store.blob_dir / ("a" * 32)).exists()


def test_empty_part_and_parts_over_the_limit_are_discarded(store: LocalBlobStore) -> None:
    upload = _session(store, X25519Identity.generate(), max_files=1)
    assert isinstance(upload.open_part("group1-files", "", "application/octet-stream"), DiscardSink)
    first = upload.open_part("group1-files", "one.txt", "text/plain")
    assert isinstance(first, SealingWriter)
    extra = upload.open_part("group1-files", "two.txt", "text/plain")
    assert isinstance(extra, DiscardSink)
    assert extra.write(b"12345") == 5
    assert extra.seek(0) == 0
    assert upload.refused_files == 1
    assert len(list(store.temp_dir.iterdir())) == 1
    upload.discard_unclaimed()


def test_unclaimed_and_cut_off_parts_leave_nothing(store: LocalBlobStore) -> None:
    upload = _session(store, X25519Identity.generate())
    whole = upload.open_part("group1-files", "a.bin", None)
    cut = upload.open_part("group1-files", "b.bin", None)
    whole.write(b"x" * 100)
    whole.seek(0)
    cut.write(b"y" * 100)  # the client went away before this part's boundary
    assert [w.filename for w in upload.completed()] == ["a.bin"]
    upload.discard_unclaimed()
    upload.discard_unclaimed()  # idempotent
    assert list(store.temp_dir.iterdir()) == []


def test_writer_refuses_other_seeks_and_writes_after_completion(store: LocalBlobStore) -> None:
    upload = _session(store, X25519Identity.generate())
    writer = upload.open_part("group1-files", "a.bin", None)
    assert isinstance(writer, SealingWriter)
    with pytest.raises(io.UnsupportedOperation):
        writer.seek(5)
    writer.seek(0)
    with pytest.raises(io.UnsupportedOperation):
        writer.write(b"late")
    assert not writer.readable()
    upload.discard_unclaimed()


def test_reseal_header_moves_a_file_to_a_new_keyring(store: LocalBlobStore) -> None:
    old, new = X25519Identity.generate(), X25519Identity.generate()
    upload = _session(store, old)
    writer = upload.open_part("group1-files", "v.mp4", "video/mp4")
    assert isinstance(writer, SealingWriter)
    data = b"frame" * 30000
    _feed(writer, data)
    writer.seek(0)
    writer.temp.commit("b" * 32)  # type: ignore[attr-defined]
    upload.claim(writer)
    before = (store.blob_dir / ("b" * 32)).read_bytes()
    old_header_size = Header.parse(io.BytesIO(before))[0].size
    fd = os.open(store.blob_dir / ("b" * 32), os.O_RDONLY)  # still the old inode after the swap
    try:
        result = reseal_header(store, "b" * 32, writer.file_key, [new.recipient()])
        left = os.pread(fd, len(before), 0)
    finally:
        os.close(fd)
    # The old header wrapped the file key to the old keyring: overwritten, payload untouched.
    assert left == bytes(old_header_size) + before[old_header_size:]
    sealed = (store.blob_dir / ("b" * 32)).read_bytes()
    assert result.sealed_size == len(sealed)
    assert result.sealed_sha256 == hashlib.sha256(sealed).hexdigest()
    assert open_bytes(sealed, [new]) == data
    with pytest.raises(CryptoError):
        open_bytes(sealed, [old])
    assert list(store.temp_dir.iterdir()) == []
