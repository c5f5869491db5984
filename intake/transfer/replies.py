"""`intake replies import`: investigators' replies, sealed offline to witnesses' reply keys.

The bundle is checked whole before a row is written: signed by an active investigator key,
each reply naming the reply key of a witness this server knows and a submission of that same
witness, each item an age file (the server cannot open it; only the witness's codename can).
Blobs are stored first and the rows committed in one transaction; on any failure the blobs
stored by this import are removed again.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.errors import HeaderError
from crypto.header import Header
from intake.blobstore import BlobStore, new_blob_name
from intake.clock import utc_today
from intake.db import SessionFactory
from intake.errors import BundleError, IntakeError
from intake.keyring import Keyring
from intake.models import Reply, Submission, Witness
from intake.transfer._bundles import SignedBundle, open_signed
from protocol.meta.replies import RepliesMeta, ReplyEntry

__all__ = ["MAX_REPLY_BYTES", "RepliesReport", "import_replies"]

# A reply is a short text to a witness, opened in memory when they log in; 1 MiB of sealed
# text is hundreds of pages, and bounds what a login response can be made to decrypt.
MAX_REPLY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class RepliesReport:
    """What an import stored, what it had already, and who vouched for it."""

    imported: tuple[str, ...]
    already_imported: tuple[str, ...]
    witnesses: int
    signer_fingerprint: str
    signer_name: str


def _refuse(message: str, hint: str) -> BundleError:
    return BundleError(f"refused replies: {message}; nothing was imported", hint=hint)


def _witness_for(session: Session, entry: ReplyEntry) -> str:
    """The id of the witness the reply is for. Raises BundleError."""
    known = session.scalars(
        select(Witness.id).where(Witness.reply_recipient == entry.witness_reply_recipient)
    ).all()
    if not known:
        raise _refuse(
            f"reply {entry.reply_id} is for a reply key no witness here has",
            "replies go to the server the submission came from",
        )
    row = session.get(Submission, entry.submission_id)
    if row is None or row.witness_id not in known:
        raise _refuse(
            f"reply {entry.reply_id} answers {entry.submission_id}, which is not a submission "
            "of the witness with that reply key",
            "check the submission id and reply key the reply was made for",
        )
    return row.witness_id


def _check_sealed(entry: ReplyEntry, data: bytes) -> None:
    try:
        Header.parse(io.BytesIO(data))
    except HeaderError as exc:
        raise _refuse(
            f"reply {entry.reply_id} is not a binary age file ({exc})",
            "replies are sealed with age to the witness's reply key, not armored",
        ) from exc


def _store(store: BlobStore, data: bytes) -> str:
    name = new_blob_name()
    temp, handle = store.create_temp()
    try:
        with handle:
            handle.write(data)
        store.commit(temp, name)
    except BaseException:
        store.discard(temp)
        raise
    return name


def _forget(store: BlobStore, names: Sequence[str]) -> None:
    for name in names:
        # A leftover sealed reply without a row is an orphan `intake sweep` removes later.
        with contextlib.suppress(IntakeError):
            store.delete_secure(name, missing_ok=True)


_Stored = tuple[ReplyEntry, str, str]  # the reply, its witness id, its blob name


def _receive(
    bundle: SignedBundle,
    session: Session,
    store: BlobStore,
    stored: list[_Stored],
    skipped: list[str],
) -> None:
    """Check the whole bundle against the database and store each new reply's blob."""
    reader = bundle.reader
    entries = RepliesMeta.from_manifest(reader.manifest).replies
    witnesses = {item: _witness_for(session, entry) for item, entry in entries.items()}
    for item in reader.items():
        entry = entries[item.entry.name]
        if session.get(Reply, entry.reply_id) is not None:
            skipped.append(entry.reply_id)
            continue
        if item.entry.size > MAX_REPLY_BYTES:
            raise _refuse(f"reply {entry.reply_id} is over 1 MiB", "shorten the reply")
        data = item.read_all(MAX_REPLY_BYTES)
        _check_sealed(entry, data)
        stored.append((entry, witnesses[entry.item], _store(store, data)))


def import_replies(
    sessions: SessionFactory,
    store: BlobStore,
    keyring: Keyring,
    path: Path,
    *,
    today: date | None = None,
) -> RepliesReport:
    """Import the replies bundle at `path`. Raises BundleError (nothing imported)."""
    stored: list[_Stored] = []
    skipped: list[str] = []
    try:
        with open_signed(path, "replies", keyring) as bundle, sessions() as session:
            keyring.sync_cache(session)  # reply rows refer to the signer's cached key row
            _receive(bundle, session, store, stored, skipped)
            day = today or utc_today()
            session.add_all(
                Reply(
                    id=entry.reply_id,
                    witness_id=witness_id,
                    blob_name=name,
                    created_on=day,
                    signed_by=bundle.signer.fingerprint,
                    submission_id=entry.submission_id,
                )
                for entry, witness_id, name in stored
            )
            session.commit()
    except BaseException:
        _forget(store, [name for _e, _w, name in stored])
        raise
    return RepliesReport(
        imported=tuple(e.reply_id for e, _w, _n in stored),
        already_imported=tuple(skipped),
        witnesses=len({w for _e, w, _n in stored}),
        signer_fingerprint=bundle.signer.fingerprint,
        signer_name=bundle.signer.name,
    )
