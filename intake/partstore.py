"""A browser-sealed file sent in parts: each part appended in order, a drop costs one part.

Where the testimony page's script runs (issue 16), it seals a chosen file in the browser and
sends the sealed bytes in parts of `PART_SIZE` over separate requests. Each upload has an id
(random, 128 bits: only the page that started it knows it) and a small description file in
`<store>/parts/`; its bytes are appended, in order, to one temporary file in the blob store's
`tmp/` named by the id, so that finishing it is the store's ordinary atomic commit.

The server cannot read these bytes. What it checks: the first part starts with an age v1 header
holding exactly one X25519 stanza per active key (`presealed.check_header`), and that header's
length plus the payload's length for the declared plaintext size is the declared sealed size;
each part has its index's exact length; parts come in order. An upload that is not finished
expires with the witness's draft and `sweep_parts` removes it; its temporary file is idle and
the blob store's own sweep would take it too.

A cut (a dropped connection, a killed worker, a server restart) can leave a torn last part at
the end of the file: `have` counts only whole parts, and the next part first cuts the tail off.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import BinaryIO

from intake.errors import IntakeError
from intake.sealedshape import MAX_HEAD, check_header, sealed_payload_size

__all__ = ["PART_SIZE", "PartError", "PartStore", "PartUpload", "Whole", "owner_of"]

PART_SIZE = 4 * 1024 * 1024
"""A few MiB: over a good Tor circuit about ten seconds, so a drop costs at most that much."""

_ID = re.compile(r"^[0-9a-f]{32}$")
_READ = 64 * 1024


class PartError(IntakeError):
    """A part or an upload that is refused (the page starts the file again or falls back)."""

    category = "parts"


@dataclass(frozen=True)
class PartUpload:
    """What the server knows of an upload in progress: nothing the sealed bytes do not say."""

    owner: str
    group: int
    plain_size: int
    sealed_size: int
    recipients: int
    keyring_digest: str
    expires: float
    fingerprints: tuple[str, ...] = ()  # the keys it is sealed to (issue 16, item 4)
    # Set once the file is in the draft: a `done` sent again (its answer lost to a cut) is
    # answered as the first was, never kept twice.
    finished: bool = False

    @property
    def parts(self) -> int:
        return max(1, -(-self.sealed_size // PART_SIZE))

    def part_length(self, index: int) -> int:
        """The exact length part `index` must have."""
        if index < self.parts - 1:
            return PART_SIZE
        return self.sealed_size - PART_SIZE * (self.parts - 1)


@dataclass(frozen=True)
class Whole:
    """A finished upload: its temporary file's name in the store, and its sealed hash."""

    temp_name: str
    upload: PartUpload
    sealed_sha256: str


def owner_of(witness_id: str) -> str:
    """The owner recorded for a witness: a hash, so the parts directory names nobody."""
    return hashlib.sha256(b"intake-parts-owner\0" + witness_id.encode()).hexdigest()


class PartStore:
    """Uploads in parts under `root` (the blob store's root: `parts/` and `tmp/`)."""

    def __init__(self, root: Path) -> None:
        self.meta_dir = root / "parts"
        self.temp_dir = root / "tmp"

    def _paths(self, upload_id: str) -> tuple[Path, Path]:
        if not _ID.match(upload_id):
            raise PartError("malformed upload id")
        return self.meta_dir / f"{upload_id}.json", self.temp_dir / upload_id

    def start(self, upload: PartUpload, max_bytes: int) -> str:
        """A new upload's id. Raises PartError when its declared sizes cannot be right."""
        payload = sealed_payload_size(upload.plain_size)
        head = upload.sealed_size - payload
        if upload.plain_size > max_bytes or not 0 < head <= MAX_HEAD:
            raise PartError("the declared sizes of an upload are refused")
        upload_id = secrets.token_hex(16)
        meta, temp = self._paths(upload_id)
        self.meta_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        os.close(fd)
        fd = os.open(meta, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(upload), out)
        return upload_id

    def load(self, upload_id: str, owner: str) -> PartUpload:
        """The upload `upload_id` of `owner`. Raises PartError when it is gone or not theirs."""
        meta, temp = self._paths(upload_id)
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            data["fingerprints"] = tuple(data.get("fingerprints", ()))
            upload = PartUpload(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise PartError("no such upload") from exc
        if not secrets.compare_digest(upload.owner, owner):
            raise PartError("no such upload")
        if not upload.finished and not temp.is_file():
            raise PartError("no such upload")
        if upload.expires < time.time():
            raise PartError("the upload has expired")
        return upload

    def have(self, upload_id: str, upload: PartUpload) -> int:
        """How many parts, from the first, arrived whole."""
        if upload.finished:
            return upload.parts
        size = self._paths(upload_id)[1].stat().st_size
        return upload.parts if size == upload.sealed_size else size // PART_SIZE

    def put(self, upload_id: str, upload: PartUpload, index: int, data: bytes) -> int:
        """Append part `index` if it is the next one; returns how many parts are whole now.

        A part already held is accepted again without being written (the page resends a part
        whose answer a cut swallowed). Raises PartError for a gap, a wrong length, or a first
        part whose header is not sealed to exactly the active keys.
        """
        if not 0 <= index < upload.parts or len(data) != upload.part_length(index):
            raise PartError("a part has the wrong index or length")
        if upload.finished:
            return upload.parts
        if index == 0:
            self._check_head(upload, data)
        temp = self._paths(upload_id)[1]
        with temp.open("r+b") as out:
            fcntl.flock(out, fcntl.LOCK_EX)  # two requests for one upload: one at a time
            whole = self.have(upload_id, upload)
            if index < whole:
                return whole
            if index > whole:
                raise PartError("a part came before the one the server is missing")
            out.truncate(index * PART_SIZE)  # a torn part left by a cut
            out.seek(index * PART_SIZE)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
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
        with self._paths(upload_id)[1].open("rb") as sealed:
            _hash_into(digest, sealed)
        return Whole(upload_id, upload, digest.hexdigest())

    def mark_finished(self, upload_id: str, upload: PartUpload) -> None:
        """Record that the upload is in the draft (its temp file was committed)."""
        meta = self._paths(upload_id)[0]
        fresh = meta.with_name(f".{upload_id}.{secrets.token_hex(4)}.tmp")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(replace(upload, finished=True)), out)
        os.replace(fresh, meta)

    def sweep(self, now: float | None = None) -> list[str]:
        """Remove expired descriptions (and those whose temp file is gone); returns their ids.

        Their temporary files are the caller's to remove, with the store's own overwrite.
        """
        now = time.time() if now is None else now
        gone: list[str] = []
        if not self.meta_dir.is_dir():
            return gone
        for path in self.meta_dir.glob("*.json"):
            try:
                expires = float(json.loads(path.read_text(encoding="utf-8"))["expires"])
            except (OSError, ValueError, KeyError, TypeError):
                expires = 0.0
            # A temp file the store's idle sweep took leaves a description of nothing.
            try:
                finished = bool(json.loads(path.read_text(encoding="utf-8")).get("finished"))
            except (OSError, ValueError, AttributeError):
                finished = False
            gone_temp = not finished and not (self.temp_dir / path.stem).is_file()
            if (expires < now or gone_temp) and _ID.match(path.stem):
                path.unlink(missing_ok=True)
                gone.append(path.stem)
        return gone


def _hash_into(digest: hashlib._Hash, source: BinaryIO) -> None:
    while chunk := source.read(_READ):
        digest.update(chunk)
