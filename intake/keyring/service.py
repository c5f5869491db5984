"""The service's view of the keyring: the file, read fresh on every call, never written.

Every gunicorn worker reads the file per submission, so a change made by `sudo intake keys …`
applies to the next submission everywhere without a restart. The database only caches the
file (for the foreign keys of blob recipient and reply rows): nothing here reads a decision
from it. Public keys only: the server never holds an investigator's secret key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.minisign import VerifyKey
from crypto.x25519 import X25519Recipient
from intake.db import SessionFactory
from intake.keyring.cache import sync_cache
from intake.keyring.file import KeyEntry, KeyringFile, KeyringFileError
from intake.keyring.store import read_keyring_file
from intake.models import BlobRecipient, KeyStatus

_SYNC_ATTEMPTS = 3

__all__ = ["KeyInfo", "Keyring", "SigningKeyEntry", "fingerprint_set_digest"]


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
    revoked_on: date | None
    sealed_blobs: int

    @classmethod
    def of(cls, entry: KeyEntry, sealed_blobs: int = 0) -> KeyInfo:
        return cls(
            fingerprint=entry.fingerprint,
            name=entry.name,
            recipient=str(entry.recipient),
            signing_key_id=entry.verify_key.key_id_hex,
            status=entry.state,
            added_on=entry.added_on,
            retired_on=entry.retired_on,
            revoked_on=entry.revoked_on,
            sealed_blobs=sealed_blobs,
        )


@dataclass(frozen=True)
class SigningKeyEntry:
    """An investigator's minisign key from the file, with the state that bounds what it may do."""

    fingerprint: str
    name: str
    status: KeyStatus
    verify_key: VerifyKey
    retired_on: date | None = None  # from the file: bounds how long a retired key's acks count


@dataclass(frozen=True)
class Keyring:
    """Read-only keyring service over the keyring file (and the database for its cache)."""

    path: Path
    sessions: SessionFactory

    def read(self) -> KeyringFile:
        """The file as it is now. Raises KeyringFileError (missing, unreadable, invalid)."""
        return read_keyring_file(self.path)

    def sync_cache(self, session: Session, ring: KeyringFile | None = None) -> KeyringFile:
        """Refresh the cache rows from the file and commit them; returns the file read. Call it
        first in `session`, before writing rows that refer to key fingerprints.

        Committed on its own, and retried: two workers adding the same new key's row at once
        would otherwise fail one witness's submission with an IntegrityError (found by
        tests/reliability/test_concurrency.py). The loser reads again and finds the row.
        """
        current = ring if ring is not None else self.read()
        for attempt in range(_SYNC_ATTEMPTS):
            try:
                sync_cache(session, current)
                session.commit()
                return current
            except IntegrityError:
                session.rollback()
                if attempt == _SYNC_ATTEMPTS - 1:
                    raise
        return current  # pragma: no cover - the loop returns or raises

    def active_recipients(self) -> list[X25519Recipient]:
        """The recipients every new blob is sealed to: the file's active keys, read now."""
        return [entry.recipient for entry in self.read().active]

    def active_fingerprints(self) -> list[str]:
        """Fingerprints of the file's active keys, read now."""
        return [entry.fingerprint for entry in self.read().active]

    def has_active_key(self) -> bool:
        """Whether the site can accept submissions: the file is valid and has an active key."""
        try:
            return bool(self.read().active)
        except KeyringFileError:
            return False

    def list_keys(self) -> list[KeyInfo]:
        """Every key in the file, active first, then by day added, with its sealed blob count.

        No file yet is an empty keyring; an unreadable or invalid one raises KeyringFileError.
        """
        entries = self.read().keys if self.path.exists() else ()
        with self.sessions() as session:
            per_key = select(BlobRecipient.fingerprint, func.count()).group_by(
                BlobRecipient.fingerprint
            )
            counts = {fp: count for fp, count in session.execute(per_key)}
        ordered = sorted(
            entries, key=lambda e: (e.state is not KeyStatus.ACTIVE, e.added_on, e.name)
        )
        return [KeyInfo.of(entry, counts.get(entry.fingerprint, 0)) for entry in ordered]

    def signing_keys(self) -> list[SigningKeyEntry]:
        """Every minisign key in the file, whatever its state, active ones first.

        Callers decide what each state may authorise (intake.transfer._bundles): a signature
        is checked against revoked keys too, only so the refusal can say which case applies.
        """
        order = {KeyStatus.ACTIVE: 0, KeyStatus.RETIRED: 1, KeyStatus.REVOKED: 2}
        entries = sorted(self.read().keys, key=lambda e: order[e.state])
        return [
            SigningKeyEntry(
                fingerprint=e.fingerprint,
                name=e.name,
                status=e.state,
                verify_key=e.verify_key,
                retired_on=e.retired_on,
            )
            for e in entries
        ]
