"""Pending drafts: files received whole before the server sent the form back with an error.

A witness must never send a 2 GB video twice. When a submission is refused (a field to fix, too
many files), every file that arrived whole is committed as a sealed blob and listed in a draft;
the re-rendered form carries a random draft token in a hidden field, and the next submission
of that form takes the files over. Drafts expire after `pending_draft_ttl_hours` (24 h);
`intake.maintenance.sweep` removes expired ones with their blobs.

The database holds the token's hash; each file's metadata (its name among it) is sealed to an
X25519 key derived from the token, so only a request carrying the form can read it back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.age import open_bytes, seal_bytes
from crypto.errors import CryptoError
from crypto.x25519 import X25519Identity
from intake.clock import hour_bucket
from intake.db import SessionFactory
from intake.models import DraftBlob, DraftFile, PendingDraft
from intake.web.services.incoming import IncomingFile

__all__ = ["Draft", "KeptSummary", "keep_in_draft", "load_draft"]

_LOOKUP_LABEL = b"intake.web/v1/draft-lookup\n"
_KEY_LABEL = b"intake.web/v1/draft-key\n"
_TOKEN_BYTES = 32


def _token_bytes(token: str) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:  # binascii.Error and non-ASCII text are both ValueErrors
        return None
    return raw if len(raw) == _TOKEN_BYTES else None


def _lookup(raw: bytes) -> bytes:
    return hashlib.sha256(_LOOKUP_LABEL + raw).digest()


def _identity(raw: bytes) -> X25519Identity:
    # The token is 256 random bits; a labelled hash is a sound KDF for such an input.
    return X25519Identity.from_secret_bytes(hashlib.sha256(_KEY_LABEL + raw).digest())


@dataclass(frozen=True)
class KeptSummary:
    """What the re-rendered form tells the witness it kept."""

    count: int
    size: int
    names: tuple[str, ...]


@dataclass(frozen=True)
class Draft:
    """A live draft: its token, row id and files (metadata opened with the token)."""

    token: str
    draft_id: str
    files: tuple[IncomingFile, ...]

    def summary(self) -> KeptSummary:
        return KeptSummary(
            count=len(self.files),
            size=sum(f.size for f in self.files),
            names=tuple(f.original_name for f in self.files),
        )


def _meta(file: IncomingFile) -> bytes:
    return json.dumps(
        {
            "original_name": file.original_name,
            "declared_type": file.declared_type,
            "plaintext_sha256": file.plaintext_sha256,
            "size": file.size,
            "group": file.group,
            "file_key": base64.b64encode(file.file_key).decode("ascii"),
        }
    ).encode("utf-8")


def _from_meta(row: DraftBlob, sealed_meta: bytes, identity: X25519Identity) -> IncomingFile:
    meta = json.loads(open_bytes(sealed_meta, [identity]))
    return IncomingFile(
        blob_name=row.name,
        group=int(meta["group"]),
        original_name=str(meta["original_name"]),
        declared_type=str(meta["declared_type"]),
        plaintext_sha256=str(meta["plaintext_sha256"]),
        size=int(meta["size"]),
        file_key=base64.b64decode(meta["file_key"]),
        sealed_size=row.sealed_size,
        sealed_sha256=row.sealed_sha256,
        keyring_digest=row.keyring_digest,
    )


def load_draft(sessions: SessionFactory, token: str | None) -> Draft | None:
    """The live draft named by a form's token, or None (no token, unknown, expired, forged)."""
    raw = _token_bytes(token or "")
    if raw is None:
        return None
    identity = _identity(raw)
    with sessions() as session:
        draft = session.scalar(select(PendingDraft).where(PendingDraft.token_hash == _lookup(raw)))
        if draft is None or draft.expires_hour < hour_bucket():
            return None
        rows = session.execute(
            select(DraftBlob, DraftFile.sealed_meta)
            .join(DraftFile, DraftFile.blob_name == DraftBlob.name)
            .where(DraftBlob.draft_id == draft.id)
            .order_by(DraftBlob.name)
        )
        try:
            files = tuple(_from_meta(row, meta, identity) for row, meta in rows)
        except (CryptoError, ValueError, KeyError):
            return None
        files = tuple(sorted(files, key=lambda f: (f.group, f.original_name, f.blob_name)))
        return Draft(token=token or "", draft_id=draft.id, files=files)


def keep_in_draft(
    sessions: SessionFactory,
    draft: Draft | None,
    files: Sequence[IncomingFile],
    *,
    ttl_hours: int,
) -> Draft:
    """Add committed blobs to `draft` (or a new one); return the draft as it now stands.

    The caller has already committed each file's blob under `blob_name`.
    """
    token_text = draft.token if draft else secrets.token_urlsafe(_TOKEN_BYTES)
    raw = _token_bytes(token_text)
    assert raw is not None  # noqa: S101 - made just above or loaded through _token_bytes
    recipient = _identity(raw).recipient()
    with sessions() as session:
        row = _draft_row(session, draft, raw, ttl_hours)
        for file in files:
            session.add(
                DraftBlob(
                    name=file.blob_name,
                    draft_id=row.id,
                    sealed_size=file.sealed_size,
                    sealed_sha256=file.sealed_sha256,
                    keyring_digest=file.keyring_digest,
                )
            )
            session.flush()
            session.add(
                DraftFile(
                    blob_name=file.blob_name, sealed_meta=seal_bytes(_meta(file), [recipient])
                )
            )
        row.file_count += len(files)
        row.sealed_bytes += sum(f.sealed_size for f in files)
        session.commit()
        draft_id = row.id
    kept = (*(draft.files if draft else ()), *files)
    return Draft(token=token_text, draft_id=draft_id, files=tuple(kept))


def _draft_row(session: Session, draft: Draft | None, raw: bytes, ttl_hours: int) -> PendingDraft:
    expires = hour_bucket() + ttl_hours
    if draft is not None:
        row = session.get(PendingDraft, draft.draft_id)
        if row is not None:
            row.expires_hour = expires
            return row
    row = PendingDraft(token_hash=_lookup(raw), expires_hour=expires, file_count=0, sealed_bytes=0)
    session.add(row)
    session.flush()
    return row
