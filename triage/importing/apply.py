"""Turn a scanned export bundle into workspace rows, stored blobs and custody entries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.orm import Session

from protocol.entries import HashSource
from protocol.meta.ack import AckedSubmission
from protocol.schema import FileEntry
from protocol.schema import Submission as Sealed
from triage.custody.log import EntrySpec
from triage.importing import derive
from triage.importing.scan import BlobResult, ScanResult, SubmissionResult
from triage.text.rule_notes import rule_notes
from triage.text.translit import tokens
from triage.workspace.answers import other_key_warning, other_parent_key, sent_to
from triage.workspace.blobs import BlobStore
from triage.workspace.models import VERIFIED, Attachment, Document, SearchText, Submission

__all__ = ["Applied", "FileCheck", "attachment_state", "new_rows"]

_BATCH = 500


@dataclass
class Applied:
    new: list[str] = field(default_factory=list)
    witnesses: set[str] = field(default_factory=set)
    unverified: dict[str, list[str]] = field(default_factory=dict)
    recipient_mismatch: list[str] = field(default_factory=list)
    entries: list[EntrySpec] = field(default_factory=list)
    ack: list[AckedSubmission] = field(default_factory=list)
    rule_warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FileCheck:
    """What an import found of one file: its state (verified, mismatch, missing, not-yours,
    damaged) and a detail for people (empty when there is nothing to add)."""

    state: str
    detail: str = ""


class Claimed(Protocol):
    """What submission.json claims of a file (a FileEntry, or an Attachment row made from one)."""

    @property
    def sealed_sha256(self) -> str: ...
    @property
    def plaintext_sha256(self) -> str: ...
    @property
    def size(self) -> int: ...


def attachment_state(
    entry: Claimed, blob: BlobResult | None, by: HashSource = "server"
) -> FileCheck:
    """What one file is, from what the bundle held for it; `by` computed its plaintext hash
    (a FileEntry says; an Attachment row does not keep it, and its message does not need it).
    """
    if blob is None:
        return FileCheck("missing", "the blob is not in this bundle")
    if blob.state in ("not-yours", "damaged"):
        return FileCheck(blob.state, blob.detail or "the blob does not open with your identity")
    # The plaintext is the authority: after a re-wrap on the server the sealed bytes (header)
    # differ from those recorded at receipt while the content is the same (docs/bundles.md).
    if blob.plaintext_sha256 != entry.plaintext_sha256 or blob.plaintext_size != entry.size:
        # A hash the witness's browser computed was never checked before this (schema 2).
        said = "the witness's browser computed" if by == "browser" else "submission.json says"
        return FileCheck(
            "mismatch",
            f"opened file has SHA-256 {blob.plaintext_sha256} and {blob.plaintext_size} bytes; "
            f"{said} {entry.plaintext_sha256} and {entry.size}",
        )
    if blob.sealed_sha256 != entry.sealed_sha256:
        return FileCheck(VERIFIED, "re-wrapped since receipt (new header); content verified")
    return FileCheck(VERIFIED)


def _row(
    sealed: Sealed, plain: bytes, result: SubmissionResult, scan: ScanResult, actor: str
) -> Submission:
    answers = sealed.answers
    window = derive.date_window(answers.text("B4_date"), answers.text("B4_precision"))
    consent = derive.joined(answers.codes("A4"))
    # The sealed submission.json is the authority; the export's word is kept beside it so a
    # difference can be shown (the reply key) and a re-wrap can name the server's blob.
    listed = scan.meta.get(sealed.submission_id)
    return Submission(
        id=sealed.submission_id,
        kind=sealed.kind,
        parent_id=sealed.parent_id,
        received_at=sealed.received_at.replace(tzinfo=None),
        day=sealed.received_at.date(),
        ui_language=sealed.ui_language,
        witness_recipient=sealed.witness_reply_recipient,
        export_recipient=listed.witness_reply_recipient if listed else None,
        status="closed" if sealed.kind == "consent_change" else "new",
        incident_types=derive.joined(answers.codes("B3")),
        oblast=derive.oblast(sealed),
        event_from=window[0] if window else None,
        event_to=window[1] if window else None,
        consent=consent,
        consent_original=consent,
        opened=Document(submission_id=sealed.submission_id, document=plain.decode("utf-8")),
        search=SearchText(submission_id=sealed.submission_id, text=derive.search_text(sealed)),
        unit_tokens=derive.joined(tokens(derive.unit_texts(sealed))),
        sealed_item=result.item,
        sealed_sha256=result.sealed_sha256,
        sealed_blob=listed.manifest_blob if listed else None,
        plain_sha256=hashlib.sha256(plain).hexdigest(),
        decrypted_by=actor,
        imported_at=datetime.now(UTC).replace(tzinfo=None),
    )


def _attachment(
    sub_id: str, position: int, entry: FileEntry, state: FileCheck, sealed_sha256: str
) -> Attachment:
    return Attachment(
        blob_name=entry.blob_name,
        submission_id=sub_id,
        position=position,
        sealed_sha256=sealed_sha256,  # of the copy kept here (see attachment_state)
        plaintext_sha256=entry.plaintext_sha256,
        size=entry.size,
        declared_type=entry.declared_type,
        original_name=entry.original_name,
        group_no=entry.group,
        group_answers=json.dumps(entry.group_answers.to_dict(), ensure_ascii=False),
        state=state.state,
        state_detail=state.detail,
        stored=state.state == VERIFIED,
    )


def new_rows(
    session: Session,
    scan: ScanResult,
    store: BlobStore,
    actor: str,
    known: Container[str],
) -> Applied:
    """Add every newly opened submission (and its files) to `session`; blobs are adopted into
    `store` only when verified. Submissions in `known` are left to import_known. Returns what
    happened, with the custody entries to write."""
    applied = Applied()
    bundle = scan.manifest_sha256
    for number, result in enumerate(scan.submissions, start=1):
        sealed = result.submission
        if result.state != "opened" or sealed is None or sealed.submission_id in known:
            continue
        # Memory stays bounded: what was opened is dropped once it is a row, and rows leave
        # the session once written (the transaction stays open until the import commits).
        result.submission, result.plain, plain = None, None, result.plain
        row = _row(sealed, plain or b"", result, scan, actor)
        session.add(row)
        if result.staged is not None:
            store.adopt_document(result.staged, row.id, result.sealed_sha256)
        applied.new.append(row.id)
        applied.witnesses.add(row.witness_recipient)
        if row.export_recipient is not None and row.export_recipient != row.witness_recipient:
            applied.recipient_mismatch.append(row.id)
        notes = rule_notes(sealed)
        applied.rule_warnings += [f"{row.id}: {note}" for note in notes]
        _entries_for_submission(applied, row, bundle, notes, _doubts(session, sealed, applied))
        _files(session, sealed, row.id, (scan, store, applied), {result.item: result.sealed_sha256})
        if number % _BATCH == 0:
            session.flush()
            session.expunge_all()
    session.flush()
    session.expunge_all()
    return applied


def _files(
    session: Session,
    sealed: Sealed,
    sub_id: str,
    where: tuple[ScanResult, BlobStore, Applied],
    items: dict[str, str],
) -> None:
    """Each file's row and custody entry; its blob kept if verified; the ack if all were."""
    scan, store, applied = where
    problems = []
    for position, entry in enumerate(sealed.files, start=1):
        blob = scan.blobs.get(entry.blob_name)
        state = attachment_state(entry, blob, entry.plaintext_sha256_by)
        kept = blob.sealed_sha256 if blob is not None else entry.sealed_sha256
        session.add(_attachment(sub_id, position, entry, state, kept))
        applied.entries.append(_verified_entry(sub_id, entry, state, kept))
        if state.state == "verified" and blob is not None and blob.staged is not None:
            store.adopt(blob.staged, entry.blob_name, blob.sealed_sha256)
            items[blob.item] = blob.sealed_sha256
        else:
            problems.append(f"{entry.blob_name}: {state.state}")
    if problems:
        applied.unverified[sub_id] = problems
    else:
        applied.ack.append(AckedSubmission(sub_id, items))


def _doubts(session: Session, sealed: Sealed, applied: Applied) -> tuple[str | None, str | None]:
    """What the site should have refused and triage can see, each warned of: the reply named if
    it was not sent to this witness, and the testimony's reply key if it is another's."""
    sub_id, unknown = sealed.submission_id, _unknown_reply(session, sealed)
    if unknown is not None:
        applied.rule_warnings.append(
            f"{sub_id}: in_reply_to names {unknown}, a reply this workspace did not send "
            "to this witness (forged, another witness's or another workspace's): not "
            "threaded as an answer"
        )
    other_key = other_parent_key(session, sealed.parent_id, sealed.witness_reply_recipient)
    if other_key is not None:
        applied.rule_warnings.append(other_key_warning(sub_id, sealed.parent_id or ""))
    return unknown, other_key


def _unknown_reply(session: Session, sealed: Sealed) -> str | None:
    """The reply `sealed` names if this workspace did not send it to the same witness."""
    named = sealed.in_reply_to
    if named is None or sent_to(session, named, sealed.witness_reply_recipient) is not None:
        return None
    return named


def _entries_for_submission(
    applied: Applied,
    row: Submission,
    bundle: str,
    notes: list[str],
    doubts: tuple[str | None, str | None],
) -> None:
    """The received and decrypted entries; `doubts` are the unknown reply it names and its
    testimony's other reply key (None each when there is no such doubt)."""
    unknown_reply, parent_reply_key = doubts
    received = {"bundle_manifest_sha256": bundle, "item": row.sealed_item}
    applied.entries.append(EntrySpec("received", "submission", row.id, row.sealed_sha256, received))
    decrypted: dict[str, object] = {"decrypted_by": row.decrypted_by, "kind": row.kind}
    if notes:
        # Where its content is first read: the witness site's rules it breaks (rule_notes).
        decrypted["rule_warnings"] = notes
    if unknown_reply is not None:
        # The witness site lets a witness answer only their own replies: this one was not.
        decrypted["unknown_reply"] = unknown_reply
    if parent_reply_key is not None:
        # The site lets a witness add only to their own testimonies: this one was another's.
        decrypted["parent_reply_key"] = parent_reply_key
    applied.entries.append(
        EntrySpec("decrypted", "submission", row.id, row.plain_sha256, decrypted)
    )


def _verified_entry(sub_id: str, entry: FileEntry, state: FileCheck, kept: str) -> EntrySpec:
    details = {
        "submission_id": sub_id,
        "sealed_sha256": kept,
        "size": entry.size,
        "result": state.state,
    }
    if state.detail:
        details["detail"] = state.detail
    return EntrySpec("verified", "attachment", entry.blob_name, entry.plaintext_sha256, details)
