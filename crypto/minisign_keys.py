"""minisign key pairs and their key files: the public key, the plain or passphrase-sealed secret."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass, field

import nacl.bindings
import nacl.exceptions
import nacl.pwhash.scrypt

from crypto.errors import KeyFormatError

__all__ = [
    "MINISIGN_DEFAULT_COST",
    "ScryptCost",
    "SigningKey",
    "VerifyKey",
]

# Algorithm tags, as minisign spells them in its binary structures.
SIG_ALG = b"Ed"
KDF_SCRYPT = b"Sc"
KDF_NONE = b"\x00\x00"
CHK_BLAKE2B = b"B2"
KEY_ID_LEN = 8
COMMENT_PREFIX = "untrusted comment: "
PUBLIC_KEY_COMMENT = "minisign public key "
SECRET_KEY_COMMENT = "minisign encrypted secret key"  # noqa: S105 - a comment line, not a secret
PLAIN_SECRET_KEY_COMMENT = "minisign unencrypted secret key"  # noqa: S105 - likewise

_PUBLIC_LEN = 2 + KEY_ID_LEN + 32
_SALT_LEN = 32
# sig_alg, kdf_alg, chk_alg, salt, opslimit, memlimit, then keynum || sk || checksum (the part
# the passphrase stream covers).
_SECRET_HEAD = struct.Struct(f"<2s2s2s{_SALT_LEN}sQQ")
_SEALED_LEN = KEY_ID_LEN + 64 + 32
_SECRET_LEN = _SECRET_HEAD.size + _SEALED_LEN


@dataclass(frozen=True)
class ScryptCost:
    """scryptsalsa208sha256 cost of a passphrase-sealed secret key, as minisign stores it."""

    opslimit: int
    memlimit: int


# minisign's own choice (libsodium's "sensitive" limits: ~1 GiB, a few seconds). The key signs
# the acks that make the server delete testimony, so it gets the protection minisign gives its
# own keys; tests pass a lower cost explicitly.
MINISIGN_DEFAULT_COST = ScryptCost(opslimit=33_554_432, memlimit=1_073_741_824)
# A secret key file is trusted input, but a corrupted or hostile one must not make us allocate
# unbounded memory: twice minisign's default is the most we accept.
MAX_COST = ScryptCost(opslimit=2 * 33_554_432, memlimit=2 * 1_073_741_824)


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError(f"{what} is not valid base64") from exc


def _key_lines(text: str, what: str) -> tuple[str, str]:
    """Split a key file into its untrusted comment and its base64 line."""
    lines = [line.rstrip("\r") for line in text.strip().split("\n")]
    if len(lines) != 2 or not lines[0].startswith(COMMENT_PREFIX):
        raise KeyFormatError(f"{what} must be an untrusted comment line and one base64 line")
    return lines[0], lines[1]


@dataclass(frozen=True)
class VerifyKey:
    """A minisign public key: an 8-byte key id and an Ed25519 public key."""

    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> VerifyKey:
        """Parse a .pub file's text or its bare base64 line (minisign -P). Raises KeyFormatError."""
        line = _key_lines(text, "a minisign public key file")[1] if "\n" in text.strip() else text
        raw = _b64decode(line, "a minisign public key")
        if len(raw) != _PUBLIC_LEN or raw[:2] != SIG_ALG:
            raise KeyFormatError("not a minisign Ed25519 public key")
        return cls(key_id=raw[2 : 2 + KEY_ID_LEN], public_key=raw[2 + KEY_ID_LEN :])

    @property
    def key_id_hex(self) -> str:
        """The key id as minisign prints it: a little-endian 64-bit number in upper-case hex."""
        # minisign formats it with PRIX64: no zero padding, so "2FAB…" and never "02FAB…".
        return f"{int.from_bytes(self.key_id, 'little'):X}"

    def to_base64(self) -> str:
        """The base64 line minisign accepts with -P."""
        return base64.b64encode(SIG_ALG + self.key_id + self.public_key).decode("ascii")

    def to_file_text(self) -> str:
        """The text of a .pub file as `minisign -G` writes it."""
        return f"{COMMENT_PREFIX}{PUBLIC_KEY_COMMENT}{self.key_id_hex}\n{self.to_base64()}\n"


def _checksum(key_id: bytes, secret_key: bytes) -> bytes:
    # minisign: BLAKE2b-256 over sig_alg || keynum || sk, so a wrong passphrase is detected.
    return hashlib.blake2b(SIG_ALG + key_id + secret_key, digest_size=32).digest()


def _passphrase_stream(passphrase: bytes, salt: bytes, cost: ScryptCost) -> bytes:
    if not passphrase:
        raise KeyFormatError("an empty passphrase cannot protect a minisign secret key")
    if not (0 < cost.opslimit <= MAX_COST.opslimit and 0 < cost.memlimit <= MAX_COST.memlimit):
        raise KeyFormatError("minisign secret key asks for an unreasonable scrypt cost")
    try:
        return nacl.pwhash.scrypt.kdf(
            _SEALED_LEN, passphrase, salt, opslimit=cost.opslimit, memlimit=cost.memlimit
        )
    except (nacl.exceptions.CryptoError, ValueError) as exc:
        raise KeyFormatError("minisign secret key has scrypt parameters we cannot use") from exc


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class SigningKey:
    """A minisign secret key: key id and the 64-byte Ed25519 secret key (seed || public key)."""

    key_id: bytes
    secret_key: bytes = field(repr=False)

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh key pair with a random key id, as `minisign -G` makes."""
        _public, secret = nacl.bindings.crypto_sign_keypair()
        return cls(key_id=os.urandom(KEY_ID_LEN), secret_key=secret)

    @classmethod
    def from_file_text(cls, text: str, passphrase: bytes | None = None) -> SigningKey:
        """Read a minisign secret key file (sealed with a passphrase or `minisign -W`).

        Raises KeyFormatError when the text is malformed, a passphrase is needed but missing, or
        the passphrase is wrong.
        """
        raw = _b64decode(_key_lines(text, "a minisign secret key file")[1], "a minisign secret key")
        if len(raw) != _SECRET_LEN:
            raise KeyFormatError("not a minisign secret key (wrong length)")
        sig_alg, kdf_alg, chk_alg, salt, ops, mem = _SECRET_HEAD.unpack_from(raw)
        if sig_alg != SIG_ALG or chk_alg != CHK_BLAKE2B:
            raise KeyFormatError("not a minisign Ed25519 secret key")
        sealed = raw[_SECRET_HEAD.size :]
        if kdf_alg == KDF_SCRYPT:
            if passphrase is None:
                raise KeyFormatError("this minisign secret key is protected by a passphrase")
            sealed = _xor(sealed, _passphrase_stream(passphrase, salt, ScryptCost(ops, mem)))
        elif kdf_alg != KDF_NONE:
            raise KeyFormatError("minisign secret key uses an unknown key derivation")
        key = cls(key_id=sealed[:KEY_ID_LEN], secret_key=sealed[KEY_ID_LEN : KEY_ID_LEN + 64])
        checksum = sealed[KEY_ID_LEN + 64 :]
        # minisign -W leaves the checksum zero; a sealed key always carries one.
        unchecked = kdf_alg == KDF_NONE and checksum == bytes(32)
        if not unchecked and not hmac.compare_digest(
            checksum, _checksum(key.key_id, key.secret_key)
        ):
            if kdf_alg == KDF_SCRYPT:
                raise KeyFormatError("wrong passphrase for this minisign secret key")
            raise KeyFormatError("minisign secret key checksum does not match (corrupted file)")
        key._check_consistent()
        return key

    def _check_consistent(self) -> None:
        public, secret = nacl.bindings.crypto_sign_seed_keypair(self.secret_key[:32])
        if not hmac.compare_digest(secret, self.secret_key):
            raise KeyFormatError("minisign secret key is inconsistent (corrupted file)")
        del public

    def verify_key(self) -> VerifyKey:
        """The matching public key."""
        return VerifyKey(key_id=self.key_id, public_key=self.secret_key[32:])

    def to_file_text(
        self, passphrase: bytes | None, *, cost: ScryptCost = MINISIGN_DEFAULT_COST
    ) -> str:
        """The text of a minisign secret key file.

        With a passphrase, sealed exactly as minisign does (scrypt stream XOR keynum || sk ||
        checksum); with None, unencrypted like `minisign -W`. Raises KeyFormatError for an empty
        passphrase or an unusable cost.
        """
        sealed = self.key_id + self.secret_key + _checksum(self.key_id, self.secret_key)
        if passphrase is None:
            head = _SECRET_HEAD.pack(SIG_ALG, KDF_NONE, CHK_BLAKE2B, bytes(_SALT_LEN), 0, 0)
            comment = PLAIN_SECRET_KEY_COMMENT
        else:
            salt = os.urandom(_SALT_LEN)
            sealed = _xor(sealed, _passphrase_stream(passphrase, salt, cost))
            head = _SECRET_HEAD.pack(
                SIG_ALG, KDF_SCRYPT, CHK_BLAKE2B, salt, cost.opslimit, cost.memlimit
            )
            comment = SECRET_KEY_COMMENT
        body = base64.b64encode(head + sealed).decode("ascii")
        return f"{COMMENT_PREFIX}{comment}\n{body}\n"
