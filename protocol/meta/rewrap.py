"""The `rewrap` bundle's meta (laptop → server, signed): new headers and what they wrap to.

The server replaces file headers on this meta's word, so every header entry pins one file by
its old hash and header length and the hash it must have afterwards; the declared recipient
set must be exactly what the new headers wrap to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, cast

from crypto.keyfile import fingerprint
from crypto.x25519 import X25519Recipient
from protocol import ids
from protocol.manifest import Manifest
from protocol.meta import _check as c
from protocol.meta._kind import check_version, meta_of
from protocol.meta.items import header_item, submission_header_item

__all__ = ["HeaderRole", "RewrapHeader", "RewrapMeta"]

HeaderRole = Literal["submission", "attachment"]
_HEADER_KEYS = frozenset(
    {
        "role",
        "blob_name",
        "submission_id",
        "old_header_length",
        "old_sealed_sha256",
        "new_sealed_sha256",
    }
)


def _length(value: object, item: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise c.bad(f"old_header_length of {item[:80]!r} is not a positive integer")
    return value


@dataclass(frozen=True)
class RewrapHeader:
    """One new header: which blob, and the hashes and header length that pin it to one file.

    `blob_name` is None for a submission.json whose blob name the laptop did not learn; the
    server then finds it from `submission_id`.
    """

    role: HeaderRole
    blob_name: str | None
    submission_id: str
    old_header_length: int
    old_sealed_sha256: str
    new_sealed_sha256: str

    def __post_init__(self) -> None:
        if self.blob_name is None and self.role != "submission":
            raise c.bad(f"an attachment header of {self.submission_id} names no blob")

    @property
    def item(self) -> str:
        if self.blob_name is not None:
            return header_item(self.blob_name)
        return submission_header_item(self.submission_id)

    @classmethod
    def parse(cls, item: str, value: object) -> RewrapHeader:
        entry = c.exact(value, f"the entry for {item[:80]!r}", _HEADER_KEYS)
        role, raw_blob = entry["role"], entry["blob_name"]
        if role not in ("submission", "attachment"):
            raise c.bad(f"the role of {item[:80]!r} is neither submission nor attachment")
        parsed = cls(
            role=cast(HeaderRole, role),
            blob_name=None if raw_blob is None else c.blob_name(raw_blob, "blob_name"),
            submission_id=c.canonical(entry["submission_id"], ids.SUBMISSION, "submission_id"),
            old_header_length=_length(entry["old_header_length"], item),
            old_sealed_sha256=c.sha256(entry["old_sealed_sha256"], "old_sealed_sha256"),
            new_sealed_sha256=c.sha256(entry["new_sealed_sha256"], "new_sealed_sha256"),
        )
        if item != parsed.item:
            raise c.bad(f"the item {item[:80]!r} should be named {parsed.item}")
        return parsed

    def to_meta(self) -> dict[str, object]:
        return {
            "role": self.role,
            "blob_name": self.blob_name,
            "submission_id": self.submission_id,
            "old_header_length": self.old_header_length,
            "old_sealed_sha256": self.old_sealed_sha256,
            "new_sealed_sha256": self.new_sealed_sha256,
        }


@dataclass(frozen=True)
class RewrapMeta:
    """A rewrap bundle's meta: the recipient set it wrapped to, and each header by item."""

    recipients: tuple[X25519Recipient, ...]
    headers: Mapping[str, RewrapHeader]
    signed_by: str | None = None

    def __post_init__(self) -> None:
        if not self.recipients:
            raise c.bad("the rewrap declares no recipient")
        c.unique([str(r) for r in self.recipients], "recipient key")
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    @property
    def fingerprints(self) -> frozenset[str]:
        return frozenset(fingerprint(r) for r in self.recipients)

    @classmethod
    def build(
        cls,
        recipients: Sequence[X25519Recipient],
        headers: Sequence[RewrapHeader],
        *,
        signed_by: str | None = None,
    ) -> RewrapMeta:
        c.unique([h.item for h in headers], "header")
        return cls(tuple(recipients), {h.item: h for h in headers}, signed_by)

    @classmethod
    def parse(cls, meta: Mapping[str, Any], *, version: int) -> RewrapMeta:
        """Raises ProtocolError ("schema"; "unsupported_version" for an unread version)."""
        check_version("rewrap", version)
        keys = frozenset({"recipients", "recipient_keys", "headers"})
        doc = c.exact(dict(meta), "rewrap meta", keys, frozenset({"signed_by"}))
        keys_listed = c.listed(doc["recipient_keys"], "recipient_keys")
        recipients = tuple(c.recipient(key, "a recipient key") for key in keys_listed)
        c.unique([str(r) for r in recipients], "recipient key")
        declared = c.listed(doc["recipients"], "recipients")
        fingerprints = sorted(fingerprint(r) for r in recipients)
        if not all(isinstance(fp, str) for fp in declared) or sorted(declared) != fingerprints:
            raise c.bad("recipients are not the fingerprints of recipient_keys")
        headers = c.mapping(doc["headers"], "headers")
        return cls(
            recipients=recipients,
            headers={item: RewrapHeader.parse(item, entry) for item, entry in headers.items()},
            signed_by=c.optional(doc, "signed_by", c.fingerprint_text),
        )

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> RewrapMeta:
        """The meta, checked to name exactly the bundle's items. Raises ProtocolError."""
        parsed = cls.parse(meta_of(manifest, "rewrap"), version=manifest.version)
        if sorted(i.name for i in manifest.items) != sorted(parsed.headers):
            raise c.bad("the items are not exactly the headers the meta lists")
        return parsed

    def to_meta(self) -> dict[str, object]:
        meta: dict[str, object] = {
            "recipients": sorted(self.fingerprints),
            "recipient_keys": sorted(str(r) for r in self.recipients),
            "headers": {item: h.to_meta() for item, h in sorted(self.headers.items())},
        }
        if self.signed_by is not None:
            meta["signed_by"] = self.signed_by
        return meta
