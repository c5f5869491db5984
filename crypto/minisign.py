"""minisign signatures: Ed25519 over a BLAKE2b-512 prehash (the "ED" algorithm), file compatible."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import nacl.bindings
import nacl.exceptions

from crypto.errors import SignatureError
from crypto.minisign_keys import (
    COMMENT_PREFIX,
    KEY_ID_LEN,
    MINISIGN_DEFAULT_COST,
    ScryptCost,
    SigningKey,
    VerifyKey,
)

__all__ = [
    "MAX_SIGNATURE_TEXT",
    "MINISIGN_DEFAULT_COST",
    "ScryptCost",
    "Signature",
    "SigningKey",
    "VerifyKey",
    "find_key",
    "prehash_stream",
    "sign",
    "sign_file",
    "sign_prehashed",
    "verify",
    "verify_file",
    "verify_prehashed",
]

SIG_ALG_PREHASHED = b"ED"
SIG_ALG_LEGACY = b"Ed"
TRUSTED_PREFIX = "trusted comment: "
DEFAULT_UNTRUSTED_COMMENT = "signature from minisign secret key"
PREHASH_LEN = 64
# minisign 0.11 reads comment lines into 1024-byte buffers; staying below keeps every version
# able to verify what we sign.
MAX_COMMENT_BYTES = 1000
# A signature file is four short lines; anything longer is not one, and we never read more.
MAX_SIGNATURE_TEXT = 8192
_CHUNK = 1 << 16


def prehash_stream(stream: BinaryIO) -> bytes:
    """BLAKE2b-512 of everything left in `stream`, read in 64 KiB chunks (bounded memory)."""
    digest = hashlib.blake2b(digest_size=PREHASH_LEN)
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    return digest.digest()


def _check_comment(comment: str, what: str) -> bytes:
    try:
        raw = comment.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, e.g. from a JSON "\udXXX" escape
        raise ValueError(f"{what} is not valid Unicode text") from exc
    if any(c in comment for c in "\r\n\x00") or len(raw) > MAX_COMMENT_BYTES:
        raise ValueError(f"{what} must be one line of at most {MAX_COMMENT_BYTES} bytes")
    return raw


def _ed25519_sign(message: bytes, sk: SigningKey) -> bytes:
    return nacl.bindings.crypto_sign(message, sk.secret_key)[: nacl.bindings.crypto_sign_BYTES]


def _ed25519_valid(signature: bytes, message: bytes, vk: VerifyKey) -> bool:
    try:
        nacl.bindings.crypto_sign_open(signature + message, vk.public_key)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


@dataclass(frozen=True)
class Signature:
    """A parsed .minisig file (not yet verified)."""

    untrusted_comment: str
    key_id: bytes
    signature: bytes
    trusted_comment: str
    global_signature: bytes

    @classmethod
    def parse(cls, text: str) -> Signature:
        """Parse a .minisig file's text. Raises SignatureError when it is not one we accept."""
        if len(text) > MAX_SIGNATURE_TEXT:
            raise SignatureError("signature file is too long to be a minisign signature")
        try:
            # Text from JSON may hold lone surrogates; the comments must encode as UTF-8 later.
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise SignatureError("minisign signature is not valid Unicode text") from exc
        lines = [line.rstrip("\r") for line in text.rstrip("\r\n").split("\n")]
        if len(lines) != 4 or not lines[0].startswith(COMMENT_PREFIX):
            raise SignatureError("not a minisign signature file (expected four lines)")
        if not lines[2].startswith(TRUSTED_PREFIX):
            raise SignatureError("minisign signature has no trusted comment line")
        sig = _b64(lines[1], 2 + KEY_ID_LEN + nacl.bindings.crypto_sign_BYTES)
        if sig[:2] == SIG_ALG_LEGACY:
            raise SignatureError("legacy (not prehashed) minisign signatures are not accepted")
        if sig[:2] != SIG_ALG_PREHASHED:
            raise SignatureError("minisign signature uses an unknown algorithm")
        return cls(
            untrusted_comment=lines[0][len(COMMENT_PREFIX) :],
            key_id=sig[2 : 2 + KEY_ID_LEN],
            signature=sig[2 + KEY_ID_LEN :],
            trusted_comment=lines[2][len(TRUSTED_PREFIX) :],
            global_signature=_b64(lines[3], nacl.bindings.crypto_sign_BYTES),
        )

    @property
    def key_id_hex(self) -> str:
        """The signing key's id as minisign prints it."""
        # minisign formats it with PRIX64: no zero padding, so "2FAB…" and never "02FAB…".
        return f"{int.from_bytes(self.key_id, 'little'):X}"


def _b64(line: str, length: int) -> bytes:
    try:
        raw = base64.b64decode(line.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("minisign signature line is not valid base64") from exc
    if len(raw) != length:
        raise SignatureError("minisign signature line has the wrong length")
    return raw


def sign_prehashed(
    prehash: bytes,
    sk: SigningKey,
    *,
    trusted_comment: str,
    untrusted_comment: str = DEFAULT_UNTRUSTED_COMMENT,
) -> str:
    """Sign a BLAKE2b-512 digest; returns the .minisig text. Raises ValueError on bad comments."""
    if len(prehash) != PREHASH_LEN:
        raise ValueError("a minisign prehash is 64 bytes of BLAKE2b-512")
    trusted = _check_comment(trusted_comment, "the trusted comment")
    _check_comment(untrusted_comment, "the untrusted comment")
    signature = _ed25519_sign(prehash, sk)
    # The global signature binds the trusted comment to the data signature.
    global_signature = _ed25519_sign(signature + trusted, sk)
    encoded = base64.b64encode(SIG_ALG_PREHASHED + sk.key_id + signature).decode("ascii")
    encoded_global = base64.b64encode(global_signature).decode("ascii")
    return (
        f"{COMMENT_PREFIX}{untrusted_comment}\n{encoded}\n"
        f"{TRUSTED_PREFIX}{trusted_comment}\n{encoded_global}\n"
    )


def verify_prehashed(sig_text: str, prehash: bytes, vk: VerifyKey) -> str:
    """Verify a .minisig text against a BLAKE2b-512 digest; returns the trusted comment.

    Raises SignatureError when the text is malformed, names another key, or does not verify.
    """
    sig = Signature.parse(sig_text)
    if not hmac.compare_digest(sig.key_id, vk.key_id):
        raise SignatureError(f"signed by minisign key {sig.key_id_hex}, not by {vk.key_id_hex}")
    if not _ed25519_valid(sig.signature, prehash, vk):
        raise SignatureError("minisign signature does not match the data")
    trusted = sig.trusted_comment.encode("utf-8")
    if not _ed25519_valid(sig.global_signature, sig.signature + trusted, vk):
        raise SignatureError("minisign trusted comment has been altered")
    return sig.trusted_comment


def sign(data: bytes, sk: SigningKey, *, trusted_comment: str) -> str:
    """Sign bytes; returns the .minisig text that `minisign -V` accepts."""
    digest = hashlib.blake2b(data, digest_size=PREHASH_LEN).digest()
    return sign_prehashed(digest, sk, trusted_comment=trusted_comment)


def verify(sig_text: str, data: bytes, vk: VerifyKey) -> str:
    """Verify bytes against a .minisig text; returns the trusted comment. Raises SignatureError."""
    return verify_prehashed(sig_text, hashlib.blake2b(data, digest_size=PREHASH_LEN).digest(), vk)


def sign_file(path: Path, sk: SigningKey, *, trusted_comment: str) -> str:
    """Sign a file of any size in bounded memory; returns the .minisig text."""
    with path.open("rb") as stream:
        digest = prehash_stream(stream)
    return sign_prehashed(digest, sk, trusted_comment=trusted_comment)


def verify_file(sig_text: str, path: Path, vk: VerifyKey) -> str:
    """Verify a file of any size in bounded memory; returns the trusted comment.

    Raises SignatureError (and OSError when the file cannot be read).
    """
    with path.open("rb") as stream:
        digest = prehash_stream(stream)
    return verify_prehashed(sig_text, digest, vk)


def find_key(sig_text: str, keys: Iterable[VerifyKey]) -> VerifyKey:
    """The key among `keys` whose id the signature names. Raises SignatureError when none does."""
    sig = Signature.parse(sig_text)
    for key in keys:
        if hmac.compare_digest(key.key_id, sig.key_id):
            return key
    raise SignatureError(f"signed by minisign key {sig.key_id_hex}, which is not a known key")
