"""`triage rewrap`: new age headers, for a new set of investigator keys, for every sealed file
this identity opens. The payloads never change and never leave the server. The layout is
docs/bundles.md's `rewrap` (the server's half: intake/transfer/rewrap.py):

    kind "rewrap", signed; items "headers/<blob name>" (the new header's bytes) or, for a
    submission.json whose server blob name the export did not give,
    "headers/submissions/<id>.json.age";
    meta = {"signed_by": "SHA256:…" (the signer's identity; absent when unknown),
            "recipients": [fingerprints], "recipient_keys": ["age1…"],
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
from triage.keys import Signer
from triage.workspace.blobs import BlobStore
from triage.workspace.context import WorkContext
from triage.workspace.models import Attachment, Submission

__all__ = ["RewrapReport", "rewrap"]

_CHUNK = 1 << 20


@dataclass
class RewrapReport:
    signer: Signer
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


def _rewrap_all(
    ctx: WorkContext,
    new: Sequence[X25519Recipient],
    report: RewrapReport,
    progress: Callable[[int], None],
) -> tuple[list[ItemSource], dict[str, dict[str, Any]]]:
    """The new header of every file this identity opens, with its facts for the meta."""
    items, headers = [], {}
    for item, path, facts in _targets(ctx):
        try:
            header, checks = _one(path, ctx, new)
        except NoIdentityMatchError:
            report.skipped.append(item)
            continue
        progress(1)
        items.append(ItemSource.from_bytes(item, header))
        headers[item] = {**facts, **checks}
    return items, headers


def rewrap(
    ctx: WorkContext,
    recipients: Sequence[X25519Recipient],
    out: Path,
    progress: Callable[[int], None] = lambda _n: None,
    *,
    signer: Signer | None = None,
) -> RewrapReport:
    """Write the rewrap bundle at `out`, signed by `signer`: by default the minisign key beside
    the identity that opens the files. Files this identity does not open are listed in the
    report, not re-wrapped.

    `signed_by` in the meta names the signer's identity (left out when unknown). Whether the
    server accepts the signer (a registered, active key) cannot be known offline.
    """
    # Unlock before the long part: the identity (ctx.fingerprint() then names it) and its
    # minisign key, which signs the custody checkpoint whoever signs the bundle.
    ctx.identities()
    own_key = ctx.signing_key()
    if signer is None:
        signer = Signer(own_key, ctx.fingerprint())
    report = RewrapReport(signer)
    items, headers = _rewrap_all(ctx, recipients, report, progress)
    if not items:
        raise refused("nothing in the workspace opens with this identity; no headers to write")
    meta: dict[str, Any] = {
        "recipients": sorted(fingerprint(r) for r in recipients),
        "recipient_keys": sorted(str(r) for r in recipients),
        "headers": headers,
    }
    if signer.fingerprint is not None:
        meta["signed_by"] = signer.fingerprint
    report.written = write_bundle(out, "rewrap", items, meta=meta, signing_key=signer.key)
    report.headers = len(items)
    details = {
        "headers": len(items),
        "recipients": meta["recipients"],
        "skipped": len(report.skipped),
        "signed_by": signer.fingerprint,
        "minisign_key_id": signer.key_id,
    }
    ctx.record("exported", "rewrap_bundle", out.name, details=details)
    # The custody log stays signed by the workspace's own key: `triage log verify` checks it
    # against that key, whichever key signed the bundle.
    ctx.checkpoint(f"rewrap export {out.name}")
    return report
