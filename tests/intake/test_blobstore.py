"""LocalBlobStore: atomic commits, private files, day times, path checks, secure delete."""

from __future__ import annotations

import errno
import os
import stat
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from intake.blobstore import LocalBlobStore, _RawFile, new_blob_name
from intake.errors import DiskFullError, PathEscapeError, StorageError


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    blob_store = LocalBlobStore(tmp_path / "store")
    blob_store.ensure_dirs()
    return blob_store


def _put(store: LocalBlobStore, data: bytes, name: str | None = None) -> str:
    temp, handle = store.create_temp()
    with handle:
        handle.write(data)
    final = name or new_blob_name()
    store.commit(temp, final)
    return final


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_round_trip_with_private_modes(store: LocalBlobStore) -> None:
    name = _put(store, b"sealed bytes" * 1000)
    with store.open(name) as handle:
        assert handle.read() == b"sealed bytes" * 1000
    assert store.size(name) == 12_000
    assert store.exists(name)
    assert _mode(store.blob_dir / name) == 0o600
    for directory in (store.root, store.blob_dir, store.temp_dir):
        assert _mode(directory) == 0o700
    assert list(store.temp_dir.iterdir()) == []


def test_file_and_directory_times_are_midnight_utc(store: LocalBlobStore) -> None:
    name = _put(store, b"x")
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    for path in (store.blob_dir / name, store.blob_dir):
        info = path.stat()
        assert info.st_mtime == midnight
        assert info.st_atime == midnight


def test_commit_never_overwrites_unless_asked(store: LocalBlobStore) -> None:
    name = _put(store, b"first")
    temp, handle = store.create_temp()
    with handle:
        handle.write(b"second")
    with pytest.raises(StorageError):
        store.commit(temp, name)
    with store.open(name) as handle:
        assert handle.read() == b"first"
    store.commit(temp, name, replace=True)
    with store.open(name) as handle:
        assert handle.read() == b"second"


def _replacement(store: LocalBlobStore, data: bytes) -> str:
    temp, handle = store.create_temp()
    with handle:
        handle.write(data)
    return temp


def test_replace_overwrites_the_start_of_the_file_it_replaced(store: LocalBlobStore) -> None:
    old_header, payload = b"old header wrapping the file key\n", os.urandom(70_000)
    name = _put(store, old_header + payload)
    fd = os.open(store.blob_dir / name, os.O_RDONLY)  # the old inode, after the rename too
    try:
        temp = _replacement(store, b"new header\n" + payload)
        store.commit(temp, name, replace=True, scrub_replaced=len(old_header))
        left = os.pread(fd, 1 << 20, 0)
    finally:
        os.close(fd)
    assert left == bytes(len(old_header)) + payload
    with store.open(name) as handle:
        assert handle.read() == b"new header\n" + payload
    assert list(store.temp_dir.iterdir()) == []


def test_replace_scrubs_no_further_than_the_old_file(store: LocalBlobStore, tmp_path: Path) -> None:
    name = _put(store, b"short")
    witness_link = tmp_path / "link"  # a second name shows what became of the old inode
    os.link(store.blob_dir / name, witness_link)
    store.commit(_replacement(store, b"new"), name, replace=True, scrub_replaced=4096)
    assert witness_link.read_bytes() == bytes(5)


@pytest.mark.parametrize(
    "name",
    ["../escape", "/etc/passwd", "", "ABCDEF0123456789ABCDEF0123456789", "a" * 31, "a" * 33],
)
def test_names_outside_the_grammar_are_refused(store: LocalBlobStore, name: str) -> None:
    with pytest.raises(PathEscapeError):
        store.open(name)
    with pytest.raises(PathEscapeError):
        store.delete_secure(name)


def test_a_symlink_out_of_the_store_is_refused(store: LocalBlobStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_bytes(b"not ours")
    name = new_blob_name()
    (store.blob_dir / name).symlink_to(outside)
    with pytest.raises(PathEscapeError):
        store.open(name)
    with pytest.raises(PathEscapeError):
        store.delete_secure(name)
    assert outside.read_bytes() == b"not ours"


def test_delete_secure_overwrites_before_unlinking(store: LocalBlobStore, tmp_path: Path) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)
    name = _put(store, payload)
    # A second hard link survives the unlink and shows what happened to the blocks' content.
    witness_link = tmp_path / "link"
    os.link(store.blob_dir / name, witness_link)
    store.delete_secure(name)
    assert not store.exists(name)
    assert witness_link.read_bytes() == bytes(len(payload))


def test_discard_removes_a_temp(store: LocalBlobStore) -> None:
    temp, handle = store.create_temp()
    handle.write(b"partial")
    handle.close()
    store.discard(temp)
    store.discard(temp)  # already gone: fine
    assert list(store.temp_dir.iterdir()) == []


def test_sweep_takes_only_idle_temps(store: LocalBlobStore) -> None:
    idle, handle = store.create_temp()
    handle.close()
    old = time.time() - 7 * 3600
    os.utime(store.temp_dir / idle, (old, old))
    busy, handle = store.create_temp()
    handle.write(b"still uploading")
    handle.flush()
    assert store.sweep_temps(min_idle_seconds=6 * 3600) == 1
    assert [p.name for p in store.temp_dir.iterdir()] == [busy]
    handle.close()
    assert store.sweep_temps(min_idle_seconds=0) == 1


def test_names_filters_by_inode_change_age(store: LocalBlobStore) -> None:
    name = _put(store, b"x")
    assert store.names() == [name]
    assert store.names(min_age_seconds=3600) == []


def test_missing_blob_is_a_storage_error(store: LocalBlobStore) -> None:
    with pytest.raises(StorageError, match="no such blob"):
        store.open(new_blob_name())


def test_enospc_while_writing_is_disk_full(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: _RawFile, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_RawFile, "write", full)
    _, handle = store.create_temp()
    with pytest.raises(DiskFullError) as info:
        handle.write(b"x" * (1024 * 1024))  # larger than the buffer: reaches the raw file
    assert info.value.category == "storage"
    assert "free disk space" in (info.value.hint or "")
    handle.close()
    assert handle.closed


def test_enospc_at_commit_is_disk_full(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp, handle = store.create_temp()
    handle.close()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DiskFullError):
        store.commit(temp, new_blob_name())


def test_sweep_of_a_missing_store_is_empty(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "nothing")
    assert store.sweep_temps(min_idle_seconds=0) == 0
    assert store.names() == []


def test_enospc_on_a_buffered_flush_is_disk_full(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: _RawFile, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    _, handle = store.create_temp()
    handle.write(b"small")  # buffered: nothing reaches the disk yet
    monkeypatch.setattr(_RawFile, "write", full)
    with pytest.raises(DiskFullError):
        handle.flush()
    with pytest.raises(DiskFullError):
        handle.close()
    assert handle.closed


def test_delete_of_a_missing_blob(store: LocalBlobStore) -> None:
    name = new_blob_name()
    with pytest.raises(StorageError, match="no such blob"):
        store.delete_secure(name)
    store.delete_secure(name, missing_ok=True)


def test_discarding_a_temp_still_linked_to_its_blob_spares_the_blob(
    store: LocalBlobStore,
) -> None:
    # A commit cut between link and unlink leaves the temp and the blob one inode.
    temp, handle = store.create_temp()
    handle.write(b"sealed bytes")
    handle.close()
    name = new_blob_name()
    os.link(store.temp_dir / temp, store.blob_dir / name)
    store.discard(temp)
    assert not (store.temp_dir / temp).exists()
    assert (store.blob_dir / name).read_bytes() == b"sealed bytes"
