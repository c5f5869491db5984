"""The X25519 recipient type: `age1...` recipients, `AGE-SECRET-KEY-1...` identities, stanzas."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from nacl.bindings import crypto_scalarmult, crypto_scalarmult_base

from crypto._encoding import b64encode, bech32_decode, bech32_encode
from crypto.errors import HeaderError, KeyFormatError
from crypto.header import Stanza
from crypto.kdf import X25519_LABEL, hkdf_sha256, unwrap_file_key, wrap_file_key

__all__ = ["STANZA_TYPE", "X25519Identity", "X25519Recipient"]

STANZA_TYPE = "X25519"
RECIPIENT_HRP = "age"
IDENTITY_HRP = "AGE-SECRET-KEY-"
KEY_SIZE = 32
# Any clamped scalar works: clamping makes it a multiple of the cofactor, so the product with a
# low-order point is zero, which libsodium reports as an error.
_PROBE_SCALAR = bytes([9] * KEY_SIZE)


def _x25519(scalar: bytes, point: bytes) -> bytes | None:
    """X25519, or None when the result is all zeros (a low-order or identity point)."""
    try:
        return crypto_scalarmult(scalar, point)
    except RuntimeError:  # PyNaCl's signal for an all-zero shared secret
        return None


@dataclass(frozen=True)
class X25519Recipient:
    """A public key files are sealed to. Built by `parse` or `X25519Identity.recipient()`."""

    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> X25519Recipient:
        """Parse `age1...`. Raises `KeyFormatError` if malformed or a low-order point."""
        try:
            hrp, data = bech32_decode(text)
        except ValueError as exc:
            raise KeyFormatError(f"malformed recipient: {exc}") from exc
        if hrp != RECIPIENT_HRP or len(data) != KEY_SIZE:
            raise KeyFormatError("not an X25519 recipient (age1...)")
        return cls.from_public_bytes(data)

    @classmethod
    def from_public_bytes(cls, public_key: bytes) -> X25519Recipient:
        """Wrap 32 raw public-key bytes, refusing points no honest key can be."""
        if len(public_key) != KEY_SIZE or _x25519(_PROBE_SCALAR, public_key) is None:
            raise KeyFormatError("invalid X25519 public key")
        return cls(bytes(public_key))

    def __str__(self) -> str:
        return bech32_encode(RECIPIENT_HRP, self.public_key)

    def wrap(self, file_key: bytes) -> list[Stanza]:
        """One stanza carrying `file_key`, under a fresh ephemeral key."""
        ephemeral = os.urandom(KEY_SIZE)
        share = crypto_scalarmult_base(ephemeral)
        shared = _x25519(ephemeral, self.public_key)
        if shared is None:  # excluded at construction; kept so no zero key is ever used
            raise KeyFormatError("invalid X25519 public key")
        wrap_key = hkdf_sha256(shared, share + self.public_key, X25519_LABEL)
        body = wrap_file_key(wrap_key, file_key)
        return [Stanza.from_parts(STANZA_TYPE, [b64encode(share)], body)]


@dataclass(frozen=True)
class X25519Identity:
    """A secret key. `str()` gives the secret in Bech32; `repr()` never shows it."""

    secret: bytes = field(repr=False)
    public_key: bytes

    @classmethod
    def generate(cls) -> X25519Identity:
        """A new identity from the operating system's CSPRNG."""
        return cls.from_secret_bytes(os.urandom(KEY_SIZE))

    @classmethod
    def from_secret_bytes(cls, secret: bytes) -> X25519Identity:
        """Wrap 32 secret bytes (for example, derived from a witness codename)."""
        if len(secret) != KEY_SIZE:
            raise KeyFormatError("an X25519 secret key is 32 bytes")
        return cls(bytes(secret), crypto_scalarmult_base(bytes(secret)))

    @classmethod
    def parse(cls, text: str) -> X25519Identity:
        """Parse `AGE-SECRET-KEY-1...`. Raises `KeyFormatError`; the message never echoes it."""
        try:
            hrp, data = bech32_decode(text)
        except ValueError as exc:
            raise KeyFormatError("malformed secret key") from exc
        if hrp != IDENTITY_HRP or len(data) != KEY_SIZE:
            raise KeyFormatError("not an X25519 secret key (AGE-SECRET-KEY-1...)")
        return cls.from_secret_bytes(data)

    def __str__(self) -> str:
        return bech32_encode(IDENTITY_HRP, self.secret)

    def recipient(self) -> X25519Recipient:
        """The public recipient for this identity."""
        return X25519Recipient(self.public_key)

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        """The file key from the first X25519 stanza sealed to us, or None.

        Raises `HeaderError` for a malformed X25519 stanza or an all-zero shared secret.
        """
        for stanza in stanzas:
            if stanza.type != STANZA_TYPE:
                continue
            share = _parse_share(stanza)
            shared = _x25519(self.secret, share)
            if shared is None:
                raise HeaderError("X25519 stanza with a low-order share")
            wrap_key = hkdf_sha256(shared, share + self.public_key, X25519_LABEL)
            file_key = unwrap_file_key(wrap_key, stanza.body)
            if file_key is not None:
                return file_key
        return None


def _parse_share(stanza: Stanza) -> bytes:
    if len(stanza.args) != 1:
        raise HeaderError("X25519 stanza needs exactly one argument")
    share = stanza.fixed_arg(0, KEY_SIZE, "X25519 share")
    if len(stanza.body) != 32:  # checked before any AEAD attempt: no partitioning oracle
        raise HeaderError("X25519 stanza body is not 32 bytes")
    return share
