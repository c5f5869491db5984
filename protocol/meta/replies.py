"""The `replies` bundle's meta (laptop → server, signed): who each sealed reply is for.

The server publishes a reply to the witness whose reply key the meta names, so each entry is
strict; `signed_by` is informational.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from protocol import ids
from protocol.manifest import Manifest
from protocol.meta import _check as c
from protocol.meta._kind import check_version, meta_of
from protocol.meta.items import reply_item

__all__ = ["RepliesMeta", "ReplyEntry"]

_ENTRY_KEYS = frozenset({"witness_reply_recipient", "submission_id"})


@dataclass(frozen=True)
class ReplyEntry:
    """One reply of a replies bundle: who it is for, and which submission it answers."""

    reply_id: str
    witness_reply_recipient: str
    submission_id: str

    @property
    def item(self) -> str:
        return reply_item(self.reply_id)

    @classmethod
    def parse(cls, reply_id: str, value: object) -> ReplyEntry:
        entry = c.exact(value, "a reply", _ENTRY_KEYS)
        recipient = c.recipient(entry["witness_reply_recipient"], "witness_reply_recipient")
        return cls(
            reply_id=c.canonical(reply_id, ids.REPLY, "a reply id"),
            witness_reply_recipient=str(recipient),
            submission_id=c.canonical(entry["submission_id"], ids.SUBMISSION, "submission_id"),
        )

    def to_meta(self) -> dict[str, object]:
        return {
            "submission_id": self.submission_id,
            "witness_reply_recipient": self.witness_reply_recipient,
        }


@dataclass(frozen=True)
class RepliesMeta:
    """A replies bundle's meta: each reply by item name (`replies/<id>.age`)."""

    replies: Mapping[str, ReplyEntry]
    signed_by: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "replies", MappingProxyType(dict(self.replies)))

    @classmethod
    def build(cls, entries: Sequence[ReplyEntry], *, signed_by: str | None = None) -> RepliesMeta:
        c.unique([e.reply_id for e in entries], "reply")
        return cls({e.item: e for e in entries}, signed_by)

    @classmethod
    def parse(cls, meta: Mapping[str, Any], *, version: int) -> RepliesMeta:
        """Raises ProtocolError ("schema"; "unsupported_version" for an unread version)."""
        check_version("replies", version)
        doc = c.exact(dict(meta), "replies meta", frozenset({"replies"}), frozenset({"signed_by"}))
        raw = c.mapping(doc["replies"], "replies")
        entries = [ReplyEntry.parse(rid, value) for rid, value in raw.items()]
        return cls.build(entries, signed_by=c.optional(doc, "signed_by", c.fingerprint_text))

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> RepliesMeta:
        """The meta, checked to name exactly the bundle's items. Raises ProtocolError."""
        parsed = cls.parse(meta_of(manifest, "replies"), version=manifest.version)
        if sorted(parsed.replies) != sorted(i.name for i in manifest.items):
            raise c.bad("the items are not exactly replies/<id>.age for the replies listed")
        return parsed

    def to_meta(self) -> dict[str, object]:
        meta: dict[str, object] = {
            "replies": {e.reply_id: e.to_meta() for e in self.replies.values()}
        }
        if self.signed_by is not None:
            meta["signed_by"] = self.signed_by
        return meta
