"""One streamed pass over an export bundle: every item checked, each sealed file opened and
hashed as it goes by, what this identity opens staged (still sealed) for the import."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal, cast

from crypto.age import open_bytes, open_into
from crypto.errors import CryptoError, NoIdentityMatchError
from crypto.x25519 import X25519Identity
from protocol.bundle import ItemReader, open_bundle
from protocol.errors import ProtocolError
from protocol.manifest import Manifest
from protocol.meta.export import ExportMeta
from protocol.meta.items import blob_of_item, submission_of_item
from protocol.schema import MAX_SUBMISSION_JSON, Submission

__all__ = ["BlobResult", "ScanResult", "SubmissionResult", "open_hashed", "scan_bundle"]

State = Literal["opened", "known", "not-yours", "damaged", "invalid"]
# A sealed submission.json: the document's limit plus age's per-chunk tag and a header.
_MAX_SEALED_JSON = MAX_SUBMISSION_JSON + MAX_SUBMISSION_JSON // 4096 + 65536


@dataclass
class BlobResult:
    name: str
    item: str
    sealed_sha256: str
    state: State
    staged: Path | None = None
    plaintext_sha256: str | None = None
    plaintext_size: int | None = None
    detail: str = ""


@dataclass
class SubmissionResult:
    item: str
    sealed_sha256: str
    state: State
    submission_id: str | None = None
    staged: Path | None = None
    submission: Submission | None = None
    plain: bytes | None = None
    detail: str = ""


@dataclass
class ScanResult:
    manifest: Manifest
    manifest_sha256: str
    meta: ExportMeta
    blobs: dict[str, BlobResult] = field(default_factory=dict)
    submissions: list[SubmissionResult] = field(default_factory=list)


class _Counted(io.RawIOBase):
    """Reads an item, reporting progress as it goes."""

    def __init__(self, item: ItemReader, progress: Callable[[int], None]):
        self._item, self._progress = item, progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        count = self._item.readinto(buffer)
        self._progress(count)
        return count

    def drain(self) -> None:
        buffer = bytearray(min(1 << 20, max(1, self._item.entry.size)))
        while self.readinto(buffer):
            pass


class _Digest(io.RawIOBase):
    """Where opened plaintext goes: hashed and counted, never kept (nor written to disk).

    open_into calls write() from its worker threads, one call at a time and in order, with
    buffers of up to a batch; hashlib releases the GIL on those, so hashing overlaps opening.
    """

    def __init__(self) -> None:
        self.digest, self.size = hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.digest.update(data)
        self.size += len(data)
        return len(data)


def open_hashed(stream: BinaryIO, identities: Sequence[X25519Identity]) -> tuple[str, int]:
    """Open the sealed file read from `stream`; its plaintext's SHA-256 (hex) and size. The
    plaintext is hashed on the opening threads and never kept. Raises CryptoError."""
    sink = _Digest()
    # open_into only ever calls write(): the sink needs no more of BinaryIO.
    open_into(stream, identities, cast(BinaryIO, sink))
    return sink.digest.hexdigest(), sink.size


@dataclass
class _Scanner:
    identities: Sequence[X25519Identity]
    staging: Path
    known_blobs: Container[str]
    progress: Callable[[int], None]

    def blob(self, item: ItemReader, name: str) -> BlobResult:
        result = BlobResult(name, item.entry.name, item.entry.sha256, "opened")
        if name in self.known_blobs:
            _Counted(item, self.progress).drain()
            result.state = "known"
            return result
        # The sealed bytes go to staging in the kernel first; the item is then read back from
        # that copy, hashed against the manifest and opened in one pass: what is kept is what
        # was checked, and no byte of it is written through Python (bench/triage_import.py).
        staged = self.staging / name
        item.copy_to(staged)
        counted = _Counted(item, self.progress)
        self._open_blob(io.BufferedReader(counted, 1 << 20), result)
        counted.drain()
        if result.state == "opened":
            result.staged = staged
        else:
            staged.unlink()
        return result

    def _open_blob(self, stream: BinaryIO, result: BlobResult) -> None:
        try:
            result.plaintext_sha256, result.plaintext_size = open_hashed(stream, self.identities)
        except NoIdentityMatchError:
            result.state = "not-yours"
        except CryptoError as exc:
            result.state, result.detail = "damaged", f"{exc.category}: {exc}"

    def submission(self, item: ItemReader, wanted_id: str) -> SubmissionResult:
        # Always opened, even when already imported: a re-wrapped document has other sealed
        # bytes but the same plaintext, and a small document costs little to open.
        result = SubmissionResult(item.entry.name, item.entry.sha256, "opened", wanted_id)
        if item.entry.size > _MAX_SEALED_JSON:
            _Counted(item, self.progress).drain()
            result.state, result.detail = "invalid", "sealed submission.json is too large"
            return result
        sealed = item.read_all(_MAX_SEALED_JSON)
        self.progress(len(sealed))
        self._open_submission(sealed, result, wanted_id)
        if result.state == "opened" and result.submission is not None:
            result.staged = self.staging / f"{result.submission.submission_id}.json.age"
            result.staged.write_bytes(sealed)
        return result

    def _open_submission(self, sealed: bytes, result: SubmissionResult, wanted: str) -> None:
        try:
            result.plain = open_bytes(sealed, self.identities)
            result.submission = Submission.from_json(result.plain)
        except NoIdentityMatchError:
            result.state = "not-yours"
        except CryptoError as exc:
            result.state, result.detail = "damaged", f"{exc.category}: {exc}"
        except ProtocolError as exc:
            result.state, result.detail = "invalid", str(exc.diagnostics())
        else:
            found = result.submission.submission_id
            if found != wanted:
                result.state = "invalid"
                result.detail = f"item {result.item} holds submission {found}"
            result.submission_id = found


def scan_bundle(
    path: Path,
    identities: Sequence[X25519Identity],
    staging: Path,
    *,
    known_blobs: Container[str] = (),
    progress: Callable[[int], None] = lambda _n: None,
    on_manifest: Callable[[Manifest], None] = lambda _m: None,
) -> ScanResult:
    """Read the export bundle at `path` once. Raises ProtocolError when the bundle itself is
    malformed, its meta does not follow docs/bundles.md (a blob or a submission listed twice,
    an item the meta does not describe), or any item differs from its manifest entry: then
    nothing may be imported. The meta is checked before any item is staged."""
    scanner = _Scanner(identities, staging, known_blobs, progress)
    with open_bundle(path, expect_kind="export") as reader:
        on_manifest(reader.manifest)
        meta = ExportMeta.from_manifest(reader.manifest)
        digest = hashlib.sha256(reader.manifest_bytes).hexdigest()
        scan = ScanResult(reader.manifest, digest, meta)
        for item in reader.items():
            _scan_item(scanner, scan, item)
    return scan


def _scan_item(scanner: _Scanner, scan: ScanResult, item: ItemReader) -> None:
    # ExportMeta.from_manifest checked that every item is exactly one submission's
    # submission.json or one of its files; nothing else reaches here.
    name = item.entry.name
    if (submission_id := submission_of_item(name)) is not None:
        scan.submissions.append(scanner.submission(item, submission_id))
    elif (blob := blob_of_item(name)) is not None:
        scan.blobs[blob] = scanner.blob(item, blob)
    else:  # pragma: no cover - refused by ExportMeta.from_manifest
        raise ProtocolError("schema", f"item {name} is not described by the meta")
