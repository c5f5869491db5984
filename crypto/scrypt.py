"""The scrypt (passphrase) recipient type; an scrypt stanza must be the only one in its header."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from crypto._encoding import b64encode
from crypto.errors import HeaderError
from crypto.header import Stanza
from crypto.kdf import SCRYPT_LABEL, unwrap_file_key, wrap_file_key

__all__ = ["DEFAULT_LOG_N", "MAX_LOG_N", "STANZA_TYPE", "ScryptIdentity", "ScryptRecipient"]

STANZA_TYPE = "scrypt"
SALT_SIZE = 16
# age's default work factor: about a second and 256 MiB per attempt, which is what makes a
# guessed passphrase expensive.
DEFAULT_LOG_N = 18
# Our ceiling when opening: 2^20 needs 1 GiB of memory. age accepts up to 22 (4 GiB), but
# hashlib's `maxmem` cannot exceed 2 GiB, and a file header must not be able to make us
# allocate more than this. Files made by `age -p` use 18.
MAX_LOG_N = 20
_R = 8
_P = 1
_WORK_FACTOR = re.compile(r"[1-9][0-9]{0,2}")


def _wrap_key(passphrase: bytes, salt: bytes, log_n: int) -> bytes:
    n = 1 << log_n
    # OpenSSL needs 128*r*(N+p+2) bytes; the default `maxmem` (32 MiB) stops at log N 14.
    maxmem = 128 * _R * (n + _P + 2) + (1 << 20)
    return hashlib.scrypt(
        passphrase, salt=SCRYPT_LABEL + salt, n=n, r=_R, p=_P, maxmem=maxmem, dklen=32
    )


@dataclass(frozen=True)
class ScryptRecipient:
    """Seal to a passphrase. Files sealed this way may have no other recipient."""

    passphrase: bytes = field(repr=False)
    log_n: int = DEFAULT_LOG_N

    def __post_init__(self) -> None:
        if not self.passphrase:
            raise ValueError("an empty passphrase protects nothing")
        if not 1 <= self.log_n <= MAX_LOG_N:
            raise ValueError(f"scrypt work factor must be between 1 and {MAX_LOG_N}")

    def wrap(self, file_key: bytes) -> list[Stanza]:
        """One scrypt stanza with a fresh salt."""
        salt = os.urandom(SALT_SIZE)
        body = wrap_file_key(_wrap_key(self.passphrase, salt, self.log_n), file_key)
        return [Stanza.from_parts(STANZA_TYPE, [b64encode(salt), str(self.log_n)], body)]


@dataclass(frozen=True)
class ScryptIdentity:
    """Open files sealed to a passphrase, refusing work factors above `max_log_n`."""

    passphrase: bytes = field(repr=False)
    max_log_n: int = MAX_LOG_N

    def __post_init__(self) -> None:
        if not 1 <= self.max_log_n <= MAX_LOG_N:
            raise ValueError(f"scrypt work factor limit must be between 1 and {MAX_LOG_N}")

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        """The file key if the scrypt stanza opens with this passphrase, else None.

        Raises `HeaderError` if an scrypt stanza is malformed, shares the header with another
        stanza, or asks for more work than `max_log_n`.
        """
        for stanza in stanzas:
            if stanza.type != STANZA_TYPE:
                continue
            if len(stanzas) != 1:
                raise HeaderError("an scrypt stanza must be the only stanza in the header")
            salt, log_n = _parse_args(stanza, self.max_log_n)
            if len(stanza.body) != 32:  # before any scrypt or AEAD work
                raise HeaderError("scrypt stanza body is not 32 bytes")
            return unwrap_file_key(_wrap_key(self.passphrase, salt, log_n), stanza.body)
        return None


def _parse_args(stanza: Stanza, max_log_n: int) -> tuple[bytes, int]:
    if len(stanza.args) != 2:
        raise HeaderError("scrypt stanza needs exactly two arguments")
    salt = stanza.fixed_arg(0, SALT_SIZE, "scrypt salt")
    # Decimal without sign, leading zero or other digits; the length cap stops huge numbers early.
    if not _WORK_FACTOR.fullmatch(stanza.args[1]):
        raise HeaderError("scrypt work factor is not a plain decimal number")
    log_n = int(stanza.args[1])
    if log_n > max_log_n:
        raise HeaderError(f"scrypt work factor {log_n} is above our limit of {max_log_n}")
    return salt, log_n
