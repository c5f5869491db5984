"""The offline laptop's side of the transfer tests: reading exports, writing signed bundles.

Written with protocol/ and crypto/ only (intake never imports triage): the meta comes from
protocol.meta, the one definition both sides use, as dicts that a test may then tamper with.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crypto.age import open_bytes, rewrap_header, seal_bytes
from crypto.header import Identity
from crypto.keyfile import fingerprint
from crypto.minisign import SigningKey
from crypto.x25519 import X25519Identity, X25519Recipient
from protocol import _tar
from protocol.bundle import ItemSource, open_bundle, write_bundle
from protocol.ids import new_reply_id
from protocol.manifest import BundleKind, Manifest
from protocol.meta.ack import AckedExport, AckedSubmission, AckMeta
from protocol.meta.export import ExportMeta
from protocol.meta.items import reply_item
from protocol.meta.replies import RepliesMeta, ReplyEntry
from protocol.meta.rewrap import HeaderRole, RewrapHeader, RewrapMeta


@dataclass(frozen=True)
class Export:
    """An export bundle read whole (test bundles are small)."""

    manifest: Manifest
    items: dict[str, bytes]

    @property
    def submissions(self) -> list[dict[str, Any]]:
        return list(self.manifest.meta["submissions"])

    def submission(self, sid: str) -> dict[str, Any]:
        return next(s for s in self.submissions if s["submission_id"] == sid)

    def open(self, item: str, identities: Sequence[Identity]) -> bytes:
        return open_bytes(self.items[item], identities)

    def blob_items(self) -> list[tuple[str, str]]:
        """(blob name, item name) of every sealed blob in the export."""
        pairs = []
        for sub in self.submissions:
            pairs.append((sub["manifest_blob"], f"submissions/{sub['submission_id']}.json.age"))
            pairs += [(f["blob_name"], f"blobs/{f['blob_name']}") for f in sub["files"]]
        return pairs


def read_export(path: Path) -> Export:
    with open_bundle(path, expect_kind="export") as reader:
        items = {item.entry.name: item.read_all(1 << 30) for item in reader.items()}
        return Export(reader.manifest, items)


# Who signs, in the informational fields: any well-formed fingerprint (the server trusts the
# signature, not these).
SIGNED_BY = fingerprint(X25519Identity.from_secret_bytes(b"\x07" * 32).recipient())


def ack_meta(export: Export, only: Iterable[str] | None = None) -> dict[str, Any]:
    """What `triage import` acknowledges: every item of each (selected) submission."""
    wanted = set(only) if only is not None else None
    acked = [
        AckedSubmission(sub.submission_id, dict(sub.items()))
        for sub in ExportMeta.from_manifest(export.manifest).submissions
        if wanted is None or sub.submission_id in wanted
    ]
    about = AckedExport("0" * 64, export.manifest.created)
    return AckMeta.build(acked, acknowledged_by=SIGNED_BY, export=about).to_meta()


def write_signed(
    path: Path,
    kind: BundleKind,
    signing_key: SigningKey,
    meta: Mapping[str, Any],
    items: Sequence[ItemSource] = (),
) -> Path:
    write_bundle(path, kind, items, meta=meta, signing_key=signing_key)
    return path


def write_ack(path: Path, export: Export, signing_key: SigningKey, **kw: Any) -> Path:
    return write_signed(path, "ack", signing_key, ack_meta(export, **kw))


def write_unsigned(path: Path, kind: BundleKind, meta: Mapping[str, Any]) -> Path:
    """A bundle of a signed kind without its signature (protocol refuses to write one)."""
    day = datetime.now(UTC).date()
    data = Manifest(kind=kind, created=day, items=(), meta=meta).to_bytes()
    header = _tar.member_header("bundle.json", len(data), day)
    body = header + data + _tar.padding(len(data))
    path.write_bytes(body + _tar.end_of_archive(len(body)))
    return path


@dataclass(frozen=True)
class ReplyDraft:
    """A reply to write: the submission it answers, the witness's reply key, the text."""

    submission_id: str
    recipient: str
    text: str
    reply_id: str = ""


def write_replies(
    path: Path, drafts: Sequence[ReplyDraft], signing_key: SigningKey
) -> tuple[Path, list[str]]:
    """What `triage replies export` writes; returns the path and the reply ids."""
    entries, items, reply_ids = [], [], []
    for draft in drafts:
        rid = draft.reply_id or new_reply_id()
        sealed = seal_bytes(draft.text.encode(), [X25519Recipient.parse(draft.recipient)])
        items.append(ItemSource.from_bytes(reply_item(rid), sealed))
        entries.append(ReplyEntry(rid, draft.recipient, draft.submission_id))
        reply_ids.append(rid)
    meta = RepliesMeta.build(entries, signed_by=SIGNED_BY).to_meta()
    return write_signed(path, "replies", signing_key, meta, items), reply_ids


def rewrap_meta(
    recipients: Sequence[X25519Recipient], headers: Mapping[str, Any]
) -> dict[str, Any]:
    meta = RewrapMeta.build(recipients, []).to_meta()
    meta["headers"] = dict(headers)  # as built (and perhaps tampered with) by the test
    return meta


def rewrap_parts(
    export: Export,
    identities: Sequence[Identity],
    recipients: Sequence[X25519Recipient],
) -> tuple[dict[str, dict[str, Any]], list[ItemSource]]:
    """What `triage rewrap` computes: per exported blob a new header for `recipients`, and
    the facts that pin it to the file it was made from."""
    headers, items = {}, []
    for sub in export.submissions:
        sid = sub["submission_id"]
        blobs: list[tuple[HeaderRole, str, str]]
        blobs = [("submission", sub["manifest_blob"], f"submissions/{sid}.json.age")]
        blobs += [("attachment", f["blob_name"], f"blobs/{f['blob_name']}") for f in sub["files"]]
        for role, blob_name, item in blobs:
            data = export.items[item]
            header, offset = rewrap_header(io.BytesIO(data), identities, recipients)
            entry = RewrapHeader(
                role=role,
                blob_name=blob_name,
                submission_id=sid,
                old_header_length=offset,
                old_sealed_sha256=hashlib.sha256(data).hexdigest(),
                new_sealed_sha256=hashlib.sha256(header + data[offset:]).hexdigest(),
            )
            headers[entry.item] = entry.to_meta()
            items.append(ItemSource.from_bytes(f"headers/{blob_name}", header))
    return headers, items


def write_rewrap(
    path: Path,
    export: Export,
    identities: Sequence[Identity],
    recipients: Sequence[X25519Recipient],
    signing_key: SigningKey,
    *,
    declared: Sequence[X25519Recipient] | None = None,
) -> Path:
    """A rewrap bundle for every blob of `export`; `declared` lies about the recipient set."""
    headers, items = rewrap_parts(export, identities, recipients)
    meta = rewrap_meta(declared or recipients, headers)
    return write_signed(path, "rewrap", signing_key, meta, items)
