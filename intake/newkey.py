"""An investigator key to add, parsed and checked: recipient, minisign public key and name."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from crypto.errors import KeyFormatError
from crypto.keyfile import fingerprint
from crypto.minisign import VerifyKey
from crypto.x25519 import X25519Recipient
from intake.errors import MalformedKeyError

__all__ = ["MAX_NAME_CHARS", "NewKey"]

MAX_NAME_CHARS = 200


def _parse_recipient(text: str) -> X25519Recipient:
    text = text.strip()
    if text.upper().startswith("AGE-SECRET-KEY-"):
        raise MalformedKeyError(
            "this is an age secret key, not a recipient",
            hint="give the server only the age1… recipient; this secret key was exposed here, "
            "so generate a new one with `triage keygen`",
        )
    try:
        return X25519Recipient.parse(text)
    except KeyFormatError as exc:
        raise MalformedKeyError(
            f"the recipient does not parse: {exc}",
            hint="an investigator recipient starts with age1 (from `triage keygen`)",
        ) from exc


def _parse_signing_key(text: str) -> VerifyKey:
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    if "secret key" in first_line.lower():
        raise MalformedKeyError(
            "the signing key file is a minisign secret key",
            hint="give the server only the .pub file; this secret key was exposed here, "
            "so generate a new one",
        )
    try:
        return VerifyKey.parse(text)
    except KeyFormatError as exc:
        raise MalformedKeyError(
            f"the signing key does not parse: {exc}",
            hint="pass the minisign public key file (.pub) made by `triage keygen`",
        ) from exc


def _parse_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise MalformedKeyError(f"the key name must be 1 to {MAX_NAME_CHARS} characters")
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise MalformedKeyError("the key name contains control characters")
    return name


@dataclass(frozen=True)
class NewKey:
    """A key to add, parsed and checked; build it with `NewKey.parse`."""

    recipient: X25519Recipient
    fingerprint: str
    name: str
    verify_key: VerifyKey
    signing_key_text: str

    @classmethod
    def parse(cls, recipient: str, *, name: str, signing_key: str) -> NewKey:
        """Parse the recipient, the key name and the minisign public key file text.

        Raises MalformedKeyError saying which part is wrong.
        """
        parsed_recipient = _parse_recipient(recipient)
        verify_key = _parse_signing_key(signing_key)
        return cls(
            recipient=parsed_recipient,
            fingerprint=fingerprint(parsed_recipient),
            name=_parse_name(name),
            verify_key=verify_key,
            signing_key_text=verify_key.to_file_text(),
        )
