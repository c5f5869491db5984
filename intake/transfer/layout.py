"""The item names and `meta` documents of the four bundle kinds, exactly as docs/bundles.md says.

Every parser here is strict (exact keys, canonical ids, lower-case SHA-256 hex, no repeats) and
raises BundleError with what was wrong: the meta of a signed bundle decides what the server
deletes, publishes or rewrites, so nothing in it is guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crypto.errors import KeyFormatError
from crypto.keyfile import fingerprint
from crypto.x25519 import X25519Recipient
from intake.errors import BundleError
from protocol import ids
from protocol.errors import ProtocolError

__all__ = [
    "AckedSubmission",
    "DeclaredRecipient",
    "ReplyEntry",
    "RewrapBlob",
    "RewrapMeta",
    "blob_item",
    "header_item",
    "manifest_item",
    "parse_ack_meta",
    "parse_replies_meta",
    "reply_item",
]

_SHA256_RE = re.compile(r"[0-9a-f]{64}")


def manifest_item(submission_id: str) -> str:
    """`submissions/<id>.json.age`: a submission's sealed submission.json in an export."""
    return f"submissions/{submission_id}.json.age"


def blob_item(blob_name: str) -> str:
    """`blobs/<blob name>`: a sealed file in an export."""
    return f"blobs/{blob_name}"


def reply_item(reply_id: str) -> str:
    """`replies/<reply id>.age`: a sealed reply in a replies bundle."""
    return f"replies/{reply_id}.age"


def header_item(blob_name: str) -> str:
    """`headers/<blob name>`: a new header in a rewrap bundle."""
    return f"headers/{blob_name}"


def _bad(message: str) -> BundleError:
    return BundleError(f"bundle meta: {message}", hint="the bundle does not follow docs/bundles.md")


def _object(value: object, what: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != keys:
        raise _bad(f"{what} must be an object with exactly the keys {sorted(keys)}")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise _bad(f"{what} must be a list")
    return value


def _sha256(value: object, what: str) -> str:
    if not isinstance(value, str) or not _SHA256_RE.fullmatch(value):
        raise _bad(f"{what} is not a lower-case SHA-256 hex digest")
    return value


def _canonical(value: object, kind: ids.IdKind, what: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"{what} is not a string")
    try:
        canonical = kind.parse(value)
    except ProtocolError:
        raise _bad(f"{what} {value[:40]!r} is not a {kind.what} id") from None
    if canonical != value:
        raise _bad(f"{what} {value!r} is not canonical")
    return value


def _blob_name(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"{what} is not a string")
    try:
        return ids.parse_blob_name(value)
    except ProtocolError:
        raise _bad(f"{what} {value[:40]!r} is not a blob name") from None


def _recipient(value: object, what: str) -> X25519Recipient:
    if not isinstance(value, str):
        raise _bad(f"{what} is not a string")
    try:
        recipient = X25519Recipient.parse(value)
    except KeyFormatError:
        raise _bad(f"{what} is not an age recipient") from None
    if str(recipient) != value:
        raise _bad(f"{what} {value!r} is not canonical")
    return recipient


def _unique(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise _bad(f"a {what} is listed twice")


@dataclass(frozen=True)
class AckedSubmission:
    """One acknowledged submission: every item of it the investigator verified, by hash."""

    submission_id: str
    items: Mapping[str, str]  # item name -> SHA-256

    @classmethod
    def parse(cls, value: object) -> AckedSubmission:
        entry = _object(value, "an acknowledged submission", {"submission_id", "items"})
        sid = _canonical(entry["submission_id"], ids.SUBMISSION, "submission_id")
        items: dict[str, str] = {}
        for raw in _list(entry["items"], "items"):
            item = _object(raw, "an acknowledged item", {"name", "sha256"})
            name = item["name"]
            if not isinstance(name, str):
                raise _bad("an item name is not a string")
            if name in items:
                raise _bad(f"item {name[:80]!r} is listed twice for {sid}")
            items[name] = _sha256(item["sha256"], f"the hash of {name[:80]!r}")
        return cls(submission_id=sid, items=items)


def parse_ack_meta(meta: Mapping[str, Any]) -> list[AckedSubmission]:
    """The submissions an ack bundle's meta acknowledges. Raises BundleError."""
    doc = _object(dict(meta), "ack meta", {"submissions"})
    acked = [AckedSubmission.parse(entry) for entry in _list(doc["submissions"], "submissions")]
    _unique([a.submission_id for a in acked], "submission")
    if not acked:
        raise _bad("the ack acknowledges no submission")
    return acked


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
    def parse(cls, value: object) -> ReplyEntry:
        keys = {"reply_id", "witness_reply_recipient", "submission_id"}
        entry = _object(value, "a reply", keys)
        return cls(
            reply_id=_canonical(entry["reply_id"], ids.REPLY, "reply_id"),
            witness_reply_recipient=str(
                _recipient(entry["witness_reply_recipient"], "witness_reply_recipient")
            ),
            submission_id=_canonical(entry["submission_id"], ids.SUBMISSION, "submission_id"),
        )


def parse_replies_meta(meta: Mapping[str, Any]) -> list[ReplyEntry]:
    """The replies a replies bundle's meta lists. Raises BundleError."""
    doc = _object(dict(meta), "replies meta", {"replies"})
    replies = [ReplyEntry.parse(entry) for entry in _list(doc["replies"], "replies")]
    _unique([r.reply_id for r in replies], "reply id")
    return replies


@dataclass(frozen=True)
class DeclaredRecipient:
    """A recipient a rewrap bundle declares, its fingerprint checked against the key itself."""

    recipient: X25519Recipient
    fingerprint: str

    @classmethod
    def parse(cls, value: object) -> DeclaredRecipient:
        entry = _object(value, "a declared recipient", {"recipient", "fingerprint"})
        recipient = _recipient(entry["recipient"], "recipient")
        if entry["fingerprint"] != fingerprint(recipient):
            raise _bad(f"the fingerprint declared for {recipient} is not its fingerprint")
        return cls(recipient=recipient, fingerprint=fingerprint(recipient))


@dataclass(frozen=True)
class RewrapBlob:
    """A blob to re-wrap, and the SHA-256 of the sealed file its new header was made from."""

    blob_name: str
    sealed_sha256: str

    @property
    def item(self) -> str:
        return header_item(self.blob_name)

    @classmethod
    def parse(cls, value: object) -> RewrapBlob:
        entry = _object(value, "a re-wrapped blob", {"blob_name", "sealed_sha256"})
        return cls(
            blob_name=_blob_name(entry["blob_name"], "blob_name"),
            sealed_sha256=_sha256(entry["sealed_sha256"], "sealed_sha256"),
        )


@dataclass(frozen=True)
class RewrapMeta:
    """A rewrap bundle's meta: the recipient set it wrapped to, and the blobs."""

    recipients: tuple[DeclaredRecipient, ...]
    blobs: tuple[RewrapBlob, ...]

    @property
    def fingerprints(self) -> frozenset[str]:
        return frozenset(r.fingerprint for r in self.recipients)

    @classmethod
    def parse(cls, meta: Mapping[str, Any]) -> RewrapMeta:
        """Raises BundleError."""
        doc = _object(dict(meta), "rewrap meta", {"recipients", "blobs"})
        recipients = tuple(
            DeclaredRecipient.parse(r) for r in _list(doc["recipients"], "recipients")
        )
        if not recipients:
            raise _bad("the rewrap declares no recipient")
        _unique([r.fingerprint for r in recipients], "recipient")
        blobs = tuple(RewrapBlob.parse(b) for b in _list(doc["blobs"], "blobs"))
        _unique([b.blob_name for b in blobs], "blob")
        return cls(recipients=recipients, blobs=blobs)
