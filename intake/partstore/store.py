"""The parts store: each part of a browser-sealed file appended in order, a drop costs one part.

Where the testimony page's script runs (issue 16), it seals a chosen file in the browser and
sends the sealed bytes in parts of `PART_SIZE` over separate requests. Each upload has an id
(random, 128 bits: only the page that started it knows it) and a small description file in
`<store>/parts/`; its bytes are appended, in order, to one temporary file in the blob store's
`tmp/` named by the id, so that finishing it is the store's ordinary atomic commit.

The server cannot read these bytes. What it checks: the first part starts with an age v1 header
holding exactly one X25519 stanza per key the page declared it sealed to (which the start
compared with the active keys; `sealedshape.check_header`), and that header's
length plus the payload's length for the declared plaintext size is the declared sealed size;
each part has its index's exact length; parts come in order. An upload that is not finished
expires with the witness's draft (each part moves the expiry on) and `sweep` removes it; the
blob store's idle-temp sweep leaves the temporary file of a live upload (`live_ids`). The page
cancels an upload it gives up (`cancel`); one it gave up without a word (a closed tab, a lost
cancel) and left idle for `IDLE_SECONDS` reserves only what it has written, so it cannot keep
other witnesses' uploads out for the day it takes to expire.

A cut (a dropped connection, a killed worker, a server restart) can leave a torn last part at
the end of the file: `have` counts only whole parts, and the next part first cuts the tail off.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import BinaryIO

from intake.partstore.upload import (
    MAX_OPEN,
    PART_SIZE,
    PartError,
    PartUpload,
    Whole,
    expiry_hour,
)
from intake.sealedshape import MAX_HEAD, check_header, sealed_payload_size

__all__ = ["PartStore"]

_ID = re.compile(r"[0-9a-f]{32}")  # fullmatch: `$` would admit a trailing newline
_READ = 64 * 1024

IDLE_SECONDS = 15 * 60
"""Quiet this long, an unfinished upload reserves only the bytes it has written (its temp file's
mtime moves with every part). The page's longest wait between tries is 30 s and a 4 MiB part
takes about 7 min at 10 kB/s, a poor Tor circuit; 15 min is past both, so a live upload keeps
its reservation, and a forgotten one frees it within a quarter of an hour, not a day."""

ORPHAN_LOCK_SECONDS = 60 * 60
"""A lock file whose description is gone and untouched this long is no request's any more."""


class PartStore:
    """Uploads in parts under `root` (the blob store's root: `parts/` and `tmp/`)."""

    def __init__(self, root: Path) -> None:
        self.meta_dir = root / "parts"
        self.temp_dir = root / "tmp"

    def _paths(self, upload_id: str) -> tuple[Path, Path]:
        if not _ID.fullmatch(upload_id):
            raise PartError("malformed upload id")
        return self.meta_dir / f"{upload_id}.json", self.temp_dir / upload_id

    def start(
        self, upload: PartUpload, max_bytes: int, fits: Callable[[int], None] = lambda _: None
    ) -> str:
        """A new upload's id, or the id of its owner's live upload with the same nonce (a
        start sent again: its answer was lost). Raises PartError when its declared sizes cannot
        be right or its owner holds `MAX_OPEN` unfinished uploads; `fits(bytes)` is called,
        under the lock that admits uploads, with the bytes every unfinished upload (this one
        too) has yet to write, and raises (DiskFullError) when they would not fit."""
        payload = sealed_payload_size(upload.plain_size)
        head = upload.sealed_size - payload
        if upload.plain_size > max_bytes or not 0 < head <= MAX_HEAD:
            raise PartError("the declared sizes of an upload are refused")
        self.meta_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _flocked(self.meta_dir / ".lock"):
            live = self._live()
            again = _repeated(live, upload)
            if again is not None:
                return again
            mine = [u for u in live.values() if u.owner == upload.owner]
            if len(mine) >= MAX_OPEN:
                raise PartError("too many unfinished uploads")
            fits(upload.sealed_size + sum(self._remaining(i, u) for i, u in live.items()))
            upload_id = secrets.token_hex(16)
            meta, temp = self._paths(upload_id)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            os.close(fd)
            self.save(upload_id, upload)
        return upload_id

    def _live(self) -> dict[str, PartUpload]:
        """The unexpired, unfinished uploads, by id."""
        live: dict[str, PartUpload] = {}
        for path in self.meta_dir.glob("*.json"):
            upload = _read(path)
            if upload is None or upload.finished or upload.expires < time.time():
                continue
            if upload.blob or (self.temp_dir / path.stem).is_file():
                live[path.stem] = upload
        return live

    def live_ids(self) -> set[str]:
        """Ids of unexpired, unfinished uploads: their temp files are not idle leftovers."""
        return set(self._live()) if self.meta_dir.is_dir() else set()

    def _remaining(self, upload_id: str, upload: PartUpload) -> int:
        try:
            written = self._paths(upload_id)[1].stat()
        except FileNotFoundError:
            return 0
        if written.st_mtime < time.time() - IDLE_SECONDS:
            return 0  # given up without a cancel: it holds what it wrote, reserves no more
        return max(0, upload.sealed_size - written.st_size)

    def cancel(self, upload_id: str, owner: str) -> bool:
        """Forget `owner`'s unfinished upload; True when its temp file is the caller's to
        remove (with the store's overwrite). An upload already gone, or finished (its file is
        in the draft), is left as it is: a cancel sent twice, or late, does no harm. Raises
        PartError when the upload is another witness's."""
        meta, temp = self._paths(upload_id)
        upload = _read(meta)
        if upload is None:
            return False
        if not secrets.compare_digest(upload.owner, owner):
            raise PartError("no such upload")
        with _flocked(meta.with_suffix(".lock")):  # not while a part or `done` is written
            upload = _read(meta)
            if upload is None or upload.finished or upload.blob:
                return False
            meta.unlink(missing_ok=True)
        meta.with_suffix(".lock").unlink(missing_ok=True)
        return temp.is_file()

    def save(self, upload_id: str, upload: PartUpload) -> None:
        """Write the description of `upload_id` (atomically: a reader sees old or new)."""
        meta = self._paths(upload_id)[0]
        fresh = meta.with_name(f".{upload_id}.{secrets.token_hex(4)}.tmp")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(upload), out)
        os.replace(fresh, meta)

    def load(self, upload_id: str, owner: str) -> PartUpload:
        """The upload `upload_id` of `owner`. Raises PartError when it is gone or not theirs."""
        meta, temp = self._paths(upload_id)
        upload = _read(meta)
        if upload is None or not secrets.compare_digest(upload.owner, owner):
            raise PartError("no such upload")
        if not upload.finished and not upload.blob and not temp.is_file():
            raise PartError("no such upload")
        if upload.expires < time.time():
            raise PartError("the upload has expired")
        return upload

    @contextlib.contextmanager
    def locked(self, upload_id: str, owner: str) -> Iterator[PartUpload]:
        """The upload, read again under its own lock: one part or `done` at a time."""
        self.load(upload_id, owner)  # a stranger's id makes no lock file
        with _flocked(self._paths(upload_id)[0].with_suffix(".lock")):
            yield self.load(upload_id, owner)

    def temp_exists(self, upload_id: str) -> bool:
        return self._paths(upload_id)[1].is_file()

    def have(self, upload_id: str, upload: PartUpload) -> int:
        """How many parts, from the first, arrived whole."""
        if upload.finished or upload.blob:
            return upload.parts
        try:
            size = self._paths(upload_id)[1].stat().st_size
        except FileNotFoundError as exc:  # taken by `done` or the sweep a moment ago
            raise PartError("no such upload") from exc
        return upload.parts if size == upload.sealed_size else size // PART_SIZE

    def put(self, upload_id: str, owner: str, index: int, data: bytes, ttl_seconds: float) -> int:
        """Append part `index` if it is the next one; returns how many parts are whole now.

        A part already held is accepted again without being written (the page resends a part
        whose answer a cut swallowed). Each part written moves the upload's expiry to
        `ttl_seconds` from now, so a long upload is not cut off half way. Raises PartError for
        a gap, a wrong length, or a first part whose header is not sealed to exactly as many
        keys as the page declared.
        """
        with self.locked(upload_id, owner) as upload:
            if not 0 <= index < upload.parts or len(data) != upload.part_length(index):
                raise PartError("a part has the wrong index or length")
            whole = self.have(upload_id, upload)
            if index < whole:
                return whole
            if index > whole:
                raise PartError("a part came before the one the server is missing")
            if index == 0:
                self._check_head(upload, data)
            try:
                out = self._paths(upload_id)[1].open("r+b")
            except FileNotFoundError as exc:
                raise PartError("no such upload") from exc
            with out:
                out.truncate(index * PART_SIZE)  # a torn part left by a cut
                out.seek(index * PART_SIZE)
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            self.save(upload_id, replace(upload, expires=expiry_hour(ttl_seconds)))
        return index + 1

    def _check_head(self, upload: PartUpload, data: bytes) -> None:
        try:
            header = check_header(data[:MAX_HEAD], upload.recipients)
        except ValueError as exc:
            raise PartError(str(exc)) from exc
        payload = sealed_payload_size(upload.plain_size)
        if header is None or header.size + payload != upload.sealed_size:
            raise PartError("the sealed file's header does not match its declared sizes")

    def finish(self, upload_id: str, upload: PartUpload) -> Whole:
        """The whole upload, ready for the store's commit. Raises PartError if parts miss."""
        if self.have(upload_id, upload) != upload.parts:
            raise PartError("the upload is not complete")
        digest = hashlib.sha256()
        try:
            with self._paths(upload_id)[1].open("rb") as sealed:
                _hash_into(digest, sealed)
        except FileNotFoundError as exc:
            raise PartError("no such upload") from exc
        return Whole(upload_id, upload, digest.hexdigest())

    def sweep(self, now: float | None = None) -> list[str]:
        """Remove expired descriptions (and those whose temp file is gone); returns their ids.

        Their temporary files are the caller's to remove, with the store's own overwrite.
        """
        now = time.time() if now is None else now
        gone: list[str] = []
        if not self.meta_dir.is_dir():
            return gone
        for path in self.meta_dir.glob("*.json"):
            upload = _read(path)
            # A temp file the store's idle sweep took leaves a description of nothing.
            gone_temp = upload is not None and not (
                upload.finished or upload.blob or (self.temp_dir / path.stem).is_file()
            )
            if (upload is None or upload.expires < now or gone_temp) and _ID.fullmatch(path.stem):
                path.unlink(missing_ok=True)
                path.with_suffix(".lock").unlink(missing_ok=True)
                gone.append(path.stem)
        self._sweep_orphan_locks(now)
        return gone

    def _sweep_orphan_locks(self, now: float) -> None:
        """Remove lock files whose description is gone and that nobody touched for an hour.

        A cancel racing another call for the same upload can recreate the lock file after
        the description went (the loser opens the lock path to wait its turn); an hour later
        no request still holds it, and each would otherwise stay for good.
        """
        for lock in self.meta_dir.glob("*.lock"):
            if lock.with_suffix(".json").exists() or not _ID.fullmatch(lock.stem):
                continue
            try:
                idle = now - lock.stat().st_mtime
            except OSError:
                continue
            if idle > ORPHAN_LOCK_SECONDS:
                lock.unlink(missing_ok=True)


def _read(meta: Path) -> PartUpload | None:
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        data["fingerprints"] = tuple(data.get("fingerprints", ()))
        return PartUpload(**data)
    except (OSError, ValueError, TypeError, AttributeError):
        return None


@contextlib.contextmanager
def _flocked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def _hash_into(digest: hashlib._Hash, source: BinaryIO) -> None:
    while chunk := source.read(_READ):
        digest.update(chunk)


def _repeated(live: dict[str, PartUpload], upload: PartUpload) -> str | None:
    """The id of `upload`'s owner's live upload with its nonce, if any (checked under the
    store's lock, so two tries of one start cannot both make one). Raises PartError when that
    upload's sizes differ: one nonce is one attempt at one file."""
    if not upload.nonce:
        return None
    for upload_id, held in live.items():
        if held.nonce == upload.nonce and secrets.compare_digest(held.owner, upload.owner):
            if replace(held, expires=upload.expires) != upload:
                raise PartError("a start sent again does not match the first")
            return upload_id
    return None
