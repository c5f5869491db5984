"""The witness's side of a browser-sealed upload in parts: start it, add parts, keep it whole.

Thin steps over `PartStore` for the views: the upload belongs to the witness who started it,
is sealed to the keys active when it started (their count and digest recorded), and once
whole becomes a blob in the witness's draft like any file received through the plain form,
so the form's next POST takes it over and a closed tab keeps it (F's draft).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from intake.blobstore import new_blob_name
from intake.partstore import PartError, PartStore, PartUpload, owner_of
from intake.web.presealed import SealedMeta
from intake.web.services.context import WebContext
from intake.web.services.drafts import DraftKey, keep_file, load_draft
from intake.web.services.incoming import IncomingFile
from intake.web.services.receive import forget_blobs, snapshot_keyring

__all__ = ["FileFacts", "finish_upload", "put_part", "start_upload", "upload_status"]

_MAX_NAME_CHARS = 1024


@dataclass(frozen=True)
class FileFacts:
    """What the page says of the plaintext at the end: name, type and its own hash."""

    name: str
    declared_type: str
    meta: SealedMeta


def _store(ctx: WebContext) -> PartStore:
    return PartStore(ctx.services.config.blob_dir)


def start_upload(
    ctx: WebContext, key: DraftKey, group: int, plain_size: int, sealed_size: int
) -> tuple[str, PartUpload]:
    """A new upload for `key`'s witness. Raises PartError (too many files, sizes refused)."""
    draft = load_draft(ctx.sessions, key)
    if len(draft.files if draft else ()) >= ctx.limits.max_files or group not in (1, 2, 3):
        raise PartError("no room for another file")
    snapshot = snapshot_keyring(ctx.keyring)
    upload = PartUpload(
        owner=owner_of(key.witness_id),
        group=group,
        plain_size=plain_size,
        sealed_size=sealed_size,
        recipients=len(snapshot.recipients),
        keyring_digest=snapshot.digest,
        fingerprints=snapshot.fingerprints,
        # Unfinished uploads last as long as drafts do, then the sweep takes them.
        expires=time.time() + 3600 * ctx.limits.pending_draft_ttl_hours,
    )
    return _store(ctx).start(upload, ctx.limits.max_request_bytes), upload


def upload_status(ctx: WebContext, key: DraftKey, upload_id: str) -> tuple[int, int]:
    """(parts whole, parts in all). Raises PartError when the upload is gone or not theirs."""
    store = _store(ctx)
    upload = store.load(upload_id, owner_of(key.witness_id))
    return store.have(upload_id, upload), upload.parts


def put_part(ctx: WebContext, key: DraftKey, upload_id: str, index: int, data: bytes) -> int:
    """Add part `index`; returns how many parts are whole. Raises PartError."""
    store = _store(ctx)
    upload = store.load(upload_id, owner_of(key.witness_id))
    return store.put(upload_id, upload, index, data)


def finish_upload(ctx: WebContext, key: DraftKey, upload_id: str, facts: FileFacts) -> None:
    """Commit the whole upload as a blob and keep it in the draft. Raises PartError."""
    store = _store(ctx)
    upload = store.load(upload_id, owner_of(key.witness_id))
    if facts.meta.size != upload.plain_size:
        raise PartError("the file's declared size changed")
    if upload.finished:
        return  # the answer to the first `done` was lost: the file is in the draft already
    whole = store.finish(upload_id, upload)
    name = new_blob_name()
    ctx.store.commit(whole.temp_name, name)
    file = IncomingFile(
        blob_name=name,
        group=upload.group,
        original_name=facts.name.replace("\x00", "")[:_MAX_NAME_CHARS],
        declared_type=facts.declared_type,
        plaintext_sha256=facts.meta.sha256,
        size=upload.plain_size,
        file_key=b"",  # sealed in the browser: the server never knew it
        sealed_size=upload.sealed_size,
        sealed_sha256=whole.sealed_sha256,
        keyring_digest=upload.keyring_digest,
        sealed_to=upload.fingerprints,
    )
    try:
        keep_file(ctx.sessions, key, file, ttl_hours=ctx.limits.pending_draft_ttl_hours)
    except BaseException:
        forget_blobs(ctx.store, [name])
        raise
    store.mark_finished(upload_id, upload)
