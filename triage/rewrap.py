"""`triage rewrap`: new age headers, for a new set of investigator keys, for every sealed file
this identity opens. The payloads never change and never leave the server.

    kind "rewrap", signed; items "headers/<blob name>" (the new header's bytes) or, for a
    submission.json whose server blob name the export did not give,
    "headers/submissions/<id>.json.age";
    meta = {"signed_by": "SHA256:…", "recipients": [fingerprints], "recipient_keys": ["age1…"],
            "headers": {"<item>": {"role": "attachment"|"submission", "blob_name": …|null,
                                   "submission_id": "S-…", "old_header_length": n,
                                   "old_sealed_sha256": "…", "new_sealed_sha256": "…"}}}
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crypto.age import rewrap_header
from crypto.errors import NoIdentityMatchError
from crypto.keyfile import fingerprint
from crypto.x25519 import X25519Recipient
from protocol.bundle import ItemSource, write_bundle
from triage._errors_ws import refused
from triage.workspace.blobs import BlobStore
from triage.workspace.context import WorkContext
from triage.workspace.models import Attachment, Submission

__all__ = ["RewrapReport", "rewrap"]

_CHUNK = 1 << 20


@dataclass
class RewrapReport:
    written: list[Path] = field(default_factory=list)
    headers: int = 0
    skipped: list[str] = field(default_factory=list)


def _one(
    path: Path, ctx: WorkContext, new: Sequence[X25519Recipient]
) -> tuple[bytes, dict[str, Any]]:
    """The new header, and what the server needs to check it against its copy."""
    with path.open("rb") as sealed:
        header, offset = rewrap_header(sealed, ctx.identities(), new)
        sealed.seek(0)
        old, fresh = hashlib.sha256(sealed.read(offset)), hashlib.sha256(header)
        old_copy = old.copy()
        while chunk := sealed.read(_CHUNK):
            old_copy.update(chunk)
            fresh.update(chunk)
    facts = {
        "old_header_length": offset,
        "old_sealed_sha256": old_copy.hexdigest(),
        "new_sealed_sha256": fresh.hexdigest(),
    }
    return header, facts


def _targets(ctx: WorkContext) -> list[tuple[str, Path, dict[str, Any]]]:
    store = BlobStore(ctx.workspace.dir("blobs"))
    found: list[tuple[str, Path, dict[str, Any]]] = []
    with ctx.session() as session:
        for sub in session.scalars(select(Submission).order_by(Submission.id)):
            item = (
                f"headers/{sub.sealed_blob}"
                if sub.sealed_blob
                else f"headers/submissions/{sub.id}.json.age"
            )
            facts = {"role": "submission", "blob_name": sub.sealed_blob, "submission_id": sub.id}
            found.append((item, store.document_path(sub.id), facts))
        stored = (
            select(Attachment).where(Attachment.stored.is_(True)).order_by(Attachment.blob_name)
        )
        for att in session.scalars(stored):
            facts = {
                "role": "attachment",
                "blob_name": att.blob_name,
                "submission_id": att.submission_id,
            }
            found.append((f"headers/{att.blob_name}", store.path(att.blob_name), facts))
    return found


def rewrap(
    ctx: WorkContext,
    recipients: Sequence[X25519Recipient],
    out: Path,
    progress: Callable[[int], None] = lambda _n: None,
) -> RewrapReport:
    """Write the signed rewrap bundle at `out`. Files this identity does not open are listed
    in the report, not re-wrapped."""
    key = ctx.signing_key()
    report, items, headers = RewrapReport(), [], {}
    for item, path, facts in _targets(ctx):
        try:
            header, checks = _one(path, ctx, recipients)
        except NoIdentityMatchError:
            report.skipped.append(item)
            continue
        progress(1)
        items.append(ItemSource.from_bytes(item, header))
        headers[item] = {**facts, **checks}
    if not items:
        raise refused("nothing in the workspace opens with this identity; no headers to write")
    meta = {
        "signed_by": ctx.fingerprint(),
        "recipients": sorted(fingerprint(r) for r in recipients),
        "recipient_keys": sorted(str(r) for r in recipients),
        "headers": headers,
    }
    report.written = write_bundle(out, "rewrap", items, meta=meta, signing_key=key)
    report.headers = len(items)
    details = {
        "headers": len(items),
        "recipients": meta["recipients"],
        "skipped": len(report.skipped),
    }
    ctx.record("exported", "rewrap_bundle", out.name, details=details)
    ctx.checkpoint(f"rewrap export {out.name}")
    return report
