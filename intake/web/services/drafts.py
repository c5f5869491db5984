"""A witness's draft: what arrived of an unfinished form, kept the moment it arrived.

A witness must never send a 2 GB video twice, nor type an hour's answers again. The codename
comes before the form, so the draft belongs to the witness: each file part is added when its
closing boundary arrives and the answers when the first file starts (services.receive), and
the next submission of the form, in this session or after a login with the codename, takes
them over. Drafts expire after `pending_draft_ttl_hours`; `intake.maintenance.sweep` removes
expired ones with their blobs.

The answers and each file's metadata (its name, plaintext hash, size, file key) are sealed to
two keys the witness holds and the server does not: the reply key derived from the codename
(its public half is on the witness row) and a key derived from the session cookie. This
session opens them with the cookie's key; a later login opens them with the reply key and
seals them again for its own cookie (`reseal_draft`). The database holds ciphertext and the
sealed blobs' sizes and hashes, which say nothing the sealed blobs do not.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from crypto.age import open_bytes, seal_bytes
from crypto.errors import CryptoError
from crypto.x25519 import X25519Identity, X25519Recipient
from intake.clock import hour_bucket
from intake.db import SessionFactory
from intake.models import DraftBlob, DraftFile, PendingDraft, Witness
from intake.web.services.incoming import IncomingFile

__all__ = [
    "Draft",
    "DraftKey",
    "discard_draft",
    "extend_draft",
    "draft_files",
    "drop_draft_files",
    "KeptFile",
    "KeptSummary",
    "keep_answers",
    "keep_file",
    "load_draft",
    "reseal_draft",
]

Answers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DraftKey:
    """Whose draft, and the session's key to it (None: the cookie holds none, nothing opens)."""

    witness_id: str
    identity: X25519Identity | None


@dataclass(frozen=True)
class KeptFile:
    """One file the witness does not need to send again."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class KeptSummary:
    """What a page tells the witness it already has."""

    count: int
    size: int
    files: tuple[KeptFile, ...]


@dataclass(frozen=True)
class Draft:
    """A live draft, opened: its files and the answers last sent with it."""

    draft_id: str
    files: tuple[IncomingFile, ...]
    answers: Answers = ()

    def summary(self) -> KeptSummary:
        return summary_of(self.files)


def summary_of(files: tuple[IncomingFile, ...]) -> KeptSummary:
    """The summary of `files` (a draft's, and those kept during this request)."""
    kept = tuple(KeptFile(f.original_name, f.size, f.plaintext_sha256) for f in files)
    return KeptSummary(count=len(kept), size=sum(f.size for f in kept), files=kept)


def _meta(file: IncomingFile) -> bytes:
    return json.dumps(
        {
            "original_name": file.original_name,
            "declared_type": file.declared_type,
            "plaintext_sha256": file.plaintext_sha256,
            "size": file.size,
            "group": file.group,
            "file_key": base64.b64encode(file.file_key).decode("ascii"),
            "sealed_to": list(file.sealed_to),
        }
    ).encode("utf-8")


def _from_meta(row: DraftBlob, meta: bytes) -> IncomingFile:
    data = json.loads(meta)
    return IncomingFile(
        blob_name=row.name,
        group=int(data["group"]),
        original_name=str(data["original_name"]),
        declared_type=str(data["declared_type"]),
        plaintext_sha256=str(data["plaintext_sha256"]),
        size=int(data["size"]),
        file_key=base64.b64decode(data["file_key"]),
        sealed_size=row.sealed_size,
        sealed_sha256=row.sealed_sha256,
        keyring_digest=row.keyring_digest,
        sealed_to=tuple(str(fp) for fp in data.get("sealed_to", ())),
    )


def _answers_of(plain: bytes) -> Answers:
    return tuple((str(name), str(value)) for name, value in json.loads(plain))


def _rows(session: Session, draft: PendingDraft) -> list[tuple[DraftBlob, bytes]]:
    found = session.execute(
        select(DraftBlob, DraftFile.sealed_meta)
        .join(DraftFile, DraftFile.blob_name == DraftBlob.name)
        .where(DraftBlob.draft_id == draft.id)
        .order_by(DraftBlob.name)
    )
    return [(row, meta) for row, meta in found]


def _live(session: Session, witness_id: str) -> PendingDraft | None:
    draft = session.scalar(select(PendingDraft).where(PendingDraft.witness_id == witness_id))
    return draft if draft is not None and draft.expires_hour > hour_bucket() else None


def load_draft(sessions: SessionFactory, key: DraftKey) -> Draft | None:
    """The witness's live draft opened with the session's key, or None (none, expired, or
    nothing in it this key opens: a file it cannot open is left for the sweep)."""
    if key.identity is None:
        return None
    with sessions() as session:
        draft = _live(session, key.witness_id)
        if draft is None:
            return None
        files = _files_of(session, draft, key.identity)
        answers: Answers = ()
        if draft.sealed_answers is not None:
            try:
                answers = _answers_of(open_bytes(draft.sealed_answers, [key.identity]))
            except (CryptoError, ValueError):
                answers = ()
        return Draft(draft_id=draft.id, files=files, answers=answers)


def draft_files(sessions: SessionFactory, key: DraftKey) -> tuple[IncomingFile, ...]:
    """The files of the witness's live draft the session's key opens, as they are now (what
    load_draft lists, without opening the answers: read again as each file of a body ends)."""
    if key.identity is None:
        return ()
    with sessions() as session:
        draft = _live(session, key.witness_id)
        return () if draft is None else _files_of(session, draft, key.identity)


def _files_of(
    session: Session, draft: PendingDraft, identity: X25519Identity
) -> tuple[IncomingFile, ...]:
    files: list[IncomingFile] = []
    for row, sealed in _rows(session, draft):
        try:
            files.append(_from_meta(row, open_bytes(sealed, [identity])))
        except (CryptoError, ValueError, KeyError):
            continue
    files.sort(key=lambda f: (f.group, f.original_name, f.blob_name))
    return tuple(files)


def _recipients(session: Session, key: DraftKey) -> list[X25519Recipient]:
    witness = session.get(Witness, key.witness_id)
    if witness is None or key.identity is None:
        raise LookupError("no witness or no session key: nothing can be kept")
    return [X25519Recipient.parse(witness.reply_recipient), key.identity.recipient()]


def _recipients_of(sessions: SessionFactory, key: DraftKey) -> list[X25519Recipient]:
    with sessions() as session:
        return _recipients(session, key)


def _draft_row(sessions: SessionFactory, session: Session, key: DraftKey, ttl: int) -> PendingDraft:
    """The witness's draft row, made if needed (two requests may race to make it)."""
    draft = session.scalar(select(PendingDraft).where(PendingDraft.witness_id == key.witness_id))
    if draft is None:
        try:
            with sessions() as other:
                other.add(
                    PendingDraft(
                        witness_id=key.witness_id, expires_hour=0, file_count=0, sealed_bytes=0
                    )
                )
                other.commit()
        except IntegrityError:
            pass  # another request of this witness made it first
        draft = session.scalar(
            select(PendingDraft).where(PendingDraft.witness_id == key.witness_id)
        )
        if draft is None:  # a submission of this witness emptied and removed it meanwhile
            raise _DraftRace
    draft.expires_hour = max(draft.expires_hour, hour_bucket() + ttl)
    return draft


class _DraftRace(Exception):
    """The draft row went away between reading and writing it: try again."""


# Two requests of one witness (a double click, a refresh) race on the draft row: one's commit
# may empty and remove it while the other adds to it (StaleDataError, a foreign key refused).
# The loser starts over with a fresh row; a handful of tries always settles it, and a failure
# here would otherwise be a 500 for a witness whose files had arrived (tests/reliability/
# test_double_submit.py found it).
_DRAFT_TRIES = 4


def _retrying(write: Callable[[], None]) -> None:
    for attempt in range(_DRAFT_TRIES):
        try:
            write()
            return
        except (_DraftRace, StaleDataError, IntegrityError):
            if attempt == _DRAFT_TRIES - 1:
                raise


def keep_file(
    sessions: SessionFactory, key: DraftKey, file: IncomingFile, *, ttl_hours: int
) -> None:
    """Add one committed blob to the witness's draft, in its own transaction.

    Raises LookupError when the witness or the session key is gone, or a database error.
    """
    sealed = seal_bytes(_meta(file), _recipients_of(sessions, key))

    def write() -> None:
        with sessions() as session:
            draft = _draft_row(sessions, session, key, ttl_hours)
            session.add(
                DraftBlob(
                    name=file.blob_name,
                    draft_id=draft.id,
                    sealed_size=file.sealed_size,
                    sealed_sha256=file.sealed_sha256,
                    keyring_digest=file.keyring_digest,
                )
            )
            session.flush()
            session.add(DraftFile(blob_name=file.blob_name, sealed_meta=sealed))
            draft.file_count += 1
            draft.sealed_bytes += file.sealed_size
            session.commit()

    _retrying(write)


def extend_draft(sessions: SessionFactory, key: DraftKey, *, ttl_hours: int) -> None:
    """Keep the witness's draft `ttl_hours` more, as adding a file to it would."""

    def write() -> None:
        with sessions() as session:
            _draft_row(sessions, session, key, ttl_hours)
            session.commit()

    _retrying(write)


def keep_answers(
    sessions: SessionFactory, key: DraftKey, answers: Answers, *, ttl_hours: int
) -> None:
    """Keep `answers` (the form's fields as sent) in the witness's draft, replacing older ones.

    Raises LookupError when the witness or the session key is gone, or a database error.
    """
    plain = json.dumps([list(pair) for pair in answers]).encode("utf-8")
    sealed = seal_bytes(plain, _recipients_of(sessions, key))

    def write() -> None:
        with sessions() as session:
            draft = _draft_row(sessions, session, key, ttl_hours)
            draft.sealed_answers = sealed
            session.commit()

    _retrying(write)


def reseal_draft(
    sessions: SessionFactory, witness_id: str, opener: X25519Identity, key: DraftKey
) -> None:
    """After a login: open the draft with the reply key (`opener`, derived from the codename
    just typed) and seal it again for this session's key. What does not open stays as it is."""
    with sessions() as session:
        draft = _live(session, witness_id)
        if draft is None:
            return
        recipients = _recipients(session, key)
        for row, sealed in _rows(session, draft):
            try:
                plain = open_bytes(sealed, [opener])
            except CryptoError:
                continue
            meta = session.get(DraftFile, row.name)
            if meta is not None:
                meta.sealed_meta = seal_bytes(plain, recipients)
        if draft.sealed_answers is not None:
            with contextlib.suppress(CryptoError):
                draft.sealed_answers = seal_bytes(
                    open_bytes(draft.sealed_answers, [opener]), recipients
                )
        session.commit()


def discard_draft(sessions: SessionFactory, witness_id: str) -> list[str]:
    """Delete the witness's draft (the honeypot's decoy keeps nothing); returns the names of
    its blobs, for the caller to remove from the store."""
    with sessions() as session:
        draft = session.scalar(select(PendingDraft).where(PendingDraft.witness_id == witness_id))
        if draft is None:
            return []
        names = [row.name for row in draft.blobs]
        session.delete(draft)
        session.commit()
        return names


def drop_draft_files(sessions: SessionFactory, names: list[str]) -> list[str]:
    """Take `names` out of whatever draft holds them; returns those that were there (for the
    caller to remove from the store). A name already moved to a submission is left alone."""
    if not names:
        return []
    with sessions() as session:
        rows = list(session.scalars(select(DraftBlob).where(DraftBlob.name.in_(names))))
        for row in rows:
            session.delete(row)
        session.commit()
        return [row.name for row in rows]
