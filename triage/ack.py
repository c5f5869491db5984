"""The ack bundle: what this investigator opened and verified, signed, for `intake purge`.

    kind "ack", no items, signed (bundle.json.minisig) with the investigator's minisign key;
    meta = {"acknowledged_by": "SHA256:…", "signing_key_id": "…",
            "export": {"manifest_sha256": "…", "created": "YYYY-MM-DD"},
            "submissions": [{"submission_id": "S-…",
                             "items": [{"name": "submissions/S-….json.age", "sha256": "…"},
                                       {"name": "blobs/<blob>", "sha256": "…"}]}]}

The sealed SHA-256 of every item lets the server delete exactly what was verified here, and
nothing that changed on its side since the export.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from crypto.minisign import SigningKey
from protocol.bundle import write_bundle
from triage.import_apply import AckItem

__all__ = ["ack_meta", "write_ack"]


def ack_meta(
    items: Sequence[AckItem], *, fingerprint: str, key_id: str, manifest_sha256: str, created: date
) -> dict[str, object]:
    return {
        "acknowledged_by": fingerprint,
        "signing_key_id": key_id,
        "export": {"manifest_sha256": manifest_sha256, "created": created.isoformat()},
        "submissions": [
            {
                "submission_id": item.submission_id,
                "items": [{"name": name, "sha256": sha} for name, sha in item.items],
            }
            for item in sorted(items, key=lambda i: i.submission_id)
        ],
    }


def write_ack(
    path: Path,
    items: Sequence[AckItem],
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
    return write_bundle(path, "ack", [], meta=meta, signing_key=signing_key)
