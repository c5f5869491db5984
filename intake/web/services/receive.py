"""Setting up a sealing request, and keeping what it receives in the draft as it arrives."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from crypto.keyfile import fingerprint
from crypto.x25519 import X25519Recipient
from intake.blobstore import BlobStore, new_blob_name
from intake.errors import IntakeError
from intake.keyring import Keyring, KeyringFile, fingerprint_set_digest
from intake.models import KeyStatus
from intake.web.services.context import WebContext
from intake.web.services.drafts import DraftKey, draft_files, keep_answers, keep_file
from intake.web.services.incoming import IncomingFile, group_of_field
from intake.web.services.storage import StoreTemp
from intake.web.upload import Part, UploadSession

__all__ = [
    "DraftKeeper",
    "KeyringSnapshot",
    "forget_blobs",
    "new_upload",
    "same_file",
    "sealed_to_revoked",
    "snapshot_keyring",
]

_log = logging.getLogger(__name__)

# The honeypot (if a form still has one) and the one-time token are never worth keeping.
_NOT_KEPT = frozenset({"website", "csrf_token"})
# The browser's declaration of a sealed file (its size and hash) belongs to that file only.
_SEALED_META = "-sealed-meta"


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


class DraftKeeper:
    """Keeps what a request brings in the witness's draft while its body is still arriving.

    Attached to the upload session, it commits each file part the moment its closing
    boundary arrives (a fresh random blob name, a DraftBlob row in its own transaction) and
    the answers when the first file starts, so a cut, a timeout or a killed worker later in
    the request costs only the part in flight. Parts of unknown inputs stay unclaimed and are
    discarded with the upload session, and so is a part the draft already holds (`held`).
    A copy of a held file is not a new file and does not count against the session's
    `max_files`; a new one beyond it is refused (counted in the session's `refused_files`).
    What the draft holds is read again as each file part ends: the browser's `done` for a file
    may land while this body is arriving ("Send the usual way" tapped while the server still
    hashed the browser's copy), and its copy then is a held file too.
    """

    def __init__(
        self,
        ctx: WebContext,
        key: DraftKey,
        snapshot: KeyringSnapshot,
        upload: UploadSession,
        held: Iterable[IncomingFile] = (),
    ) -> None:
        self._ctx = ctx
        self._key = key
        self._snapshot = snapshot
        self._upload = upload
        # The draft's files as last read, with those kept since: the submission's files.
        self._files = list(held)
        self.kept: list[IncomingFile] = []
        self.answers: tuple[tuple[str, str], ...] | None = None
        upload.on_answers = self.keep_answers
        upload.on_part = self.keep_part

    def keep_answers(self, fields: list[tuple[str, str]]) -> None:
        """Seal the answers into the draft (the honeypot's field is never kept)."""
        answers = tuple(
            (n, v) for n, v in fields if n not in _NOT_KEPT and not n.endswith(_SEALED_META)
        )
        keep_answers(
            self._ctx.sessions,
            self._key,
            answers,
            ttl_hours=self._ctx.limits.pending_draft_ttl_hours,
        )
        self.answers = answers

    def keep_part(self, writer: Part) -> None:
        """Name a whole part's blob and add it to the draft; on failure remove the blob."""
        group = group_of_field(writer.field_name)
        if group is None or not writer.complete:
            return
        name = new_blob_name()
        file = IncomingFile.from_writer(
            writer,
            blob_name=name,
            group=group,
            keyring_digest=self._snapshot.digest,
            sealed_to=self._snapshot.fingerprints,
        )
        # One query per file part (not per chunk): what other requests added meanwhile.
        self._files = [*draft_files(self._ctx.sessions, self._key)]
        if same_file(file) in {same_file(f) for f in self._files if self._usable(f)}:
            # A browser resends a POST by itself when the connection died before any answer
            # (Chromium after a killed worker did): what the draft kept then arrives again.
            # Left unclaimed, this copy is discarded with the upload session.
            return
        # Distinct files: a browser's copy that landed after the plain one is the same file
        # twice, and must not push out another file the witness sent whole (review of 83b10a4).
        counted = same_file(file) in {same_file(f) for f in self._files}  # a revoked twin
        if not counted and self.distinct >= self._upload.max_files:
            # Only now, the part whole, is it known not to be a copy of a kept file.
            self._upload.refused_files += 1
            return
        temp = writer.temp
        assert isinstance(temp, StoreTemp)  # noqa: S101 - new_upload makes only StoreTemps
        temp.commit(name)
        self._upload.claim(writer)
        try:
            keep_file(
                self._ctx.sessions,
                self._key,
                file,
                ttl_hours=self._ctx.limits.pending_draft_ttl_hours,
            )
        except BaseException:
            forget_blobs(self._ctx.store, [name])
            raise
        self.kept.append(file)
        self._files.append(file)

    def _usable(self, held: IncomingFile) -> bool:
        """Whether a held copy will go with the submission: one sealed in the browser to a
        key revoked since leaves the draft at submission (testimony._without_revoked), so a
        copy sent again now is the file, not a duplicate to discard."""
        return not sealed_to_revoked(held, self._snapshot.ring)

    @property
    def distinct(self) -> int:
        """How many different files `files` holds: what the file limit counts."""
        return len({same_file(f) for f in self._files})

    @property
    def files(self) -> tuple[IncomingFile, ...]:
        """The draft's files as last read (when the body began or its last file part ended),
        with the ones this request kept since: what the submission counts and sends."""
        return tuple(self._files)


def same_file(file: IncomingFile) -> tuple[int, str, str, int]:
    """What makes two parts of one witness's draft the same file: group, name, content.

    The hash of a part the browser sealed is the browser's declaration; trusting it here only
    lets a witness's own browser drop its own copy, never touch anyone else's.
    """
    return (file.group, file.original_name, file.plaintext_sha256, file.size)


def forget_blobs(store: BlobStore, names: Iterable[str]) -> None:
    """Best-effort removal of committed blobs after a failure (the sweep catches the rest)."""
    for name in names:
        try:
            if store.exists(name):
                store.delete_secure(name)
        except IntakeError:
            # Never log the name's context beyond the category: logs carry no request data.
            _log.warning("could not remove a blob after a failed submission")


def sealed_to_revoked(file: IncomingFile, ring: KeyringFile) -> bool:
    """Whether `file` was sealed in the browser to a key `ring` shows revoked: nobody may open
    it with that key, and the server cannot re-issue its header (testimony drops it)."""
    revoked = {key.fingerprint for key in ring.keys if key.state is KeyStatus.REVOKED}
    return file.sealed_in_browser and bool(revoked.intersection(file.sealed_to))
