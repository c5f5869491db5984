"""`intake keys apply-rewrap`: headers re-wrapped offline (`triage rewrap`) replace stored ones.

Two passes over the bundle. The first changes nothing: signature (an active investigator key),
meta, the declared recipient set against the active keyring, every header's shape, and every
stored blob against the hash and header length of the file its header was made from (or
already carrying that header). The second swaps the headers one file at a time (atomic per
file, see _swap; the result must hash to what the laptop computed) and updates each blob's row
as it goes, so an interrupted apply is finished by running it again.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from crypto.errors import HeaderError
from crypto.header import MAX_HEADER_BYTES, Header
from crypto.x25519 import STANZA_TYPE
from intake.blobstore import BlobStore
from intake.db import SessionFactory
from intake.errors import BundleError, StorageError
from intake.keyring import Keyring
from intake.models import Blob, BlobRecipient, BlobRole, Submission
from intake.transfer._bundles import SignedBundle, open_signed
from intake.transfer._swap import current_header, describe, swap_header
from protocol.meta.rewrap import RewrapHeader, RewrapMeta

__all__ = ["BlobChange", "RewrapReport", "apply_rewrap"]

_REMAKE = "make it with `triage rewrap` (crypto.age.rewrap_header)"


@dataclass(frozen=True)
class BlobChange:
    """One blob whose header (or whose row, after an interrupted apply) changed."""

    blob_name: str
    submission_id: str
    old_sha256: str
    new_sha256: str
    old_fingerprints: tuple[str, ...]
    new_fingerprints: tuple[str, ...]


@dataclass(frozen=True)
class RewrapReport:
    """What an apply changed, what it left, and what is still sealed to retired keys."""

    changed: tuple[BlobChange, ...]
    unchanged: tuple[str, ...]
    not_stored: tuple[str, ...]
    recipients: tuple[str, ...]
    still_on_retired_keys: int
    signer_fingerprint: str
    signer_name: str


def _refuse(message: str, hint: str) -> BundleError:
    return BundleError(f"refused rewrap: {message}; nothing was changed", hint=hint)


def _check_meta(bundle: SignedBundle, keyring: Keyring) -> RewrapMeta:
    meta = RewrapMeta.from_manifest(bundle.reader.manifest)
    active = frozenset(keyring.active_fingerprints())
    if meta.fingerprints != active:
        missing = sorted(active - meta.fingerprints)
        extra = sorted(meta.fingerprints - active)
        raise _refuse(
            f"it wraps to another recipient set than the active keyring (missing {missing}, "
            f"not active {extra})",
            "re-wrap to exactly the keys `intake keys list` shows as active",
        )
    return meta


def _headers(bundle: SignedBundle, meta: RewrapMeta) -> Iterator[tuple[RewrapHeader, bytes]]:
    """Each entry with its new header, checked for shape (the MAC needs the file key)."""
    for item in bundle.reader.items():
        entry = meta.headers[item.entry.name]
        if item.entry.size > MAX_HEADER_BYTES:
            raise _refuse(f"{entry.item} is too large for a header", "see docs/bundles.md")
        data = item.read_all(MAX_HEADER_BYTES)
        try:
            header, _covered = Header.parse(io.BytesIO(data))
        except HeaderError as exc:
            raise _refuse(f"{entry.item} does not parse as an age header ({exc})", _REMAKE) from exc
        types = [s.type for s in header.stanzas]
        if header.size != len(data) or types != [STANZA_TYPE] * len(meta.recipients):
            raise _refuse(
                f"{entry.item} is not one X25519 stanza per declared recipient and nothing else",
                _REMAKE,
            )
        yield entry, data


def _resolve(session: Session, entry: RewrapHeader) -> Blob | None:
    """The stored blob the entry is for; None when it is no longer stored (purged)."""
    name = entry.blob_name
    if name is None:
        submission = session.get(Submission, entry.submission_id)
        if submission is None:
            return None
        name = submission.manifest_blob
    row = session.get(Blob, name)
    if row is None:
        return None
    role = "submission" if row.role is BlobRole.MANIFEST else "attachment"
    if row.submission_id != entry.submission_id or role != entry.role:
        raise _refuse(
            f"{entry.item} says {entry.role} of {entry.submission_id}, but that blob is the "
            f"{role} of {row.submission_id}",
            "see docs/bundles.md",
        )
    return row


def _plan(
    bundle: SignedBundle, meta: RewrapMeta, session: Session, store: BlobStore
) -> dict[str, str]:
    """Item name -> blob name of every header to apply. Raises BundleError, changing nothing."""
    planned: dict[str, str] = {}
    names: set[str] = set()
    for entry, header in _headers(bundle, meta):
        row = _resolve(session, entry)
        if row is None:
            continue
        if row.name in names:
            raise _refuse(f"two headers are for the blob {row.name}", "see docs/bundles.md")
        names.add(row.name)
        current = current_header(store, row.name)
        made_from_this = (
            row.sealed_sha256 == entry.old_sealed_sha256 and len(current) == entry.old_header_length
        )
        if current != header and not made_from_this:
            raise _refuse(
                f"the stored blob {row.name} ({row.submission_id}) is not the file its new "
                "header was made from",
                "export it again and re-wrap that copy",
            )
        planned[entry.item] = row.name
    return planned


def _update_row(row: Blob, new_sha: str, new_size: int, fingerprints: frozenset[str]) -> BlobChange:
    old_fps = tuple(sorted(r.fingerprint for r in row.recipients))
    change = BlobChange(
        row.name,
        row.submission_id,
        row.sealed_sha256,
        new_sha,
        old_fps,
        tuple(sorted(fingerprints)),
    )
    row.submission.sealed_bytes += new_size - row.sealed_size
    row.sealed_sha256, row.sealed_size = new_sha, new_size
    # Remove and add only the difference: re-inserting a kept key's row would collide.
    row.recipients = [r for r in row.recipients if r.fingerprint in fingerprints] + [
        BlobRecipient(blob_name=row.name, fingerprint=fp)
        for fp in sorted(fingerprints - set(old_fps))
    ]
    return change


def _apply_one(
    session: Session,
    store: BlobStore,
    name: str,
    entry: RewrapHeader,
    header: bytes,
    *,
    fingerprints: frozenset[str],
) -> BlobChange | None:
    """Swap one blob's header (or repair its row after an interrupted run) and commit."""
    row = session.get(Blob, name)
    if row is None:  # purged since the first pass
        return None
    if current_header(store, name) != header:
        found = swap_header(
            store,
            name,
            header,
            expected_sha256=entry.old_sealed_sha256,
            expected_new_sha256=entry.new_sealed_sha256,
        )
    elif row.sealed_sha256 == entry.new_sealed_sha256:
        return None  # applied before, row and all
    else:
        found = describe(store, name)
        if found.sha256 != entry.new_sealed_sha256:
            raise StorageError(
                f"the stored blob {name} has its new header but not the expected SHA-256",
                hint="run `intake doctor`; export it again and re-wrap that copy",
            )
    change = _update_row(row, found.sha256, found.size, fingerprints)
    session.commit()
    return change


def _retired_count(sessions: SessionFactory, keyring: Keyring) -> int:
    """Blobs still sealed to a key the file no longer lists as active."""
    active = keyring.active_fingerprints()
    with sessions() as session:
        query = select(func.count(distinct(BlobRecipient.blob_name))).where(
            BlobRecipient.fingerprint.not_in(active)
        )
        return int(session.scalar(query) or 0)


def apply_rewrap(
    sessions: SessionFactory, store: BlobStore, keyring: Keyring, path: Path
) -> RewrapReport:
    """Apply the rewrap bundle at `path`; returns what changed.

    Raises BundleError (refused: nothing changed) or StorageError (a blob could not be
    swapped: those before it are done, and running the command again finishes the rest).
    """
    with open_signed(path, "rewrap", keyring) as bundle, sessions() as session:
        meta = _check_meta(bundle, keyring)
        planned = _plan(bundle, meta, session, store)
        checked = bundle.reader.manifest_bytes
    changed: list[BlobChange] = []
    with open_signed(path, "rewrap", keyring) as bundle, sessions() as session:
        if bundle.reader.manifest_bytes != checked:
            raise BundleError("the bundle changed while it was being applied")
        keyring.sync_cache(session)  # recipient rows refer to cached key rows
        session.commit()
        for entry, header in _headers(bundle, meta):
            if entry.item in planned:
                name = planned[entry.item]
                change = _apply_one(
                    session, store, name, entry, header, fingerprints=meta.fingerprints
                )
                if change is not None:
                    changed.append(change)
    done = {c.blob_name for c in changed}
    return RewrapReport(
        changed=tuple(changed),
        unchanged=tuple(sorted(set(planned.values()) - done)),
        not_stored=tuple(sorted(set(meta.headers) - set(planned))),
        recipients=tuple(sorted(meta.fingerprints)),
        still_on_retired_keys=_retired_count(sessions, keyring),
        signer_fingerprint=bundle.signer.fingerprint,
        signer_name=bundle.signer.name,
    )
