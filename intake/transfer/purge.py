"""`intake purge --ack`: delete exactly the submissions an investigator acknowledged.

The ack is checked whole before anything is deleted: signed by a key of the keyring file that
may purge (an active key; a retired key only for submissions whose last export was sealed to
it, as recorded at export; never a revoked key), naming only submissions this server exported,
each with exactly the items of its last export and the hashes those items had. Then one
transaction removes the blob rows and marks the submissions purged, and the files are
overwritten and unlinked. Rows go first: after a crash between the two steps the files are
orphans `intake sweep` removes, never rows pointing at missing files. Witness and submission
rows stay, so a returning witness sees "delivered".
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from intake.blobstore import BlobStore
from intake.clock import utc_today
from intake.db import SessionFactory
from intake.errors import BundleError, IntakeError, StorageError
from intake.keyring import Keyring, SigningKeyEntry
from intake.models import ExportedBlob, KeyStatus, Submission, SubmissionState
from intake.transfer._bundles import open_signed
from protocol.meta.ack import AckedSubmission, AckMeta
from protocol.meta.items import blob_item, manifest_item

__all__ = ["PurgeReport", "purge_acknowledged"]


@dataclass(frozen=True)
class PurgeReport:
    """What a purge did, and who vouched for it."""

    purged: tuple[str, ...]
    already_purged: tuple[str, ...]
    blobs_deleted: int
    signer_fingerprint: str
    signer_name: str


def _refuse(message: str, hint: str) -> BundleError:
    return BundleError(f"refused ack: {message}; nothing was deleted", hint=hint)


# How long after its retirement (the keyring file's retired_on, which a database writer cannot
# change) a retired key's acks still count: an export made before a rotation must reach the
# laptop and its ack come back (a courier, a field trip); a month covers that. After it, the
# server's copies are re-wrapped to the active keys and acknowledged with an active key. The
# window bounds what a stolen retired key can do with a database writer's help (SECURITY.md).
RETIRED_ACK_DAYS = 30


def _check_retired_window(signer: SigningKeyEntry, today: date) -> None:
    if signer.status is not KeyStatus.RETIRED:
        return
    if signer.retired_on is None or today > signer.retired_on + timedelta(days=RETIRED_ACK_DAYS):
        raise _refuse(
            f"it is signed by the key {signer.fingerprint} ({signer.name}), retired on "
            f"{signer.retired_on}: a retired key's acks count for {RETIRED_ACK_DAYS} days",
            "re-wrap the server's copies to the active keys (`triage rewrap`, `intake keys "
            "apply-rewrap`), export again with --all and acknowledge with an active key",
        )


def _check_retired_signer(
    signer: SigningKeyEntry, sid: str, recipients: dict[str, list[str]]
) -> None:
    """A retired key may purge only what its last export carried sealed to it.

    Why this rule and not a date window: a retired key's holder could read exactly the blobs
    sealed to it, so its ack can vouch for those and nothing else; the export recorded the
    recipients when it was made, and re-wraps since then do not widen it.
    """
    outside = sorted(name for name, fps in recipients.items() if signer.fingerprint not in fps)
    if outside:
        raise _refuse(
            f"it is signed by the retired key {signer.fingerprint} ({signer.name}), and the "
            f"last export of {sid} was not sealed to it ({len(outside)} blob(s), e.g. "
            f"{outside[0]}): that is outside the period the key was active",
            "a retired key only acknowledges what was exported sealed to it: the investigator "
            "acknowledges this submission with their active key",
        )


def _exported_items(session: Session, row: Submission, signer: SigningKeyEntry) -> dict[str, str]:
    """The item names and hashes of the submission's last export. Raises BundleError."""
    names = [blob.name for blob in row.blobs]
    query = select(
        ExportedBlob.blob_name, ExportedBlob.sealed_sha256, ExportedBlob.recipients
    ).where(ExportedBlob.blob_name.in_(names))
    found = session.execute(query).all()
    hashes = {name: sha for name, sha, _fps in found}
    if set(hashes) != set(names):
        raise _refuse(
            f"{row.id} has blobs its last export did not carry",
            "export it again (`intake export --all`) and acknowledge that export",
        )
    if signer.status is not KeyStatus.ACTIVE:
        _check_retired_signer(signer, row.id, {name: fps.split() for name, _sha, fps in found})
    return {
        (manifest_item(row.id) if name == row.manifest_blob else blob_item(name)): sha
        for name, sha in hashes.items()
    }


def _check(session: Session, acked: AckedSubmission, signer: SigningKeyEntry) -> Submission | None:
    """The submission row to purge, None when already purged. Raises BundleError."""
    sid = acked.submission_id
    row = session.get(Submission, sid)
    if row is None:
        raise _refuse(
            f"it names {sid}, which this server never held",
            "was the ack made for another server's export?",
        )
    if row.state is SubmissionState.PURGED:
        return None
    if row.state is not SubmissionState.EXPORTED:
        raise _refuse(
            f"it names {sid}, which was never exported",
            "an ack can only confirm what an export carried: run `intake export` first",
        )
    exported = _exported_items(session, row, signer)
    missing = sorted(set(exported) - set(acked.items))
    extra = sorted(set(acked.items) - set(exported))
    if missing or extra:
        raise _refuse(
            f"its items for {sid} are not those of its last export "
            f"(missing {missing[:3]}, unexpected {extra[:3]})",
            "acknowledge the latest export of that submission (`intake export --all` to redo it)",
        )
    for name, sha in acked.items.items():
        if not hmac.compare_digest(sha, exported[name]):
            raise _refuse(
                f"the SHA-256 of {name} ({sid}) is not the one exported",
                "the investigator's copy differs from what was exported: keep the server's "
                "copy, export again with --all and re-import",
            )
    return row


def _purge_rows(session: Session, rows: Sequence[Submission], today: date) -> list[str]:
    names = [blob.name for row in rows for blob in row.blobs]
    if names:
        session.execute(delete(ExportedBlob).where(ExportedBlob.blob_name.in_(names)))
    for row in rows:
        row.blobs.clear()  # delete-orphan: the blob rows (and their recipient rows) go
        row.state = SubmissionState.PURGED
        row.acked_on = today
        row.purged_on = today
    return names


def _delete_files(store: BlobStore, names: Sequence[str]) -> int:
    failed = 0
    for name in names:
        try:
            store.delete_secure(name, missing_ok=True)
        except IntakeError:
            failed += 1
    if failed:
        raise StorageError(
            f"{failed} of {len(names)} purged blob(s) could not be deleted from the store",
            hint="their rows are gone; `intake sweep` removes the files once they are a day old",
        )
    return len(names)


def purge_acknowledged(
    sessions: SessionFactory,
    store: BlobStore,
    keyring: Keyring,
    ack_path: Path,
    *,
    today: date | None = None,
) -> PurgeReport:
    """Apply the ack bundle at `ack_path`; returns what was purged.

    Raises BundleError (the whole ack refused, nothing deleted) or StorageError (the rows are
    purged but some files could not be removed).
    """
    with open_signed(ack_path, "ack", keyring) as bundle:
        for item in bundle.reader.items():
            raise _refuse(f"it carries an item ({item.entry.name})", "an ack has no items")
        acked = AckMeta.from_manifest(bundle.reader.manifest).submissions
    _check_retired_window(bundle.signer, today or utc_today())
    with sessions() as session:
        checked = [(a.submission_id, _check(session, a, bundle.signer)) for a in acked]
        rows = [row for _sid, row in checked if row is not None]
        names = _purge_rows(session, rows, today or utc_today())
        session.commit()
    deleted = _delete_files(store, names)
    return PurgeReport(
        purged=tuple(row.id for row in rows),
        already_purged=tuple(sid for sid, row in checked if row is None),
        blobs_deleted=deleted,
        signer_fingerprint=bundle.signer.fingerprint,
        signer_name=bundle.signer.name,
    )
