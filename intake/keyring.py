"""The investigator keyring: add, list, retire, rotate; read fresh from the database every time.

Every gunicorn worker calls `Keyring.active_recipients()` per submission, so a change made by
`intake keys …` applies to the next submission everywhere without a restart. Public keys only:
the server never holds an investigator's secret key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.minisign import VerifyKey
from crypto.x25519 import X25519Recipient
from intake.clock import utc_today
from intake.db import SessionFactory
from intake.errors import (
    DuplicateKeyError,
    KeyringError,
    LastActiveKeyError,
    UnknownKeyError,
)
from intake.models import BlobRecipient, InvestigatorKey, KeyStatus
from intake.newkey import NewKey

__all__ = [
    "KeyInfo",
    "Keyring",
    "NewKey",
    "SigningKeyEntry",
    "fingerprint_set_digest",
]


def fingerprint_set_digest(fingerprints: Iterable[str]) -> str:
    """SHA-256 (hex) of a set of key fingerprints: equal exactly when the sets are equal."""
    return hashlib.sha256("\n".join(sorted(set(fingerprints))).encode()).hexdigest()


@dataclass(frozen=True)
class KeyInfo:
    """One keyring entry as `intake keys list` shows it."""

    fingerprint: str
    name: str
    recipient: str
    signing_key_id: str
    status: KeyStatus
    added_on: date
    retired_on: date | None
    sealed_blobs: int


@dataclass(frozen=True)
class SigningKeyEntry:
    """A registered investigator's minisign key, for verifying acks, replies and re-wraps."""

    fingerprint: str
    name: str
    status: KeyStatus
    verify_key: VerifyKey


def _info(row: InvestigatorKey, sealed_blobs: int = 0) -> KeyInfo:
    return KeyInfo(
        fingerprint=row.fingerprint,
        name=row.name,
        recipient=row.recipient,
        signing_key_id=row.signing_key_id,
        status=row.status,
        added_on=row.added_on,
        retired_on=row.retired_on,
        sealed_blobs=sealed_blobs,
    )


def _find(session: Session, fingerprint_text: str) -> InvestigatorKey:
    wanted = fingerprint_text.strip()
    if not wanted.startswith("SHA256:"):
        wanted = "SHA256:" + wanted
    row = session.get(InvestigatorKey, wanted)
    if row is None:
        raise UnknownKeyError(f"no key with fingerprint {fingerprint_text.strip()}")
    return row


def _add(session: Session, new: NewKey, today: date) -> InvestigatorKey:
    existing = session.get(InvestigatorKey, new.fingerprint)
    if existing is not None:
        state = (
            "active" if existing.status is KeyStatus.ACTIVE else f"retired {existing.retired_on}"
        )
        raise DuplicateKeyError(
            f"the key {new.fingerprint} is already in the keyring ({existing.name}, {state})",
            hint="a retired key is never reactivated: generate a new key with `triage keygen`",
        )
    clash = session.scalars(
        select(InvestigatorKey).where(
            InvestigatorKey.signing_key_id == new.verify_key.key_id_hex,
            InvestigatorKey.status == KeyStatus.ACTIVE,
        )
    ).first()
    if clash is not None:
        raise DuplicateKeyError(
            f"the signing key {new.verify_key.key_id_hex} already belongs to the active key "
            f"{clash.fingerprint} ({clash.name})",
            hint="each active key needs its own minisign key, or rotate the old one out",
        )
    row = InvestigatorKey(
        fingerprint=new.fingerprint,
        recipient=str(new.recipient),
        name=new.name,
        signing_key=new.signing_key_text,
        signing_key_id=new.verify_key.key_id_hex,
        status=KeyStatus.ACTIVE,
        added_on=today,
        retired_on=None,
    )
    session.add(row)
    session.flush()
    return row


def _retire(
    session: Session, fingerprint_text: str, *, force: bool, today: date
) -> InvestigatorKey:
    row = _find(session, fingerprint_text)
    if row.status is KeyStatus.RETIRED:
        raise KeyringError(f"the key {row.fingerprint} was already retired on {row.retired_on}")
    active = session.scalar(
        select(func.count())
        .select_from(InvestigatorKey)
        .where(InvestigatorKey.status == KeyStatus.ACTIVE)
    )
    if active == 1 and not force:
        raise LastActiveKeyError(
            f"{row.fingerprint} is the last active key: without it the site stops accepting "
            "submissions"
        )
    row.status = KeyStatus.RETIRED
    row.retired_on = today
    session.flush()
    return row


@dataclass(frozen=True)
class Keyring:
    """Keyring service over a session factory. Every method is its own short transaction."""

    sessions: SessionFactory

    def _commit(self, session: Session) -> None:
        try:
            session.commit()
        except IntegrityError as exc:  # another admin added the same key at the same moment
            raise DuplicateKeyError("the key was added concurrently; nothing changed") from exc

    def add(self, new: NewKey, *, today: date | None = None) -> KeyInfo:
        """Add an active key. Raises DuplicateKeyError; the keyring is then unchanged."""
        with self.sessions() as session:
            row = _add(session, new, today or utc_today())
            self._commit(session)
            return _info(row)

    def retire(
        self, fingerprint_text: str, *, force: bool = False, today: date | None = None
    ) -> KeyInfo:
        """Retire a key: no new submission is sealed to it.

        Raises UnknownKeyError, KeyringError (already retired), LastActiveKeyError (unless
        `force`: the site then stops accepting submissions).
        """
        with self.sessions() as session:
            row = _retire(session, fingerprint_text, force=force, today=today or utc_today())
            session.commit()
            return _info(row)

    def rotate(
        self, old_fingerprint: str, new: NewKey, *, today: date | None = None
    ) -> tuple[KeyInfo, KeyInfo]:
        """Retire `old_fingerprint` and add `new` in one transaction; returns (retired, added).

        The new key may reuse the old key's minisign key. On any error nothing changes.
        """
        day = today or utc_today()
        with self.sessions() as session:
            old = _retire(session, old_fingerprint, force=True, today=day)
            added = _add(session, new, day)
            self._commit(session)
            return _info(old), _info(added)

    def list_keys(self) -> list[KeyInfo]:
        """Every key, active first, then by day added, with its count of sealed blobs."""
        with self.sessions() as session:
            per_key = select(BlobRecipient.fingerprint, func.count()).group_by(
                BlobRecipient.fingerprint
            )
            counts = {fp: count for fp, count in session.execute(per_key)}
            rows = session.scalars(select(InvestigatorKey)).all()
            ordered = sorted(
                rows, key=lambda r: (r.status is not KeyStatus.ACTIVE, r.added_on, r.name)
            )
            return [_info(row, counts.get(row.fingerprint, 0)) for row in ordered]

    def active_recipients(self) -> list[X25519Recipient]:
        """The recipients every new blob is sealed to, read now (never cached)."""
        with self.sessions() as session:
            return [X25519Recipient.parse(text) for text in _active_column(session)]

    def active_fingerprints(self) -> list[str]:
        """Fingerprints of the active keys, read now (for blob_recipient rows and digests)."""
        with self.sessions() as session:
            rows = session.scalars(
                select(InvestigatorKey.fingerprint).where(
                    InvestigatorKey.status == KeyStatus.ACTIVE
                )
            )
            return sorted(rows)

    def has_active_key(self) -> bool:
        """Whether the site can accept submissions (at least one active key)."""
        with self.sessions() as session:
            return bool(_active_column(session))

    def signing_keys(self, *, include_retired: bool = False) -> list[SigningKeyEntry]:
        """Registered minisign keys. Retired keys are left out unless asked for: a retired
        (perhaps compromised) key must not authorise purges or re-wraps.
        """
        with self.sessions() as session:
            query = select(InvestigatorKey)
            if not include_retired:
                query = query.where(InvestigatorKey.status == KeyStatus.ACTIVE)
            return [
                SigningKeyEntry(
                    fingerprint=row.fingerprint,
                    name=row.name,
                    status=row.status,
                    verify_key=VerifyKey.parse(row.signing_key),
                )
                for row in session.scalars(query)
            ]


def _active_column(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(InvestigatorKey.recipient)
            .where(InvestigatorKey.status == KeyStatus.ACTIVE)
            .order_by(InvestigatorKey.fingerprint)
        )
    )
