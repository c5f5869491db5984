"""Re-importing: submissions already in the workspace are acknowledged again (the first ack may
have been lost on the way) and files that failed before are completed from the new bundle."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from triage.custody import EntrySpec
from triage.import_apply import AckItem, attachment_state
from triage.import_scan import ScanResult, SubmissionResult
from triage.workspace.blobs import BlobStore
from triage.workspace.models import Attachment, Submission

__all__ = ["Known", "known_rows"]


@dataclass
class Known:
    known: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unverified: dict[str, list[str]] = field(default_factory=dict)
    entries: list[EntrySpec] = field(default_factory=list)
    ack: list[AckItem] = field(default_factory=list)


def _repair(attachment: Attachment, scan: ScanResult, store: BlobStore, known: Known) -> None:
    blob = scan.blobs.get(attachment.blob_name)
    if blob is None or blob.state != "opened":
        return
    state, detail = attachment_state(attachment, blob)
    if state != "verified" or blob.staged is None:
        return
    store.adopt(blob.staged, attachment.blob_name, blob.sealed_sha256)
    attachment.state, attachment.state_detail, attachment.stored = state, detail, True
    details = {"submission_id": attachment.submission_id, "result": state, "repaired": True}
    known.entries.append(
        EntrySpec(
            "verified", "attachment", attachment.blob_name, attachment.plaintext_sha256, details
        )
    )


def _one(
    session: Session, result: SubmissionResult, scan: ScanResult, store: BlobStore, known: Known
) -> None:
    row = session.get(Submission, result.submission_id)
    if row is None:
        return
    if row.sealed_sha256 != result.sealed_sha256:
        known.conflicts.append(
            f"{row.id}: this bundle's sealed submission.json differs from the one imported "
            "before; kept the first, not acknowledged"
        )
        return
    known.known.append(row.id)
    items = [(result.item, result.sealed_sha256)]
    problems = []
    for attachment in row.files:
        if attachment.state != "verified":
            _repair(attachment, scan, store, known)
        if attachment.state == "verified":
            blob = scan.blobs.get(attachment.blob_name)
            item = blob.item if blob is not None else f"blobs/{attachment.blob_name}"
            items.append((item, attachment.sealed_sha256))
        else:
            problems.append(f"{attachment.blob_name}: {attachment.state}")
    if problems:
        known.unverified[row.id] = problems
    else:
        known.ack.append(AckItem(row.id, tuple(items)))


def known_rows(session: Session, scan: ScanResult, store: BlobStore) -> Known:
    """Handle every submission of the bundle that the workspace already holds."""
    known = Known()
    for result in scan.submissions:
        if result.state == "known" and result.submission_id is not None:
            _one(session, result, scan, store, known)
    return known
