"""Setting up a sealing request, and settling what it received once the body is parsed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from werkzeug.datastructures import FileStorage, MultiDict

from crypto.keyfile import fingerprint
from crypto.x25519 import X25519Recipient
from intake.blobstore import BlobStore, new_blob_name
from intake.errors import IntakeError
from intake.keyring import Keyring, KeyringFile, fingerprint_set_digest
from intake.web.services.incoming import IncomingFile, group_of_field
from intake.web.services.storage import StoreTemp
from intake.web.upload import SealingWriter, UploadSession

__all__ = ["KeyringSnapshot", "forget_blobs", "new_upload", "settle_received", "snapshot_keyring"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyringSnapshot:
    """The active recipients at one moment, with the digest of their fingerprints."""

    recipients: tuple[X25519Recipient, ...]
    fingerprints: tuple[str, ...]
    digest: str
    ring: KeyringFile


def snapshot_keyring(keyring: Keyring) -> KeyringSnapshot:
    """Read the keyring file now (once, so recipients and fingerprints agree).

    Raises KeyringFileError when the file is missing or invalid: nothing is sealed then.
    """
    ring = keyring.read()
    recipients = tuple(entry.recipient for entry in ring.active)
    fingerprints = tuple(sorted(fingerprint(r) for r in recipients))
    return KeyringSnapshot(recipients, fingerprints, fingerprint_set_digest(fingerprints), ring)


def new_upload(store: BlobStore, snapshot: KeyringSnapshot, max_files: int) -> UploadSession:
    """An upload session sealing to `snapshot` into temporary blobs of `store`."""
    return UploadSession(
        new_temp=lambda: StoreTemp(store),
        recipients=snapshot.recipients,
        max_files=max_files,
    )


def settle_received(
    upload: UploadSession,
    files: MultiDict[str, FileStorage],
    snapshot: KeyringSnapshot,
    store: BlobStore,
) -> list[IncomingFile]:
    """Commit every whole file of a known group under a fresh random name; describe each.

    Parts of unknown inputs stay unclaimed and are discarded with the upload session. When
    naming one fails (a full disk), the ones already named are removed before the error goes on.
    """
    received: list[IncomingFile] = []
    try:
        _commit_whole_files(upload, files, snapshot, received)
    except BaseException:
        forget_blobs(store, [f.blob_name for f in received])
        raise
    return received


def _commit_whole_files(
    upload: UploadSession,
    files: MultiDict[str, FileStorage],
    snapshot: KeyringSnapshot,
    received: list[IncomingFile],
) -> None:
    for field_name, storage in files.items(multi=True):
        writer = storage.stream
        group = group_of_field(field_name)
        if not isinstance(writer, SealingWriter) or not writer.complete or group is None:
            continue
        name = new_blob_name()
        temp = writer.temp
        assert isinstance(temp, StoreTemp)  # noqa: S101 - new_upload makes only StoreTemps
        temp.commit(name)
        upload.claim(writer)
        received.append(
            IncomingFile.from_writer(
                writer, blob_name=name, group=group, keyring_digest=snapshot.digest
            )
        )


def forget_blobs(store: BlobStore, names: Iterable[str]) -> None:
    """Best-effort removal of committed blobs after a failure (the sweep catches the rest)."""
    for name in names:
        try:
            if store.exists(name):
                store.delete_secure(name)
        except IntakeError:
            # Never log the name's context beyond the category: logs carry no request data.
            _log.warning("could not remove a blob after a failed submission")
