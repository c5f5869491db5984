"""The `ack` bundle's meta (laptop → server, signed): every item verified, by hash.

The server deletes exactly what an ack names, so the parser is strict; `acknowledged_by`,
`signing_key_id` and `export` are informational (the signature is what the server trusts) and
checked for shape only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

from protocol import ids
from protocol.manifest import Manifest
from protocol.meta import _check as c
from protocol.meta._kind import check_version, meta_of
from protocol.meta.items import blob_of_item, manifest_item

__all__ = ["AckMeta", "AckedExport", "AckedSubmission"]

_INFO = frozenset({"acknowledged_by", "signing_key_id", "export"})


def _export_item(name: str, submission_id: str) -> str:
    """`name` if it is an item an export carries for `submission_id`: its own submission.json
    or a file (`blobs/<blob name>`). Anything else is refused before it is echoed in full."""
    if name != manifest_item(submission_id) and blob_of_item(name) is None:
        raise c.bad(f"{name[:80]!r} is not an item of {submission_id} in an export")
    return name


@dataclass(frozen=True)
class AckedSubmission:
    """One acknowledged submission: every item of it the investigator verified, by hash."""

    submission_id: str
    items: Mapping[str, str]  # item name -> SHA-256

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", MappingProxyType(dict(self.items)))

    @classmethod
    def parse(cls, value: object) -> AckedSubmission:
        entry = c.exact(value, "an acknowledged submission", frozenset({"submission_id", "items"}))
        sid = c.canonical(entry["submission_id"], ids.SUBMISSION, "submission_id")
        items: dict[str, str] = {}
        for raw in c.listed(entry["items"], "items"):
            item = c.exact(raw, "an acknowledged item", frozenset({"name", "sha256"}))
            name = _export_item(c.text(item["name"], "an item name"), sid)
            if name in items:
                raise c.bad(f"item {name} is listed twice for {sid}")
            items[name] = c.sha256(item["sha256"], f"the hash of {name}")
        if manifest_item(sid) not in items:
            raise c.bad(f"the ack of {sid} does not name its {manifest_item(sid)}")
        return cls(submission_id=sid, items=items)

    def to_meta(self) -> dict[str, object]:
        return {
            "submission_id": self.submission_id,
            "items": [{"name": n, "sha256": h} for n, h in sorted(self.items.items())],
        }


@dataclass(frozen=True)
class AckedExport:
    """Which export an ack answers: its bundle.json's SHA-256 and its day."""

    manifest_sha256: str
    created: date

    @classmethod
    def parse(cls, value: object, what: str) -> AckedExport:
        doc = c.exact(value, what, frozenset({"manifest_sha256", "created"}))
        return cls(
            manifest_sha256=c.sha256(doc["manifest_sha256"], "export manifest_sha256"),
            created=c.day(doc["created"], "export created"),
        )

    def to_meta(self) -> dict[str, object]:
        return {"manifest_sha256": self.manifest_sha256, "created": self.created.isoformat()}


@dataclass(frozen=True)
class AckMeta:
    """An ack's meta: the acknowledged submissions (at least one), sorted by id."""

    submissions: tuple[AckedSubmission, ...]
    acknowledged_by: str | None = None
    signing_key_id: str | None = None
    export: AckedExport | None = None

    def __post_init__(self) -> None:
        if not self.submissions:
            raise c.bad("the ack acknowledges no submission")
        c.unique([a.submission_id for a in self.submissions], "submission")
        ordered = tuple(sorted(self.submissions, key=lambda a: a.submission_id))
        object.__setattr__(self, "submissions", ordered)

    @classmethod
    def build(
        cls,
        acked: Sequence[AckedSubmission],
        *,
        acknowledged_by: str | None = None,
        signing_key_id: str | None = None,
        export: AckedExport | None = None,
    ) -> AckMeta:
        return cls(tuple(acked), acknowledged_by, signing_key_id, export)

    @classmethod
    def parse(cls, meta: Mapping[str, Any], *, version: int) -> AckMeta:
        """Raises ProtocolError ("schema"; "unsupported_version" for an unread version)."""
        check_version("ack", version)
        doc = c.exact(dict(meta), "ack meta", frozenset({"submissions"}), _INFO)
        acked = [AckedSubmission.parse(s) for s in c.listed(doc["submissions"], "submissions")]
        return cls(
            submissions=tuple(acked),
            acknowledged_by=c.optional(doc, "acknowledged_by", c.fingerprint_text),
            signing_key_id=c.optional(doc, "signing_key_id", c.key_id),
            export=c.optional(doc, "export", AckedExport.parse),
        )

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> AckMeta:
        """An ack has no items; its meta says everything. Raises ProtocolError."""
        meta = meta_of(manifest, "ack")
        if manifest.items:
            raise c.bad("an ack carries no items")
        return cls.parse(meta, version=manifest.version)

    def to_meta(self) -> dict[str, object]:
        meta: dict[str, object] = {"submissions": [a.to_meta() for a in self.submissions]}
        if self.acknowledged_by is not None:
            meta["acknowledged_by"] = self.acknowledged_by
        if self.signing_key_id is not None:
            meta["signing_key_id"] = self.signing_key_id
        if self.export is not None:
            meta["export"] = self.export.to_meta()
        return meta
