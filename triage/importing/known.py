"""Re-importing: submissions already in the workspace are acknowledged again (the first ack may
have been lost on the way) and files that failed before are completed from the new bundle.

An ack must name exactly the items the server exported, with this export's hashes
(docs/bundles.md), so a known submission is acknowledged only when all of its items are in this
bundle; a re-wrapped document or file (new header, same content) is recognised by its plaintext.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from protocol.meta.ack import AckedSubmission
from triage.custody.log import EntrySpec
from triage.importing.apply import attachment_state
from triage.importing.scan import ScanResult, SubmissionResult
from triage.workspace.blobs import BlobStore
from triage.workspace.models import Attachment, Submission

__all__ = ["Known", "known_rows"]


@dataclass
class Known:
    known: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unverified: dict[str, list[str]] = field(default_factory=dict)
    entries: list[EntrySpec] = field(default_factory=list)
    ack: list[AckedSubmission] = field(default_factory=list)


def _repair(attachment: Attachment, scan: ScanResult, store: BlobStore, known: Known) -> None:
    blob = scan.blobs.get(attachment.blob_name)
    if blob is None or blob.state != "opened":
        return
    check = attachment_state(attachment, blob)
    if check.state != "verified" or blob.staged is None:
        return
    store.adopt(blob.staged, attachment.blob_name, blob.sealed_sha256)
    attachment.state, attachment.state_detail, attachment.stored = check.state, check.detail, True
    attachment.sealed_sha256 = blob.sealed_sha256
    details = {"submission_id": attachment.submission_id, "result": check.state, "repaired": True}
    sha = attachment.plaintext_sha256
    known.entries.append(EntrySpec("verified", "attachment", attachment.blob_name, sha, details))


def _items(row: Submission, result: SubmissionResult, scan: ScanResult) -> list[str] | None:
    """Problems that keep the submission out of the ack (None: it can be acknowledged)."""
    problems = []
    for attachment in row.files:
        blob = scan.blobs.get(attachment.blob_name)
        if attachment.state != "verified":
            problems.append(f"{attachment.blob_name}: {attachment.state}")
        elif blob is None or blob.state not in ("known", "opened"):
            problems.append(f"{attachment.blob_name}: not in this bundle as exported")
    return problems or None


def _one(
    session: Session, result: SubmissionResult, scan: ScanResult, store: BlobStore, known: Known
) -> None:
    row = session.get(Submission, result.submission_id)
    if row is None or result.plain is None:
        return
    if hashlib.sha256(result.plain).hexdigest() != row.plain_sha256:
        known.conflicts.append(
            f"{row.id}: this bundle's submission.json differs from the one imported before; "
            "kept the first, not acknowledged"
        )
        return
    known.known.append(row.id)
    for attachment in row.files:
        if attachment.state != "verified":
            _repair(attachment, scan, store, known)
    problems = _items(row, result, scan)
    if problems:
        known.unverified[row.id] = problems
        return
    items = {result.item: result.sealed_sha256}
    items |= {
        scan.blobs[a.blob_name].item: scan.blobs[a.blob_name].sealed_sha256 for a in row.files
    }
    known.ack.append(AckedSubmission(row.id, items))


def known_rows(session: Session, scan: ScanResult, store: BlobStore, ids: set[str]) -> Known:
    """Handle every opened submission of the bundle whose id the workspace already holds."""
    known = Known()
    for result in scan.submissions:
        if result.state == "opened" and result.submission_id in ids:
            _one(session, result, scan, store, known)
            result.plain = result.submission = None
    return known
