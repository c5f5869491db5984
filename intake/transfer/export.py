"""`intake export`: the sealed submissions the server holds, as one export bundle.

The bundle holds only what the server stores: age files (each submission's sealed
submission.json and its sealed files) plus ids, days and the witness's public reply key. It is
written first and the database marked afterwards (state, day, and each blob's exported hash);
if marking fails the bundle is removed again, so an export on disk is always one the server
remembers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from intake.blobstore import BlobStore
from intake.clock import utc_today
from intake.db import SessionFactory
from intake.errors import BundleError, StorageError
from intake.keyring import Keyring
from intake.models import (
    Blob,
    BlobRecipient,
    BlobRole,
    ExportedBlob,
    Submission,
    SubmissionState,
)
from protocol.bundle import ItemSource, write_bundle
from protocol.errors import ProtocolError
from protocol.manifest import CURRENT_VERSIONS
from protocol.meta.export import (
    ExportFile,
    ExportKey,
    ExportMeta,
    ExportSubmission,
    KeyState,
    SubmissionKind,
)
from protocol.meta.items import blob_item, manifest_item

__all__ = [
    "ExportPlan",
    "ExportReport",
    "PlannedBlob",
    "PlannedSubmission",
    "plan_export",
    "run_export",
]


@dataclass(frozen=True)
class PlannedBlob:
    """One sealed blob to export: its item name, and its size and hash as recorded."""

    name: str
    item: str
    size: int
    sha256: str

    def source(self, store: BlobStore) -> ItemSource:
        name = self.name
        return ItemSource(self.item, self.size, self.sha256, lambda: store.open(name))


@dataclass(frozen=True)
class PlannedSubmission:
    """A submission to export and the bundle meta that describes it (docs/bundles.md)."""

    submission_id: str
    parent_id: str | None
    kind: SubmissionKind
    received_on: date
    witness_id: str
    witness_reply_recipient: str
    manifest: PlannedBlob
    files: tuple[PlannedBlob, ...]

    @property
    def blobs(self) -> tuple[PlannedBlob, ...]:
        return (self.manifest, *self.files)

    def meta(self) -> ExportSubmission:
        """What the export's meta says of it (protocol.meta.export, docs/bundles.md)."""
        return ExportSubmission(
            submission_id=self.submission_id,
            parent_id=self.parent_id,
            kind=self.kind,
            received_on=self.received_on,
            witness_id=self.witness_id,
            witness_reply_recipient=self.witness_reply_recipient,
            manifest_blob=self.manifest.name,
            manifest_sha256=self.manifest.sha256,
            files=tuple(ExportFile(f.name, f.sha256) for f in self.files),
        )


@dataclass(frozen=True)
class ExportPlan:
    """What one export will carry, read in one transaction, and the keyring file's keys then
    (carried in the meta so the laptop can compare them with its team's list)."""

    submissions: tuple[PlannedSubmission, ...]
    keyring: tuple[ExportKey, ...] = ()

    @property
    def total_bytes(self) -> int:
        return sum(blob.size for s in self.submissions for blob in s.blobs)

    @property
    def file_count(self) -> int:
        return sum(len(s.files) for s in self.submissions)


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote."""

    paths: tuple[Path, ...]
    submissions: int
    files: int
    sealed_bytes: int


def _planned(row: Submission) -> PlannedSubmission:
    manifests = [b for b in row.blobs if b.role is BlobRole.MANIFEST]
    if len(manifests) != 1 or manifests[0].name != row.manifest_blob:
        raise StorageError(
            f"submission {row.id} has no stored submission.json blob",
            hint="run `intake doctor`; the database and the blob store disagree",
        )
    files = sorted((b for b in row.blobs if b.role is BlobRole.FILE), key=lambda b: b.name)

    def planned(blob: Blob, item: str) -> PlannedBlob:
        return PlannedBlob(blob.name, item, blob.sealed_size, blob.sealed_sha256)

    return PlannedSubmission(
        submission_id=row.id,
        parent_id=row.parent_id,
        kind=cast(SubmissionKind, row.kind),  # checked when the meta is parsed back in _write
        received_on=row.received_on,
        witness_id=row.witness_id,
        witness_reply_recipient=row.witness.reply_recipient,
        manifest=planned(manifests[0], manifest_item(row.id)),
        files=tuple(planned(b, blob_item(b.name)) for b in files),
    )


def plan_export(
    sessions: SessionFactory, keyring: Keyring, *, include_exported: bool = False
) -> ExportPlan:
    """The submissions never exported (or, with `include_exported`, every one not purged),
    oldest first, and the keyring file's keys. Raises StorageError when a submission has no
    submission.json blob, KeyringFileError when the keyring file cannot be read."""
    keys = tuple(
        ExportKey(str(entry.recipient), entry.name, cast(KeyState, str(entry.state)))
        for entry in keyring.read().keys
    )
    states = [SubmissionState.STORED]
    if include_exported:
        states.append(SubmissionState.EXPORTED)
    query = (
        select(Submission)
        .where(Submission.state.in_(states))
        .options(selectinload(Submission.blobs), selectinload(Submission.witness))
        .order_by(Submission.received_on, Submission.id)
    )
    with sessions() as session:
        rows = session.scalars(query).all()
        return ExportPlan(tuple(_planned(row) for row in rows), keys)


def _recipients(session: Session, names: list[str]) -> dict[str, set[str]]:
    """The key fingerprints each blob is sealed to now (purge.py bounds a retired key's ack)."""
    query = select(BlobRecipient.blob_name, BlobRecipient.fingerprint).where(
        BlobRecipient.blob_name.in_(names)
    )
    found: dict[str, set[str]] = {}
    for name, fp in session.execute(query):
        found.setdefault(name, set()).add(fp)
    return found


def _mark_exported(session: Session, plan: ExportPlan, today: date) -> None:
    for planned in plan.submissions:
        row = session.get(Submission, planned.submission_id)
        if row is None or row.state is SubmissionState.PURGED:
            continue  # purged meanwhile (by another admin): nothing left to remember
        row.state = SubmissionState.EXPORTED
        row.exported_on = today
        sealed_to = _recipients(session, [blob.name for blob in planned.blobs])
        for blob in planned.blobs:
            session.merge(
                ExportedBlob(
                    blob_name=blob.name,
                    sealed_sha256=blob.sha256,
                    recipients=" ".join(sorted(sealed_to.get(blob.name, ()))),
                )
            )


def _write(
    plan: ExportPlan,
    store: BlobStore,
    out: Path,
    max_part_size: int | None,
    progress: Callable[[int], None] | None,
) -> list[Path]:
    items = [blob.source(store) for s in plan.submissions for blob in s.blobs]
    meta = ExportMeta(tuple(s.meta() for s in plan.submissions), plan.keyring).to_meta()
    try:
        # Parsed back as triage will parse it: a row the laptop would refuse (a kind or id out
        # of shape) stops the export here, where the admin can see why, not at import.
        ExportMeta.parse(meta, version=CURRENT_VERSIONS["export"])
    except ProtocolError as exc:
        raise StorageError(
            f"a stored row cannot be exported: {exc.message}",
            hint="run `intake doctor`; nothing was exported",
        ) from exc
    try:
        return write_bundle(
            out, "export", items, meta=meta, max_part_size=max_part_size, progress=progress
        )
    except FileExistsError as exc:
        raise BundleError(
            str(exc), hint="choose another --out: a bundle is never overwritten"
        ) from exc
    except ProtocolError as exc:
        raise StorageError(
            f"a stored blob differs from its record: {exc.message}",
            hint="run `intake doctor`; nothing was exported",
        ) from exc


def run_export(
    plan: ExportPlan,
    sessions: SessionFactory,
    store: BlobStore,
    out: Path,
    *,
    max_part_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    today: date | None = None,
) -> ExportReport:
    """Write the export bundle for `plan` at `out` (or its parts), then mark what it carried.

    Raises BundleError when `out` exists or there is nothing to export, StorageError when a
    blob is missing or no longer matches its recorded hash (nothing is left at `out`).
    """
    if not plan.submissions:
        raise BundleError("nothing to export", hint="--all exports again what was exported")
    paths = _write(plan, store, out, max_part_size, progress)
    try:
        with sessions() as session:
            _mark_exported(session, plan, today or utc_today())
            session.commit()
    except BaseException:
        for path in paths:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return ExportReport(
        paths=tuple(paths),
        submissions=len(plan.submissions),
        files=plan.file_count,
        sealed_bytes=plan.total_bytes,
    )
