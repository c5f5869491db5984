"""Committing a submission: reseal headers if the keyring moved, seal submission.json, one
transaction for every row. Blobs are named first and the database row committed last; on any
failure the blobs this call named are removed again, so no blob outlives a missing row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.age import seal_bytes
from intake.blobstore import new_blob_name
from intake.clock import utc_now, utc_today
from intake.errors import IntakeError
from intake.models import (
    Blob,
    BlobRecipient,
    BlobRole,
    DraftBlob,
    PendingDraft,
    Submission,
    SubmissionRecord,
    SubmissionState,
    Witness,
)
from intake.web.services.context import WebContext
from intake.web.services.guards import form_token_used, mark_form_token_used
from intake.web.services.incoming import IncomingFile
from intake.web.services.receive import KeyringSnapshot, forget_blobs, snapshot_keyring
from intake.web.services.records import ConsentEntry, RecordFile, seal_consent, seal_files
from intake.web.services.storage import reseal_header, write_blob
from protocol import ids
from protocol.entries import Answers, ConsentChange, FileEntry
from protocol.schema import Submission as SubmissionDoc
from protocol.schema import SubmissionKind

__all__ = [
    "AlreadyReceivedError",
    "NewSubmission",
    "NewWitness",
    "NoActiveKeyError",
    "Receipt",
    "ReceiptFile",
    "commit_submission",
]


class AlreadyReceivedError(IntakeError):
    """This form was already submitted (a refresh or a double click won the race)."""

    category = "already_received"

    def __init__(self) -> None:
        super().__init__("this form was already received")


class NoActiveKeyError(IntakeError):
    """The keyring has no active key: nothing can be sealed, the site is not accepting."""

    category = "no_active_key"

    def __init__(self) -> None:
        super().__init__("the keyring file has no active key")


@dataclass(frozen=True)
class NewWitness:
    """A witness row to create with the submission (the codename's lookup and reply key)."""

    lookup: bytes
    reply_recipient: str


@dataclass(frozen=True)
class NewSubmission:
    """What the caller knows about a submission before it is committed."""

    kind: SubmissionKind
    answers: Answers
    ui_language: str
    reply_recipient: str
    form_token: str
    files: Sequence[IncomingFile] = ()
    group_answers: dict[int, Answers] = field(default_factory=dict)
    witness_id: str | None = None
    new_witness: NewWitness | None = None
    parent_id: str | None = None
    consent_change: ConsentChange | None = None
    in_reply_to: str | None = None  # the reply a follow-up answers (checked to be the witness's)
    releases_draft: bool = False  # the files come from the witness's draft (and leave it)


@dataclass(frozen=True)
class ReceiptFile:
    """One line of the receipt: what was received, exactly."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Receipt:
    """What the response to the POST shows once (never stored)."""

    reference: str
    files: tuple[ReceiptFile, ...]
    codename: str | None = None
    support_info: bool = False


def _reseal_moved(
    ctx: WebContext, files: Sequence[IncomingFile], now: KeyringSnapshot
) -> list[IncomingFile]:
    """Files sealed to an older keyring get a header for the current one (file key known)."""
    current: list[IncomingFile] = []
    for file in files:
        # A file sealed in the browser has no file key here: it stays sealed to the keys it
        # was sealed to (one sealed to a key since revoked was sent back by the form's check,
        # services.testimony; one under a routine rotation goes to `triage rewrap`).
        if file.keyring_digest == now.digest or not file.file_key:
            current.append(file)
            continue
        result = reseal_header(ctx.store, file.blob_name, file.file_key, now.recipients)
        current.append(file.resealed(result.sealed_size, result.sealed_sha256, now.digest))
    return current


def _document(
    new: NewSubmission, files: Sequence[IncomingFile], sid: str, form_version: str
) -> SubmissionDoc:
    empty = Answers()
    entries = tuple(
        FileEntry(
            blob_name=f.blob_name,
            sealed_sha256=f.sealed_sha256,
            plaintext_sha256=f.plaintext_sha256,
            size=f.size,
            declared_type=f.declared_type,
            original_name=f.original_name,
            group=f.group,
            group_answers=new.group_answers.get(f.group, empty),
            plaintext_sha256_by="browser" if f.sealed_in_browser else "server",
        )
        for f in files
    )
    return SubmissionDoc(
        kind=new.kind,
        submission_id=sid,
        form_version=form_version,
        ui_language=new.ui_language,
        received_at=utc_now().replace(microsecond=0),
        parent_id=new.parent_id,
        witness_reply_recipient=new.reply_recipient,
        answers=new.answers,
        files=entries,
        consent_change=new.consent_change,
        in_reply_to=new.in_reply_to,
    )


@dataclass(frozen=True)
class _SealedBlob:
    """A committed blob as its database row needs it."""

    name: str
    role: BlobRole
    size: int
    sha256: str
    sealed_to: tuple[str, ...] = ()  # a browser-sealed file's own keys; else the current ones


def _blob_row(sid: str, blob: _SealedBlob, fingerprints: Sequence[str]) -> Blob:
    row = Blob(
        name=blob.name,
        submission_id=sid,
        role=blob.role,
        sealed_size=blob.size,
        sealed_sha256=blob.sha256,
    )
    # A file sealed in the browser under an older keyring (a routine rotation since) keeps its
    # header: its rows name the keys it is really sealed to, so it counts among the blobs still
    # sealed to a retired key and goes through `triage rewrap` with them.
    keys = blob.sealed_to or fingerprints
    row.recipients = [BlobRecipient(blob_name=blob.name, fingerprint=fp) for fp in keys]
    return row


def _witness_id(session: Session, new: NewSubmission) -> str | None:
    if new.new_witness is None:
        if new.kind == "testimony" and new.witness_id is not None:
            witness = session.get(Witness, new.witness_id)
            if witness is not None:
                witness.pending_until = None  # the sweep keeps a witness who has testified
        return new.witness_id
    witness = Witness(
        lookup=new.new_witness.lookup,
        reply_recipient=new.new_witness.reply_recipient,
        created_on=utc_today(),
    )
    session.add(witness)
    session.flush()
    return witness.id


def _release_draft(session: Session, witness_id: str, names: Sequence[str]) -> None:
    """Move `names` out of the witness's draft (they become this submission's blobs); the
    draft goes when nothing is left in it. A file another request added meanwhile stays."""
    draft = session.scalar(select(PendingDraft).where(PendingDraft.witness_id == witness_id))
    if draft is None:
        return
    # Core DELETEs: the database cascades each draft blob to its sealed metadata.
    session.execute(
        delete(DraftBlob).where(DraftBlob.draft_id == draft.id, DraftBlob.name.in_(names))
    )
    left = session.scalar(
        select(func.count()).select_from(DraftBlob).where(DraftBlob.draft_id == draft.id)
    )
    if not left:
        session.execute(delete(PendingDraft).where(PendingDraft.id == draft.id))
    session.expunge(draft)


def _record(
    new: NewSubmission,
    row: Submission,
    files: Sequence[IncomingFile],
    received_at: datetime,
) -> None:
    """The witness's receipt record (services.records): what arrived, and the submission's
    consent entry (a testimony's consent, or the change), each naming the submission."""
    listed = [RecordFile(f.original_name, f.size, f.plaintext_sha256) for f in files]
    record = SubmissionRecord(sealed_files=seal_files(new.reply_recipient, row.id, listed))
    entry = None
    if new.kind == "testimony":
        entry = ConsentEntry(received_at, given=new.answers.codes("A4"))
    elif new.consent_change is not None:
        entry = ConsentEntry(received_at, change=new.consent_change)
    if entry is not None:
        record.sealed_consent = seal_consent(new.reply_recipient, row.id, entry)
    row.record = record  # a relationship: the flush inserts the row first


def _write_rows(
    session: Session,
    new: NewSubmission,
    sid: str,
    files: Sequence[IncomingFile],
    sealed: tuple[Sequence[_SealedBlob], Sequence[str]],
    *,
    received_at: datetime,
) -> None:
    """The submission's rows; `blobs[0]` is its sealed submission.json, received at
    `received_at`."""
    blobs, fps = sealed
    witness_id = _witness_id(session, new)
    if new.releases_draft and witness_id is not None:
        names = [b.name for b in blobs if b.role is BlobRole.FILE]
        _release_draft(session, witness_id, names)
    row = Submission(
        id=sid,
        witness_id=witness_id,
        parent_id=new.parent_id,
        kind=new.kind,
        received_on=utc_today(),
        manifest_blob=blobs[0].name,
        file_count=sum(1 for b in blobs if b.role is BlobRole.FILE),
        sealed_bytes=sum(b.size for b in blobs),
        state=SubmissionState.STORED,
    )
    row.blobs = [_blob_row(sid, blob, fps) for blob in blobs]
    session.add(row)
    _record(new, row, files, received_at)
    _mark_withdrawn(session, new, witness_id)
    mark_form_token_used(session, new.form_token)


def _mark_withdrawn(session: Session, new: NewSubmission, witness_id: str | None) -> None:
    """A withdrawal is final and, as protocol.consent rules it for triage, covers every
    testimony the witness sent before it: the account says "Withdrawn" in clear for each."""
    change = new.consent_change
    if change is None or change.action != "withdraw" or witness_id is None:
        return
    session.execute(
        update(Submission)
        .where(Submission.witness_id == witness_id, Submission.kind == "testimony")
        .values(withdrawn=True)
    )


def commit_submission(ctx: WebContext, new: NewSubmission, *, fresh: Sequence[str]) -> str:
    """Seal submission.json, name its blob, and commit every row; returns the submission id.

    `fresh` names the blobs committed for this request (removed again on failure; a draft's
    older blobs stay with the draft). Raises NoActiveKeyError, AlreadyReceivedError, or
    whatever storage or the database raised.
    """
    sid = ids.new_submission_id()
    named = list(fresh)
    try:
        # Inside the try: the database may be gone by now, and the fresh blobs must go too.
        now = snapshot_keyring(ctx.keyring)
        if not now.recipients:
            raise NoActiveKeyError
        files = _reseal_moved(ctx, new.files, now)
        doc = _document(new, files, sid, ctx.form_version)
        sealed = seal_bytes(doc.to_json(), list(now.recipients))
        manifest_name = new_blob_name()
        manifest = write_blob(ctx.store, manifest_name, sealed)
        named.append(manifest_name)
        blobs = [
            _SealedBlob(
                manifest_name, BlobRole.MANIFEST, manifest.sealed_size, manifest.sealed_sha256
            ),
            *(
                _SealedBlob(f.blob_name, BlobRole.FILE, f.sealed_size, f.sealed_sha256, f.sealed_to)
                for f in files
            ),
        ]
        with ctx.sessions() as session:
            # Recipient rows refer to cached key rows: refresh the cache from the file first.
            ctx.keyring.sync_cache(session, now.ring)
            _write_rows(
                session, new, sid, files, (blobs, now.fingerprints), received_at=doc.received_at
            )
            try:
                session.commit()
            except IntegrityError as exc:
                if form_token_used(ctx.sessions, new.form_token):
                    raise AlreadyReceivedError from exc
                raise
    except BaseException:
        forget_blobs(ctx.store, named)
        raise
    return sid
