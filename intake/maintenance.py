"""The sweep: what a crash or an abandoned form left behind, expired witness sessions,
witnesses given a codename who never testified, and receipt records past their time after a
purge (`intake sweep`, app start-up)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, select
from sqlalchemy.orm import Session

from intake.blobstore import BlobStore, LocalBlobStore
from intake.clock import hour_bucket, minute_bucket, utc_now
from intake.db import SessionFactory
from intake.models import (
    AttemptBudget,
    Blob,
    DraftBlob,
    FormToken,
    PendingDraft,
    Reply,
    Submission,
    SubmissionRecord,
    Witness,
    WitnessSession,
)
from intake.partstore import PartStore
from intake.witness_sessions import purge_expired

__all__ = [
    "ORPHAN_MIN_AGE",
    "RECORD_DAYS_AFTER_PURGE",
    "TEMP_MIN_IDLE",
    "SweepReport",
    "referenced_blob_names",
    "sweep",
]

# Temps hold only ciphertext, so removing one late costs nothing, while removing one another
# worker is still writing destroys a witness's upload. A Tor upload can stall for minutes;
# six idle hours is far beyond any live one.
TEMP_MIN_IDLE = timedelta(hours=6)
# A committed blob without a row is either a crash's leftover or a blob whose row is being
# committed right now; a day of ctime age separates the two with room to spare.
ORPHAN_MIN_AGE = timedelta(hours=24)
# Attempt-budget rows older than this are history nobody needs.
BUDGET_KEEP_HOURS = 48
# A witness's sealed receipt records (intake.web.services.records) outlive the purge of their
# files by this long: long enough to come back after the investigators' delivery and check
# what was sent (replies take weeks), short enough that a codename coerced much later opens
# no file names. Then the account shows counts and sizes only.
RECORD_DAYS_AFTER_PURGE = 90


@dataclass(frozen=True)
class SweepReport:
    """Counts of what one sweep removed."""

    temps_removed: int = 0
    orphans_removed: int = 0
    drafts_expired: int = 0
    draft_blobs_removed: int = 0
    tokens_expired: int = 0
    budget_hours_removed: int = 0
    sessions_expired: int = 0
    witnesses_expired: int = 0
    records_expired: int = 0


def referenced_blob_names(session: Session) -> set[str]:
    """Every blob name a row points at. A table that references blobs must be listed here."""
    names: set[str] = set()
    for column in (Blob.name, DraftBlob.name, Reply.blob_name):
        names.update(session.scalars(select(column)))
    return names


def _expire_drafts(session: Session, hour: int) -> tuple[int, list[str]]:
    expired = select(PendingDraft.id).where(PendingDraft.expires_hour <= hour)
    ids = list(session.scalars(expired))
    names = list(session.scalars(select(DraftBlob.name).where(DraftBlob.draft_id.in_(ids))))
    # A Core DELETE (the database cascades to draft blobs): when two workers sweep at once,
    # the second deletes nothing instead of failing on rows that vanished.
    session.execute(delete(PendingDraft).where(PendingDraft.id.in_(ids)))
    return len(ids), names


def _delete_rows(session: Session, hour: int) -> tuple[int, int]:
    # A DELETE statement's result is always a CursorResult (the ORM types it more loosely).
    tokens = cast(
        CursorResult[Any],
        session.execute(delete(FormToken).where(FormToken.expires_hour <= hour)),
    )
    budget = cast(
        CursorResult[Any],
        session.execute(delete(AttemptBudget).where(AttemptBudget.hour < hour - BUDGET_KEEP_HOURS)),
    )
    return tokens.rowcount or 0, budget.rowcount or 0


def _expire_records(session: Session, today: date) -> int:
    """Receipt records of submissions purged more than RECORD_DAYS_AFTER_PURGE days ago.

    A consent change's record stays while its witness has another record left: the account
    page computes each testimony's consent from every change (intake.web.services.consent_view),
    and one gone early would show a withdrawn testimony as given.
    """
    cutoff = today - timedelta(days=RECORD_DAYS_AFTER_PURGE)
    expired = Submission.purged_on < cutoff
    change = Submission.kind == "consent_change"
    removed = _delete_records(session, select(Submission.id).where(expired, ~change))
    others = (
        select(Submission.witness_id)
        .join(SubmissionRecord, SubmissionRecord.submission_id == Submission.id)
        .where(~change, Submission.witness_id.is_not(None))
    )
    changes = select(Submission.id).where(expired, change, Submission.witness_id.not_in(others))
    return removed + _delete_records(session, changes)


def _delete_records(session: Session, ids: Select[Any]) -> int:
    done = cast(
        CursorResult[Any],
        session.execute(delete(SubmissionRecord).where(SubmissionRecord.submission_id.in_(ids))),
    )
    return done.rowcount or 0


def _expire_pending_witnesses(session: Session, hour: int, minute: int) -> int:
    """Witnesses given a codename who never sent a testimony, past their 48 hours.

    One whose draft still holds what arrived before a cut waits until the draft expires
    (swept first, with its blobs): removing the witness would orphan the draft's blobs. One
    with a live session waits too: they may be writing or uploading right now (a form stays
    open 25 hours), and removing them would refuse what they send (found by review).
    """
    live = select(WitnessSession.token_hash).where(
        WitnessSession.witness_id == Witness.id,
        (WitnessSession.idle_until > minute) | (WitnessSession.form_until > minute),
    )
    expired = select(Witness.id).where(
        ~live.exists(),
        Witness.pending_until <= hour,
        ~select(Submission.id).where(Submission.witness_id == Witness.id).exists(),
        ~select(Reply.id).where(Reply.witness_id == Witness.id).exists(),
        ~select(PendingDraft.id).where(PendingDraft.witness_id == Witness.id).exists(),
    )
    ids = list(session.scalars(expired))
    if not ids:
        return 0
    # Their sessions first: SQLite enforces the foreign key only when asked to cascade.
    session.execute(delete(WitnessSession).where(WitnessSession.witness_id.in_(ids)))
    session.execute(delete(Witness).where(Witness.id.in_(ids)))
    return len(ids)


def _sweep_parts(store: BlobStore) -> int:
    """Expired uploads in parts (issue 16): their descriptions, then their temp files."""
    # Uploads in parts live beside a local store's tmp/ (intake.partstore); another store
    # implementation has none.
    if not isinstance(store, LocalBlobStore):
        return 0
    gone = PartStore(store.root).sweep()
    for upload_id in gone:
        store.discard(upload_id)
    return len(gone)


def sweep(
    sessions: SessionFactory,
    store: BlobStore,
    *,
    now: datetime | None = None,
    temp_min_idle: timedelta = TEMP_MIN_IDLE,
    orphan_min_age: timedelta = ORPHAN_MIN_AGE,
) -> SweepReport:
    """Remove expired drafts (rows, then their blobs), expired form tokens and witness
    sessions, old budget rows, receipt records past their time after a purge, idle temp files
    and orphaned blobs. Safe while the site runs.
    Raises StorageError or a SQLAlchemy error (the CLI turns it into DatabaseError).
    """
    now = now or utc_now()
    hour = hour_bucket(now)
    with sessions() as session:
        drafts, draft_blob_names = _expire_drafts(session, hour)
        tokens, budget = _delete_rows(session, hour)
        expired_sessions = purge_expired(session, now)
        witnesses = _expire_pending_witnesses(session, hour, minute_bucket(now))
        records = _expire_records(session, now.date())
        # Rows first: after a crash between the two steps the files are orphans the next
        # sweep removes, never rows pointing at missing files.
        session.commit()
    for name in draft_blob_names:
        store.delete_secure(name, missing_ok=True)
    # A parts upload's temp file idles while its witness pauses (a closed laptop): it stays
    # while the upload is live, and goes with it when it expires.
    live = frozenset[str]()
    if isinstance(store, LocalBlobStore):
        live = frozenset(PartStore(store.root).live_ids())
    temps = _sweep_parts(store) + store.sweep_temps(
        min_idle_seconds=temp_min_idle.total_seconds(), keep=live
    )
    candidates = store.names(min_age_seconds=orphan_min_age.total_seconds())
    orphans = 0
    if candidates:
        with sessions() as session:
            referenced = referenced_blob_names(session)
        for name in candidates:
            if name not in referenced:
                store.delete_secure(name, missing_ok=True)
                orphans += 1
    return SweepReport(
        temps_removed=temps,
        orphans_removed=orphans,
        drafts_expired=drafts,
        draft_blobs_removed=len(draft_blob_names),
        tokens_expired=tokens,
        budget_hours_removed=budget,
        sessions_expired=expired_sessions,
        witnesses_expired=witnesses,
        records_expired=records,
    )
