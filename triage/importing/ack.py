"""The ack bundle: what this investigator opened and verified, signed, for `intake purge`.

Its meta is protocol.meta.ack.AckMeta (docs/bundles.md, "ack"): the sealed SHA-256 of every
item lets the server delete exactly what was verified here, and nothing that changed on its
side since the export.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from crypto.minisign import SigningKey
from protocol.bundle import write_bundle
from protocol.meta.ack import AckedExport, AckedSubmission, AckMeta

__all__ = ["ack_meta", "write_ack"]


def ack_meta(
    items: Sequence[AckedSubmission],
    *,
    fingerprint: str,
    key_id: str,
    manifest_sha256: str,
    created: date,
) -> AckMeta:
    return AckMeta.build(
        list(items),
        acknowledged_by=fingerprint,
        signing_key_id=key_id,
        export=AckedExport(manifest_sha256, created),
    )


def write_ack(
    path: Path,
    items: Sequence[AckedSubmission],
    signing_key: SigningKey,
    *,
    fingerprint: str,
    manifest_sha256: str,
    created: date,
) -> list[Path]:
    """Write the signed ack bundle at `path` (never overwriting). Returns the files written."""
    meta = ack_meta(
        items,
        fingerprint=fingerprint,
        key_id=signing_key.verify_key().key_id_hex,
        manifest_sha256=manifest_sha256,
        created=created,
    )
    return write_bundle(path, "ack", [], meta=meta.to_meta(), signing_key=signing_key)
