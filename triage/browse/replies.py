"""Replies to witnesses: sealed offline to the witness's reply key, carried back in a signed
"replies" bundle (docs/bundles.md; its meta is protocol.meta.replies.RepliesMeta).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.age import seal_bytes
from crypto.keyfile import fingerprint
from crypto.x25519 import X25519Recipient
from protocol.bundle import ItemSource, write_bundle
from protocol.ids import new_reply_id
from protocol.meta.items import reply_item
from protocol.meta.replies import RepliesMeta, ReplyEntry
from triage.browse.lookup import get_submission
from triage.errors import refused, usage
from triage.workspace.context import WorkContext
from triage.workspace.models import Reply

__all__ = ["MAX_REPLY", "export_replies", "seal_reply"]

# A reply is a short message the witness reads in a browser over Tor.
MAX_REPLY = 20_000


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def seal_reply(ctx: WorkContext, session: Session, ident: str, text: str) -> Reply:
    """Seal `text` to the witness of submission `ident`. Refuses when the export bundle named
    another reply key than the one inside the sealed submission.json (one of them was altered)."""
    row = get_submission(session, ident)
    if not text.strip() or len(text) > MAX_REPLY:
        raise usage(f"a reply is 1 to {MAX_REPLY} characters")
    if row.kind == "consent_change":
        raise refused(f"{row.id} is a consent change; reply to the testimony it concerns")
    sealed_key = row.witness_recipient
    if row.export_recipient is not None and row.export_recipient != sealed_key:
        raise refused(
            f"{row.id}: the export named another reply key than the sealed submission",
            "the server's record of this witness differs from what the witness sealed; "
            "do not reply, and report it to the admin",
        )
    recipient = X25519Recipient.parse(sealed_key)
    sealed = seal_bytes(text.encode("utf-8"), [recipient])
    reply = Reply(
        id=new_reply_id(), submission_id=row.id, witness_recipient=sealed_key,
        sealed_sha256=hashlib.sha256(sealed).hexdigest(), size=len(sealed), text=text,
        created_at=_now(), exported_at=None,
    )  # fmt: skip
    path = ctx.workspace.dir("replies") / f"{reply.id}.age"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(sealed)
    session.add(reply)
    details = {"submission_id": row.id, "to_key": fingerprint(recipient), "characters": len(text)}
    ctx.record("sealed", "reply", reply.id, object_sha256=reply.sealed_sha256, details=details)
    session.commit()
    return reply


def export_replies(
    ctx: WorkContext, session: Session, out: Path, *, everything: bool
) -> tuple[list[Path], Sequence[Reply]]:
    """Write the signed replies bundle: replies not exported yet (or all). Marks them exported."""
    query = select(Reply).order_by(Reply.created_at, Reply.id)
    if not everything:
        query = query.where(Reply.exported_at.is_(None))
    replies = list(session.scalars(query))
    if not replies:
        raise refused("no replies to export", "write one with 'triage reply ID TEXT'")
    folder = ctx.workspace.dir("replies")
    items = [ItemSource.from_file(reply_item(r.id), folder / f"{r.id}.age") for r in replies]
    for item, reply in zip(items, replies, strict=True):
        if item.sha256 != reply.sealed_sha256:
            raise refused(f"sealed reply {reply.id} changed since it was written")
    entries = [ReplyEntry(r.id, r.witness_recipient, r.submission_id) for r in replies]
    meta = RepliesMeta.build(entries, signed_by=ctx.fingerprint())
    key = ctx.signing_key()
    written = write_bundle(out, "replies", items, meta=meta.to_meta(), signing_key=key)
    for reply in replies:
        reply.exported_at = _now()
    details = {"replies": [r.id for r in replies], "files": [p.name for p in written]}
    ctx.record("exported", "replies_bundle", out.name, details=details)
    ctx.checkpoint(f"replies export {out.name}")
    session.commit()
    return written, replies
