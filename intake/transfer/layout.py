"""The item names and `meta` documents of the four bundle kinds, exactly as docs/bundles.md says.

Every parser here is strict (exact keys, canonical ids, lower-case SHA-256 hex, no repeats) and
raises BundleError with what was wrong: the meta of a signed bundle decides what the server
deletes, publishes or rewrites, so nothing in it is guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from crypto.errors import KeyFormatError
from crypto.keyfile import fingerprint
from crypto.x25519 import X25519Recipient
from intake.errors import BundleError
from protocol import ids
from protocol.errors import ProtocolError

__all__ = [
    "AckedSubmission",
    "ReplyEntry",
    "RewrapHeader",
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


def _object(
    value: object, what: str, keys: set[str], optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """`value` as an object with all of `keys`, perhaps some of `optional`, and nothing else."""
    if not isinstance(value, dict) or not keys <= set(value) <= keys | optional:
        listed = sorted(keys) + [f"({name})" for name in sorted(optional)]
        raise _bad(f"{what} must be an object with exactly the keys {listed}")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise _bad(f"{what} must be a list")
    return value


def _mapping(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(f"{what} must be an object")
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


# What triage adds for people reading a bundle: who signed, which export an ack answers. The
# signature is what the server trusts, so these are checked for shape only.
_SIGNED_BY = frozenset({"signed_by"})
_ACK_INFO = frozenset({"acknowledged_by", "signing_key_id", "export"})


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
    doc = _object(dict(meta), "ack meta", {"submissions"}, _ACK_INFO)
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
    def parse(cls, reply_id: str, value: object) -> ReplyEntry:
        entry = _object(value, "a reply", {"witness_reply_recipient", "submission_id"})
        recipient = _recipient(entry["witness_reply_recipient"], "witness_reply_recipient")
        return cls(
            reply_id=_canonical(reply_id, ids.REPLY, "a reply id"),
            witness_reply_recipient=str(recipient),
            submission_id=_canonical(entry["submission_id"], ids.SUBMISSION, "submission_id"),
        )


def parse_replies_meta(meta: Mapping[str, Any]) -> dict[str, ReplyEntry]:
    """The replies a replies bundle's meta lists, by item name. Raises BundleError."""
    doc = _object(dict(meta), "replies meta", {"replies"}, _SIGNED_BY)
    replies = [ReplyEntry.parse(rid, v) for rid, v in _mapping(doc["replies"], "replies").items()]
    return {reply.item: reply for reply in replies}


HeaderRole = Literal["submission", "attachment"]
_HEADER_KEYS = {"role", "blob_name", "submission_id"} | {
    "old_header_length",
    "old_sealed_sha256",
    "new_sealed_sha256",
}


@dataclass(frozen=True)
class RewrapHeader:
    """One new header: which blob, and the hashes and header length that pin it to one file.

    `blob_name` is None for a submission.json whose blob name the laptop did not learn; the
    server then finds it from `submission_id`.
    """

    item: str
    role: HeaderRole
    blob_name: str | None
    submission_id: str
    old_header_length: int
    old_sealed_sha256: str
    new_sealed_sha256: str

    @classmethod
    def parse(cls, item: str, value: object) -> RewrapHeader:
        entry = _object(value, f"the entry for {item[:80]!r}", _HEADER_KEYS)
        role, raw_blob, length = entry["role"], entry["blob_name"], entry["old_header_length"]
        if role not in ("submission", "attachment"):
            raise _bad(f"the role of {item[:80]!r} is neither submission nor attachment")
        sid = _canonical(entry["submission_id"], ids.SUBMISSION, "submission_id")
        blob = None if raw_blob is None else _blob_name(raw_blob, "blob_name")
        if blob is None and role != "submission":
            raise _bad(f"{item[:80]!r} names no blob")
        expected = header_item(blob) if blob else f"headers/submissions/{sid}.json.age"
        if item != expected:
            raise _bad(f"the item {item[:80]!r} should be named {expected}")
        if not isinstance(length, int) or isinstance(length, bool) or length < 1:
            raise _bad(f"old_header_length of {item[:80]!r} is not a positive integer")
        return cls(
            item=item,
            role=role,
            blob_name=blob,
            submission_id=sid,
            old_header_length=length,
            old_sealed_sha256=_sha256(entry["old_sealed_sha256"], "old_sealed_sha256"),
            new_sealed_sha256=_sha256(entry["new_sealed_sha256"], "new_sealed_sha256"),
        )


@dataclass(frozen=True)
class RewrapMeta:
    """A rewrap bundle's meta: the recipient set it wrapped to, and each header by item."""

    recipients: tuple[X25519Recipient, ...]
    headers: Mapping[str, RewrapHeader]

    @property
    def fingerprints(self) -> frozenset[str]:
        return frozenset(fingerprint(r) for r in self.recipients)

    @classmethod
    def parse(cls, meta: Mapping[str, Any]) -> RewrapMeta:
        """Raises BundleError."""
        keys = {"recipients", "recipient_keys", "headers"}
        doc = _object(dict(meta), "rewrap meta", keys, _SIGNED_BY)
        recipients = tuple(
            _recipient(key, "a recipient key") for key in _list(doc["recipient_keys"], "keys")
        )
        if not recipients:
            raise _bad("the rewrap declares no recipient")
        declared = _list(doc["recipients"], "recipients")
        _unique([str(r) for r in recipients], "recipient key")
        fingerprints = sorted(fingerprint(r) for r in recipients)
        if not all(isinstance(fp, str) for fp in declared) or sorted(declared) != fingerprints:
            raise _bad("recipients are not the fingerprints of recipient_keys")
        headers = {
            item: RewrapHeader.parse(item, entry)
            for item, entry in _mapping(doc["headers"], "headers").items()
        }
        return cls(recipients=recipients, headers=headers)
