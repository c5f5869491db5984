"""HKDF-SHA-256, the header MAC, the payload key, and the file-key wrap every stanza body uses."""

from __future__ import annotations

import hashlib
import hmac

from nacl.bindings import (
    crypto_aead_chacha20poly1305_ietf_decrypt,
    crypto_aead_chacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError as _NaclCryptoError

from crypto.errors import HeaderError

__all__ = [
    "FILE_KEY_SIZE",
    "HEADER_LABEL",
    "PAYLOAD_LABEL",
    "SCRYPT_LABEL",
    "X25519_LABEL",
    "header_mac",
    "hkdf_sha256",
    "payload_key",
    "unwrap_file_key",
    "wrap_file_key",
]

# Labels are age's own, versioned by the format: changing one would make files unreadable.
X25519_LABEL = b"age-encryption.org/v1/X25519"
SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
HEADER_LABEL = b"header"
PAYLOAD_LABEL = b"payload"

FILE_KEY_SIZE = 16
KEY_SIZE = 32
WRAPPED_KEY_SIZE = FILE_KEY_SIZE + 16  # the file key plus a Poly1305 tag
_HASH_SIZE = hashlib.sha256().digest_size
# Each wrap key is used exactly once (fresh ephemeral secret or salt), so a zero nonce is safe.
_ZERO_NONCE = bytes(12)


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = KEY_SIZE) -> bytes:
    """RFC 5869 HKDF with SHA-256. An empty salt acts as 32 zero bytes, as the RFC says."""
    if not 0 < length <= 255 * _HASH_SIZE:
        raise ValueError("invalid HKDF output length")
    prk = hmac.digest(salt or bytes(_HASH_SIZE), ikm, "sha256")
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes([counter]), "sha256")
        out += block
        counter += 1
    return out[:length]


def header_mac(file_key: bytes, covered: bytes) -> bytes:
    """HMAC-SHA-256 over the header bytes through `---`, keyed from the file key."""
    key = hkdf_sha256(file_key, b"", HEADER_LABEL)
    return hmac.digest(key, covered, "sha256")


def payload_key(file_key: bytes, payload_nonce: bytes) -> bytes:
    """The STREAM key: HKDF of the file key, salted with the file's 16-byte payload nonce."""
    return hkdf_sha256(file_key, payload_nonce, PAYLOAD_LABEL)


def wrap_file_key(wrap_key: bytes, file_key: bytes) -> bytes:
    """Seal the file key under a single-use wrap key (a stanza body, 32 bytes)."""
    return crypto_aead_chacha20poly1305_ietf_encrypt(file_key, None, _ZERO_NONCE, wrap_key)


def unwrap_file_key(wrap_key: bytes, body: bytes) -> bytes | None:
    """Open a stanza body; None if it does not authenticate under this key (not ours).

    The caller checks the body length first: trying keys on bodies of other lengths would open
    a partitioning oracle, so a body that is not 32 bytes is a header error, not a miss.
    """
    if len(body) != WRAPPED_KEY_SIZE:
        raise HeaderError("stanza body is not a wrapped 16-byte file key")
    try:
        return crypto_aead_chacha20poly1305_ietf_decrypt(body, None, _ZERO_NONCE, wrap_key)
    except _NaclCryptoError:
        return None
