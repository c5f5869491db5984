"""`triage rewrap`: new age headers, for a new set of investigator keys, for every sealed file
this identity opens. The payloads never change and never leave the server. The layout is
docs/bundles.md's `rewrap`, whose meta is protocol.meta.rewrap.RewrapMeta (the server's half:
intake/transfer/rewrap.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from crypto.age import rewrap_header
from crypto.errors import NoIdentityMatchError
from crypto.x25519 import X25519Recipient
from protocol.bundle import ItemSource, write_bundle
from protocol.meta.items import header_item, submission_header_item
from protocol.meta.rewrap import HeaderRole, RewrapHeader, RewrapMeta
from triage.errors import refused
from triage.keys.investigator import Signer
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


@dataclass(frozen=True)
class _Target:
    """A file to re-wrap: its path in the workspace, and which blob of which submission it is."""

    path: Path
    role: HeaderRole
    blob_name: str | None  # None when the export gave none: the server finds it by the id
    submission_id: str

    @property
    def item(self) -> str:
        """The name of its new header in the re-wrap bundle."""
        if self.blob_name:
            return header_item(self.blob_name)
        return submission_header_item(self.submission_id)


def _one(
    ctx: WorkContext, new: Sequence[X25519Recipient], target: _Target
) -> tuple[bytes, RewrapHeader]:
    """The new header, and what the server needs to check it against its copy."""
    with target.path.open("rb") as sealed:
        header, offset = rewrap_header(sealed, ctx.identities(), new)
        sealed.seek(0)
        old, fresh = hashlib.sha256(sealed.read(offset)), hashlib.sha256(header)
        while chunk := sealed.read(_CHUNK):
            old.update(chunk)
            fresh.update(chunk)
    entry = RewrapHeader(
        role=target.role,
        blob_name=target.blob_name,
        submission_id=target.submission_id,
        old_header_length=offset,
        old_sealed_sha256=old.hexdigest(),
        new_sealed_sha256=fresh.hexdigest(),
    )
    return header, entry


def _targets(ctx: WorkContext) -> list[_Target]:
    store = BlobStore(ctx.workspace.dir("blobs"))
    found: list[_Target] = []
    with ctx.session() as session:
        for sub in session.scalars(select(Submission).order_by(Submission.id)):
            document = store.document_path(sub.id)
            found.append(_Target(document, "submission", sub.sealed_blob, sub.id))
        stored = (
            select(Attachment).where(Attachment.stored.is_(True)).order_by(Attachment.blob_name)
        )
        for att in session.scalars(stored):
            path = store.path(att.blob_name)
            found.append(_Target(path, "attachment", att.blob_name, att.submission_id))
    return found


def _rewrap_all(
    ctx: WorkContext,
    new: Sequence[X25519Recipient],
    report: RewrapReport,
    progress: Callable[[int], None],
) -> tuple[list[ItemSource], list[RewrapHeader]]:
    """The new header of every file this identity opens, with its entry for the meta."""
    items, entries = [], []
    for target in _targets(ctx):
        try:
            header, entry = _one(ctx, new, target)
        except NoIdentityMatchError:
            report.skipped.append(target.item)
            continue
        progress(1)
        items.append(ItemSource.from_bytes(entry.item, header))
        entries.append(entry)
    return items, entries


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
    items, entries = _rewrap_all(ctx, recipients, report, progress)
    if not items:
        raise refused("nothing in the workspace opens with this identity; no headers to write")
    meta = RewrapMeta.build(recipients, entries, signed_by=signer.fingerprint)
    report.written = write_bundle(out, "rewrap", items, meta=meta.to_meta(), signing_key=signer.key)
    report.headers = len(items)
    details = {
        "headers": len(items),
        "recipients": sorted(meta.fingerprints),
        "skipped": len(report.skipped),
        "signed_by": signer.fingerprint,
        "minisign_key_id": signer.key_id,
    }
    ctx.record("exported", "rewrap_bundle", out.name, details=details)
    # The custody log stays signed by the workspace's own key: `triage log verify` checks it
    # against that key, whichever key signed the bundle.
    ctx.checkpoint(f"rewrap export {out.name}")
    return report
