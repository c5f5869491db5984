"""PartStore on its own: the upload's lock (one `done` or part at a time), the limit of
unfinished uploads per witness, and the bytes unfinished uploads have yet to write."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from intake.partstore import MAX_OPEN, PartError, PartStore, PartUpload, expiry_hour
from intake.sealedshape import sealed_payload_size


def _store(root: Path) -> PartStore:
    (root / "tmp").mkdir()  # the blob store's, made by it
    return PartStore(root)


def _upload(owner: str = "owner") -> PartUpload:
    return PartUpload(
        owner=owner,
        group=1,
        plain_size=1000,
        sealed_size=sealed_payload_size(1000) + 200,
        recipients=1,
        keyring_digest="d",
        expires=expiry_hour(3600),
    )


def test_the_upload_lock_lets_one_holder_in_at_a_time(tmp_path: Path) -> None:
    store = _store(tmp_path)
    upload_id = store.start(_upload(), max_bytes=10**9)
    order: list[str] = []

    def second() -> None:
        with store.locked(upload_id, "owner"):
            order.append("second")

    with store.locked(upload_id, "owner"):
        other = threading.Thread(target=second)
        other.start()
        time.sleep(0.3)  # the other `done` waits on the lock however long this takes
        order.append("first")
    other.join()
    assert order == ["first", "second"]


def test_unfinished_uploads_are_limited_per_owner_and_counted_for_the_disk(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    asked: list[int] = []
    size = _upload().sealed_size
    for _ in range(MAX_OPEN):
        store.start(_upload(), max_bytes=10**9, fits=asked.append)
    with pytest.raises(PartError):
        store.start(_upload(), max_bytes=10**9)
    store.start(_upload("someone else"), max_bytes=10**9, fits=asked.append)
    assert asked == [size * n for n in range(1, MAX_OPEN + 2)]  # theirs, then all of them
    assert expiry_hour(0) % 3600 == 0


def test_the_sweep_removes_a_lock_file_its_upload_left_behind(tmp_path: Path) -> None:
    # A cancel racing another call (the page aborts a part and cancels at once) can make the
    # loser recreate the lock file after the description went: reviewer's reproduction.
    store = _store(tmp_path)
    upload_id = store.start(_upload(), max_bytes=10**9)
    meta = next(store.meta_dir.glob("*.json"))
    lock = meta.with_suffix(".lock")
    assert store.cancel(upload_id, "owner")
    lock.touch()  # what the losing call leaves
    now = time.time()
    store.sweep(now)
    assert lock.exists()  # it may still be someone's for a moment
    store.sweep(now + 2 * 3600)
    assert not lock.exists()


def test_an_id_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    store = _store(tmp_path)
    upload_id = store.start(_upload(), max_bytes=10**9)
    # `$` matches before a final newline: the id must be the whole string, nothing after.
    with pytest.raises(PartError):
        store.load(upload_id + "\n", "owner")
    with pytest.raises(PartError):
        store.cancel(upload_id + "\n", "owner")
    assert store.load(upload_id, "owner").owner == "owner"


def test_a_start_sent_again_with_its_nonce_is_the_same_upload(tmp_path: Path) -> None:
    store = _store(tmp_path)
    asked: list[int] = []
    nonce = "ab" * 16
    first = store.start(replace(_upload(), nonce=nonce), max_bytes=10**9, fits=asked.append)
    again = store.start(replace(_upload(), nonce=nonce), max_bytes=10**9, fits=asked.append)
    assert again == first
    assert asked == [_upload().sealed_size]  # the repeat reserves nothing more
    assert store.live_ids() == {first}
    theirs = store.start(replace(_upload("someone else"), nonce=nonce), max_bytes=10**9)
    assert theirs != first  # another witness's nonce is theirs alone
    with pytest.raises(PartError):  # one nonce is one attempt at one file
        store.start(replace(_upload(), nonce=nonce, plain_size=999), max_bytes=10**9)
