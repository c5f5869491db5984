"""The investigator_key table as a cache of the keyring file: written from it, never believed.

Blob recipient rows and replies refer to key fingerprints, so the table stays (its foreign keys
keep those references honest), but every decision reads the file. `sync_cache` upserts the
file's entries before a reference is written; `cache_differences` is what `intake doctor`
reports; `rows_as_entries` is the one-time upgrade export (`intake keys export-file`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.clock import utc_today
from intake.keyring.file import KeyEntry, KeyringFile
from intake.models import InvestigatorKey, KeyStatus
from intake.newkey import NewKey

__all__ = ["CacheDifferences", "cache_differences", "rows_as_entries", "sync_cache"]


def _row_values(entry: KeyEntry) -> dict[str, object]:
    return {
        "recipient": str(entry.recipient),
        "name": entry.name,
        "signing_key": entry.signing_key_text,
        "signing_key_id": entry.verify_key.key_id_hex,
        "status": entry.state,
        "added_on": entry.added_on,
        "retired_on": entry.retired_on or entry.revoked_on,
    }


def _differs(row: InvestigatorKey, entry: KeyEntry) -> bool:
    return any(getattr(row, name) != value for name, value in _row_values(entry).items())


def sync_cache(session: Session, ring: KeyringFile) -> None:
    """Make the cache rows of `ring`'s entries equal to the file (in the caller's transaction).

    Rows the file does not hold are left alone: replies or blobs may refer to them, and
    `intake doctor` reports them. One SELECT when nothing changed.
    """
    rows = {row.fingerprint: row for row in session.scalars(select(InvestigatorKey))}
    for entry in ring.keys:
        row = rows.get(entry.fingerprint)
        if row is None:
            session.add(InvestigatorKey(fingerprint=entry.fingerprint, **_row_values(entry)))
        elif _differs(row, entry):
            for name, value in _row_values(entry).items():
                setattr(row, name, value)
    session.flush()


@dataclass(frozen=True)
class CacheDifferences:
    """How the cache differs from the file: rows the file lacks, and rows that disagree."""

    not_in_file: tuple[str, ...]
    disagreeing: tuple[str, ...]
    not_cached: tuple[str, ...]


def cache_differences(session: Session, ring: KeyringFile) -> CacheDifferences:
    """Compare the cache rows with the file (read only)."""
    rows = {row.fingerprint: row for row in session.scalars(select(InvestigatorKey))}
    in_file = {entry.fingerprint: entry for entry in ring.keys}
    return CacheDifferences(
        not_in_file=tuple(sorted(set(rows) - set(in_file))),
        disagreeing=tuple(
            sorted(fp for fp, e in in_file.items() if fp in rows and _differs(rows[fp], e))
        ),
        not_cached=tuple(sorted(set(in_file) - set(rows))),
    )


def rows_as_entries(session: Session) -> tuple[KeyEntry, ...]:
    """The database keyring of a release before the file, as file entries (oldest first).

    Raises MalformedKeyError when a row does not parse (it would not have been usable either).
    """
    entries = []
    for row in session.scalars(select(InvestigatorKey).order_by(InvestigatorKey.added_on)):
        key = NewKey.parse(row.recipient, name=row.name, signing_key=row.signing_key)
        revoked = row.status is KeyStatus.REVOKED
        entries.append(
            KeyEntry(
                fingerprint=key.fingerprint,
                name=key.name,
                recipient=key.recipient,
                verify_key=key.verify_key,
                signing_key_text=key.signing_key_text,
                state=row.status,
                added_on=row.added_on,
                # A release before the file could leave a retired row without its day: the
                # day of the export then (a file without it would not parse).
                retired_on=(row.retired_on or utc_today())
                if row.status is KeyStatus.RETIRED
                else None,
                revoked_on=(row.retired_on or row.added_on) if revoked else None,
            )
        )
    return tuple(entries)
