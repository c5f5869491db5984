"""Strict checks shared by every kind's meta parser: exact keys, canonical ids, hex digests.

Everything raises ProtocolError("schema") with what was wrong: the meta of a signed bundle
decides what the server deletes, publishes or rewrites, so nothing in it is guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from crypto.errors import KeyFormatError
from crypto.x25519 import X25519Recipient
from protocol import ids
from protocol.errors import ProtocolError

__all__ = [
    "bad",
    "blob_name",
    "canonical",
    "day",
    "exact",
    "fingerprint_text",
    "key_id",
    "listed",
    "mapping",
    "optional",
    "recipient",
    "sha256",
    "text",
    "unique",
]

T = TypeVar("T")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # not \d: that is any Unicode digit
# crypto.keyfile.fingerprint: "SHA256:" and 43 characters of unpadded base64.
_FINGERPRINT_RE = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")
# A minisign key id as minisign prints it: upper-case hex, no zero padding, at most 64 bits.
_KEY_ID_RE = re.compile(r"[0-9A-F]{1,16}")


def bad(message: str) -> ProtocolError:
    return ProtocolError("schema", f"bundle meta: {message}")


def _short(value: str) -> str:
    return repr(value[:80])


def exact(
    value: object, what: str, keys: frozenset[str], optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """`value` as an object with all of `keys`, perhaps some of `optional`, and nothing else."""
    if not isinstance(value, dict) or not keys <= set(value) <= keys | optional:
        shown = sorted(keys) + [f"({name})" for name in sorted(optional)]
        raise bad(f"{what} must be an object with exactly the keys {shown}")
    return value


def listed(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise bad(f"{what} must be a list")
    return value


def mapping(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(f"{what} must be an object")
    return value


def text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise bad(f"{what} is not a string")
    return value


def sha256(value: object, what: str) -> str:
    if not isinstance(value, str) or not _SHA256_RE.fullmatch(value):
        raise bad(f"{what} is not a lower-case SHA-256 hex digest")
    return value


def day(value: object, what: str) -> date:
    if not isinstance(value, str) or not _DAY_RE.fullmatch(value):
        raise bad(f"{what} is not a YYYY-MM-DD day")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad(f"{what} {value!r} is not a real day") from None


def canonical(value: object, kind: ids.IdKind, what: str) -> str:
    """A canonical id of `kind`: a lower-case or otherwise re-spelt id is refused, not fixed."""
    value = text(value, what)
    try:
        spelt = kind.parse(value)
    except ProtocolError:
        raise bad(f"{what} {_short(value)} is not a {kind.what} id") from None
    if spelt != value:
        raise bad(f"{what} {_short(value)} is not canonical")
    return value


def blob_name(value: object, what: str) -> str:
    value = text(value, what)
    try:
        return ids.parse_blob_name(value)
    except ProtocolError:
        raise bad(f"{what} {_short(value)} is not a blob name") from None


def recipient(value: object, what: str) -> X25519Recipient:
    value = text(value, what)
    try:
        parsed = X25519Recipient.parse(value)
    except KeyFormatError:
        raise bad(f"{what} is not an age recipient") from None
    if str(parsed) != value:
        raise bad(f"{what} {_short(value)} is not canonical")
    return parsed


def fingerprint_text(value: object, what: str) -> str:
    if not isinstance(value, str) or not _FINGERPRINT_RE.fullmatch(value):
        raise bad(f"{what} is not a key fingerprint (SHA256:…)")
    return value


def key_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not _KEY_ID_RE.fullmatch(value):
        raise bad(f"{what} is not a minisign key id (upper-case hex)")
    return value


def optional(doc: dict[str, Any], key: str, parse: Callable[[object, str], T]) -> T | None:
    """`parse(doc[key], key)` when the optional `key` is present, else None (an explicit null
    is refused by `parse`: optional means absent, never null)."""
    return parse(doc[key], key) if key in doc else None


def unique(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise bad(f"a {what} is listed twice")
