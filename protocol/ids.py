"""Random identifiers: submission, witness and reply ids (Crockford base32) and blob names (hex)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import NewType

from protocol.errors import ProtocolError

__all__ = [
    "REPLY",
    "SUBMISSION",
    "WITNESS",
    "BlobName",
    "IdKind",
    "ReplyId",
    "SubmissionId",
    "WitnessId",
    "crockford_decode",
    "crockford_encode",
    "new_blob_name",
    "new_reply_id",
    "new_submission_id",
    "new_witness_id",
    "parse_blob_name",
    "parse_reply_id",
    "parse_submission_id",
    "parse_witness_id",
]

SubmissionId = NewType("SubmissionId", str)
WitnessId = NewType("WitnessId", str)
ReplyId = NewType("ReplyId", str)
BlobName = NewType("BlobName", str)

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Crockford's decoding leniency: people read ids aloud and retype them.
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})
# 10 random bytes = 80 bits = exactly 16 base32 characters: unguessable, still short to read out.
ID_BYTES = 10
BLOB_BYTES = 16
_BLOB_RE = re.compile(f"[0-9a-f]{{{2 * BLOB_BYTES}}}")


def crockford_encode(data: bytes) -> str:
    """Crockford base32 of `data` (a multiple of 5 bytes), upper case, no padding."""
    if len(data) % 5:
        raise ValueError("crockford_encode takes a multiple of 5 bytes")
    number = int.from_bytes(data, "big")
    chars = len(data) * 8 // 5
    return "".join(CROCKFORD[(number >> (5 * i)) & 31] for i in reversed(range(chars)))


def crockford_decode(text: str) -> bytes:
    """Inverse of crockford_encode, accepting lower case and O/I/L typos. Raises ProtocolError."""
    if not text.isascii():
        raise ProtocolError("schema", "not Crockford base32")
    canonical = text.upper().translate(_TYPO)
    if len(canonical) % 8 or any(c not in CROCKFORD for c in canonical):
        raise ProtocolError("schema", "not Crockford base32")
    number = 0
    for char in canonical:
        number = number * 32 + CROCKFORD.index(char)
    return number.to_bytes(len(canonical) * 5 // 8, "big")


@dataclass(frozen=True)
class IdKind:
    """One kind of prefixed random id."""

    prefix: str
    what: str

    def new(self) -> str:
        return f"{self.prefix}-{crockford_encode(secrets.token_bytes(ID_BYTES))}"

    def parse(self, text: str) -> str:
        """The canonical spelling of an id of this kind. Raises ProtocolError("schema")."""
        prefix, sep, body = text.strip().partition("-")
        if not sep or prefix.upper() != self.prefix or len(body) != 16 or not body.isascii():
            raise ProtocolError("schema", f"not a {self.what} id")
        try:
            return f"{self.prefix}-{crockford_encode(crockford_decode(body))}"
        except ProtocolError:
            raise ProtocolError("schema", f"not a {self.what} id") from None


SUBMISSION = IdKind("S", "submission")
WITNESS = IdKind("W", "witness")
REPLY = IdKind("R", "reply")


def new_submission_id() -> SubmissionId:
    return SubmissionId(SUBMISSION.new())


def parse_submission_id(text: str) -> SubmissionId:
    """Validate and canonicalise "S-…". Raises ProtocolError("schema")."""
    return SubmissionId(SUBMISSION.parse(text))


def new_witness_id() -> WitnessId:
    return WitnessId(WITNESS.new())


def parse_witness_id(text: str) -> WitnessId:
    """Validate and canonicalise "W-…". Raises ProtocolError("schema")."""
    return WitnessId(WITNESS.parse(text))


def new_reply_id() -> ReplyId:
    return ReplyId(REPLY.new())


def parse_reply_id(text: str) -> ReplyId:
    """Validate and canonicalise "R-…". Raises ProtocolError("schema")."""
    return ReplyId(REPLY.parse(text))


def new_blob_name() -> BlobName:
    """A random blob name: 16 bytes as lower-case hex (says nothing about the content)."""
    return BlobName(secrets.token_hex(BLOB_BYTES))


def parse_blob_name(text: str) -> BlobName:
    """Validate a blob name exactly (it becomes a file name). Raises ProtocolError("schema")."""
    if not _BLOB_RE.fullmatch(text):
        raise ProtocolError("schema", "not a blob name (32 lower-case hex digits)")
    return BlobName(text)
