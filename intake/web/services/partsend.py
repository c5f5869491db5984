"""The witness's side of a browser-sealed upload in parts: start it, add parts, keep it whole.

Thin steps over `PartStore` for the views: the upload belongs to the witness who started it,
is sealed to the keys the page declares it sealed to (refused unless they are the keys active
now: a page a day old may hold a key revoked since), and once whole becomes a blob in the
witness's draft like any file received through the plain form, so the form's next POST takes
it over and a closed tab keeps it (F's draft). Its rows name the declared keys, so a key
retired after the start leaves the file among those `triage rewrap` re-issues.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from crypto.errors import CryptoError
from crypto.keyfile import fingerprint, parse_recipient
from intake.blobstore import new_blob_name
from intake.partstore import PartError, PartStore, PartUpload, expiry_hour, owner_of
from intake.web.presealed import SealedMeta
from intake.web.services.context import WebContext
from intake.web.services.drafts import (
    DraftKey,
    draft_files,
    extend_draft,
    keep_file,
    load_draft,
)
from intake.web.services.incoming import IncomingFile
from intake.web.services.receive import forget_blobs, same_file, snapshot_keyring

__all__ = [
    "FileFacts",
    "KeysChanged",
    "cancel_upload",
    "finish_upload",
    "put_part",
    "start_upload",
    "upload_status",
]

_MAX_NAME_CHARS = 1024
_MAX_KEYS = 64


class KeysChanged(PartError):
    """The page sealed to keys that are not the active ones now (its recipients are old)."""


@dataclass(frozen=True)
class FileFacts:
    """What the page says of the plaintext at the end: name, type and its own hash."""

    name: str
    declared_type: str
    meta: SealedMeta


def _store(ctx: WebContext) -> PartStore:
    return PartStore(ctx.services.config.blob_dir)


def _ttl(ctx: WebContext) -> float:
    return 3600.0 * ctx.limits.pending_draft_ttl_hours


def declared_fingerprints(keys: str) -> tuple[str, ...]:
    """The sorted fingerprints of the comma-separated recipients a page sealed to.

    Raises PartError when one is not an X25519 recipient (or there are absurdly many).
    """
    texts = [text for text in keys.split(",") if text.strip()]
    if not 0 < len(texts) <= _MAX_KEYS:
        raise PartError("no recipients declared")
    try:
        return tuple(sorted({fingerprint(parse_recipient(text)) for text in texts}))
    except CryptoError as exc:
        raise PartError("a declared recipient is malformed") from exc


def start_upload(
    ctx: WebContext,
    key: DraftKey,
    group: int,
    sizes: tuple[int, int],
    keys: str,
    *,
    replaces: str = "",
    nonce: str = "",
) -> tuple[str, PartUpload]:
    """A new upload for `key`'s witness of (plaintext, sealed) `sizes`, sealed to `keys`.

    `replaces`, when given, is the witness's upload of the same file that the page gave up
    (it seals the file again): it is cancelled before the new one is counted, so the two
    never race, the new one is never refused for the one it replaces, and a cancel of the old
    one arriving later finds nothing.

    `nonce`, the page's random name for this attempt at the file, makes the start idempotent:
    sent again (its 201 lost over Tor), it is answered with the upload the first made.

    Raises KeysChanged when `keys` are not the active keys now, PartError (too many files or
    unfinished uploads, sizes refused, `replaces` another witness's), DiskFullError when the
    bytes every unfinished upload has yet to write do not fit on the disk beside the uploads
    in progress.
    """
    if replaces:
        cancel_upload(ctx, key, replaces)  # PartError when it is another witness's
    draft = load_draft(ctx.sessions, key)
    if len(draft.files if draft else ()) >= ctx.limits.max_files or group not in (1, 2, 3):
        raise PartError("no room for another file")
    declared = declared_fingerprints(keys)
    snapshot = snapshot_keyring(ctx.keyring)
    if declared != snapshot.fingerprints:
        raise KeysChanged("the page sealed to keys that are not the active ones")
    upload = PartUpload(
        owner=owner_of(key.witness_id),
        group=group,
        plain_size=sizes[0],
        sealed_size=sizes[1],
        recipients=len(declared),
        keyring_digest=snapshot.digest,
        fingerprints=declared,
        nonce=nonce,
        # Unfinished uploads last as long as drafts do (each part moves this on), then the
        # sweep takes them.
        expires=expiry_hour(_ttl(ctx)),
    )

    def fits(remaining: int) -> None:
        with ctx.services.reservations.reserve(remaining):
            pass  # a check only: each part reserves its own bytes while it is written

    return _store(ctx).start(upload, ctx.limits.max_request_bytes, fits), upload


def upload_status(ctx: WebContext, key: DraftKey, upload_id: str) -> tuple[int, int]:
    """(parts whole, parts in all). Raises PartError when the upload is gone or not theirs."""
    store = _store(ctx)
    upload = store.load(upload_id, owner_of(key.witness_id))
    return store.have(upload_id, upload), upload.parts


def put_part(ctx: WebContext, key: DraftKey, upload_id: str, index: int, data: bytes) -> int:
    """Add part `index`; returns how many parts are whole. Raises PartError."""
    return _store(ctx).put(upload_id, owner_of(key.witness_id), index, data, _ttl(ctx))


def cancel_upload(ctx: WebContext, key: DraftKey, upload_id: str) -> None:
    """Remove an upload the page gave up, freeing what it reserved. Raises PartError when it
    is another witness's; one gone or finished already is fine (the page sends it blind)."""
    if _store(ctx).cancel(upload_id, owner_of(key.witness_id)):
        ctx.store.discard(upload_id)


def _draft_holds(ctx: WebContext, key: DraftKey, blob: str) -> bool:
    draft = load_draft(ctx.sessions, key)
    return draft is not None and any(f.blob_name == blob for f in draft.files)


def finish_upload(ctx: WebContext, key: DraftKey, upload_id: str, facts: FileFacts) -> None:
    """Commit the whole upload as a blob and keep it in the draft. Raises PartError.

    Under the upload's lock, so concurrent `done`s keep it once; the blob name is written
    into the description before the commit, so a `done` retried after a crash anywhere in
    between finds the file (in the draft, in the store, or still a temp) and keeps it once.
    """
    store = _store(ctx)
    with store.locked(upload_id, owner_of(key.witness_id)) as held:
        upload = held
        if facts.meta.size != upload.plain_size:
            raise PartError("the file's declared size changed")
        if upload.finished:
            return  # the answer to the first `done` was lost: the file is in the draft already
        if upload.blob and _draft_holds(ctx, key, upload.blob):
            store.save(upload_id, replace(upload, finished=True))
            return
        if not upload.blob:
            whole = store.finish(upload_id, upload)
            upload = replace(upload, blob=new_blob_name(), sealed_sha256=whole.sealed_sha256)
            store.save(upload_id, upload)  # the intent, before the commit
        if not ctx.store.exists(upload.blob):
            if not store.temp_exists(upload_id):
                raise PartError("the upload is gone")
            ctx.store.commit(upload_id, upload.blob)
        elif store.temp_exists(upload_id):
            ctx.store.discard(upload_id)  # a commit cut between link and unlink: a 2nd name
        kept = _keep(ctx, key, upload, facts)
        store.save(upload_id, replace(upload, finished=True))
        if not kept:
            # A copy of a held file, removed only now that the upload is finished: a `done`
            # retried after a cut in between answers from `finished`, not "the upload is gone".
            forget_blobs(ctx.store, [upload.blob])


def _keep(ctx: WebContext, key: DraftKey, upload: PartUpload, facts: FileFacts) -> bool:
    """Add the upload's file to the draft; False when the draft holds it already."""
    file = IncomingFile(
        blob_name=upload.blob,
        group=upload.group,
        original_name=facts.name.replace("\x00", "")[:_MAX_NAME_CHARS],
        declared_type=facts.declared_type,
        plaintext_sha256=facts.meta.sha256,
        size=upload.plain_size,
        file_key=b"",  # sealed in the browser: the server never knew it
        sealed_size=upload.sealed_size,
        sealed_sha256=upload.sealed_sha256,
        keyring_digest=upload.keyring_digest,
        sealed_to=upload.fingerprints,
    )
    # A copy of a file the draft holds already (the plain form's, sent as the witness gave
    # up waiting, or an earlier upload declaring the same file): kept, it would count once
    # against the file limit (DraftKeeper.distinct) and double what one submission takes.
    # Only one sealed to the same keyring: a held copy sealed to keys revoked since is
    # dropped at submission, and this one is then the file. The draft is kept as long as a
    # file added to it would be: the page tells the witness it was received.
    if any(_same_copy(held, file) for held in draft_files(ctx.sessions, key)):
        extend_draft(ctx.sessions, key, ttl_hours=ctx.limits.pending_draft_ttl_hours)
        return False
    try:
        keep_file(ctx.sessions, key, file, ttl_hours=ctx.limits.pending_draft_ttl_hours)
    except BaseException:
        forget_blobs(ctx.store, [upload.blob])
        raise
    return True


def _same_copy(held: IncomingFile, file: IncomingFile) -> bool:
    return same_file(held) == same_file(file) and held.keyring_digest == file.keyring_digest
