"""A returning witness: login with the codename, their submissions, replies, consent changes.

The codename's key is derived exactly once per login, inside the login request, and the replies
and receipt records (intake.web.services.records) are opened into that one response; neither
the key nor anything opened is ever stored. Later
pages know only the witness id of the server-side session (intake.witness_sessions);
a consent change derives once more to confirm the codename.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.age import open_bytes
from crypto.errors import CryptoError
from crypto.witness import normalise_codename
from crypto.x25519 import X25519Identity
from intake.clock import utc_today
from intake.errors import IntakeError
from intake.models import Reply, SubmissionRecord, SubmissionState, Witness
from intake.web.forms import ConsentForm
from intake.web.services.consent_view import ConsentState, SentEntry, current_consent
from intake.web.services.context import WebContext
from intake.web.services.records import RECORD_DAYS_AFTER_PURGE, OpenedRecord, open_record
from intake.web.services.submit import NewSubmission, Receipt, commit_submission
from protocol.entries import Answers, ConsentChange
from protocol.threads import thread_root

__all__ = [
    "Account",
    "OpenedReply",
    "ReplyRef",
    "SubmissionLine",
    "account_of",
    "change_consent",
    "codename_is_blank",
    "consent_change_of",
    "login",
    "parent_belongs",
    "reply_of",
]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubmissionLine:
    """One row of "your submissions"."""

    reference: str
    kind: str
    received_on: date
    file_count: int
    sealed_bytes: int
    delivered: bool
    withdrawn: bool = False
    # Only in the login response: the files opened with the reply key, and a testimony's
    # consent now (intake.web.services.consent_view).
    record: OpenedRecord | None = None
    consent: ConsentState | None = None
    # The last day the record is kept after a purge (None while the files are here).
    record_until: date | None = None

    @property
    def record_gone(self) -> bool:
        """Whether the record was deleted after the purge (rather than never kept)."""
        return self.record_until is not None and self.record_until < utc_today()


@dataclass(frozen=True)
class ReplyRef:
    """What the server knows of a reply in clear: when it came, which submission it answers
    (None for replies imported before issue 18) and the testimony an answer adds to."""

    reply_id: str
    received_on: date
    about: str | None = None
    about_on: date | None = None
    parent: str | None = None


@dataclass(frozen=True)
class OpenedReply:
    """A reply opened for this response only (`text` None when it could not be opened)."""

    ref: ReplyRef
    text: str | None

    @property
    def received_on(self) -> date:
        return self.ref.received_on


@dataclass(frozen=True)
class Account:
    """What the account pages show; replies only in the login response."""

    witness_id: str
    reply_recipient: str
    submissions: tuple[SubmissionLine, ...]
    replies: tuple[OpenedReply, ...] = ()
    reply_count: int = 0
    # Every reply sent to this witness, oldest first: which ones an answer may name.
    reply_refs: tuple[ReplyRef, ...] = ()
    # Only in the login response: the reply key, to seal the witness's draft again for the
    # new session (intake.web.services.drafts.reseal_draft); never stored.
    opener: X25519Identity | None = field(default=None, repr=False, compare=False)

    @property
    def parents(self) -> tuple[str, ...]:
        """Submissions a follow-up or a consent change may refer to (testimonies, newest first)."""
        return tuple(s.reference for s in self.submissions if s.kind == "testimony")


def _records(session: Session, witness: Witness) -> dict[str, SubmissionRecord]:
    ids = [row.id for row in witness.submissions]
    found = session.scalars(select(SubmissionRecord).where(SubmissionRecord.submission_id.in_(ids)))
    return {record.submission_id: record for record in found}


def _opened(
    session: Session, witness: Witness, opener: X25519Identity | None
) -> tuple[dict[str, OpenedRecord], dict[str, ConsentState]]:
    """The witness's records opened, and each testimony's consent now; empty without `opener`."""
    if opener is None:
        return {}, {}
    records = _records(session, witness)
    opened = {
        row.id: open_record(records.get(row.id), row.id, opener) for row in witness.submissions
    }
    entries = (SentEntry(row.id, row.kind, opened[row.id].consent) for row in witness.submissions)
    return opened, current_consent(entries)


def consent_now(
    session: Session, witness: Witness, opener: X25519Identity, testimony_id: str
) -> ConsentState | None:
    """`testimony_id`'s consent now, by protocol.consent's rule over the witness's records."""
    return _opened(session, witness, opener)[1].get(testimony_id)


def _lines(
    session: Session, witness: Witness, opener: X25519Identity | None = None
) -> tuple[SubmissionLine, ...]:
    """The witness's submissions, newest first; with `opener`, their records opened."""
    rows = sorted(witness.submissions, key=lambda s: (s.received_on, s.id), reverse=True)
    opened, consent = _opened(session, witness, opener)
    keep = timedelta(days=RECORD_DAYS_AFTER_PURGE)
    return tuple(
        SubmissionLine(
            reference=row.id,
            kind=row.kind,
            received_on=row.received_on,
            file_count=row.file_count,
            sealed_bytes=row.sealed_bytes,
            delivered=row.state is SubmissionState.PURGED,
            withdrawn=row.withdrawn,
            record=opened.get(row.id),
            consent=consent.get(row.id),
            record_until=None if row.purged_on is None else row.purged_on + keep,
        )
        for row in rows
    )


def _reply_refs(witness: Witness) -> tuple[ReplyRef, ...]:
    """The witness's replies, oldest first, each with the testimony an answer adds to."""
    own = {row.id: row for row in witness.submissions}
    refs = []
    for reply in sorted(witness.replies, key=lambda r: (r.created_on, r.id)):
        about = own.get(reply.submission_id or "")
        parent = None if about is None else thread_root(about.id, about.parent_id)
        refs.append(
            ReplyRef(
                reply_id=reply.id,
                received_on=reply.created_on,
                about=None if about is None else about.id,
                about_on=None if about is None else about.received_on,
                parent=parent,
            )
        )
    return tuple(refs)


def _open_reply(
    ctx: WebContext, reply: Reply, ref: ReplyRef, identity: X25519Identity
) -> OpenedReply:
    try:
        with ctx.store.open(reply.blob_name) as handle:
            text = open_bytes(handle.read(), [identity]).decode("utf-8", errors="replace")
    except (CryptoError, IntakeError) as exc:
        _log.warning("a reply could not be opened (%s)", type(exc).__name__)
        text = None
    return OpenedReply(ref=ref, text=text)


def account_of(ctx: WebContext, witness_id: str) -> Account | None:
    """The account of a logged-in witness, without replies (those need the codename)."""
    with ctx.sessions() as session:
        witness = session.get(Witness, witness_id)
        if witness is None:
            return None
        return Account(
            witness_id=witness.id,
            reply_recipient=witness.reply_recipient,
            submissions=_lines(session, witness),
            reply_count=len(witness.replies),
            reply_refs=_reply_refs(witness),
        )


def login(ctx: WebContext, codename: str) -> Account | None:
    """The account with its replies opened, or None for any codename that is not known.

    A codename that is empty once normalised is a form error the caller catches first.
    Raises KdfBusyError when no derivation slot frees up. There is no global attempt budget:
    one would let anyone lock every witness out; attempts are bounded per Tor circuit at the
    front (deploy/haproxy.cfg) and derivations per worker by the KDF slots.
    """
    keys = ctx.deriver.derive(ctx.codenames.repair(codename))
    with ctx.sessions() as session:
        witness = session.scalar(select(Witness).where(Witness.lookup == keys.lookup))
        if witness is None:
            return None
        replies = sorted(witness.replies, key=lambda r: (r.created_on, r.id))
        refs = _reply_refs(witness)
        return Account(
            witness_id=witness.id,
            reply_recipient=witness.reply_recipient,
            submissions=_lines(session, witness, keys.identity),
            replies=tuple(
                _open_reply(ctx, r, ref, keys.identity)
                for r, ref in zip(replies, refs, strict=True)
            ),
            reply_count=len(replies),
            reply_refs=refs,
            opener=keys.identity,
        )


def codename_is_blank(codename: str) -> bool:
    """Whether nothing is left of the codename once spacing and case are normalised."""
    return not normalise_codename(codename)


def change_consent(
    ctx: WebContext,
    account: Account,
    *,
    parent_id: str,
    change: ConsentChange,
    language: str,
    form_token: str,
) -> Receipt:
    """Seal a consent change for one of the witness's testimonies, like any follow-up."""
    new = NewSubmission(
        kind="consent_change",
        answers=Answers(),
        ui_language=language,
        reply_recipient=account.reply_recipient,
        form_token=form_token,
        witness_id=account.witness_id,
        parent_id=parent_id,
        consent_change=change,
    )
    return Receipt(reference=commit_submission(ctx, new, fresh=()), files=())


def parent_belongs(account: Account, parent_id: str) -> bool:
    """Whether `parent_id` is one of this witness's own testimonies."""
    return parent_id in account.parents


def reply_of(account: Account, reply_id: str) -> ReplyRef | None:
    """The reply `reply_id` if it was sent to this witness (only those can be answered)."""
    return next((ref for ref in account.reply_refs if ref.reply_id == reply_id), None)


def consent_change_of(form: ConsentForm) -> ConsentChange:
    """The change a validated consent form asks for."""
    if form.withdraw.data:
        return ConsentChange(action="withdraw")
    return ConsentChange(action="narrow", recipients=tuple(dict.fromkeys(form.recipients.data)))
