"""Witness keys: one codename yields a server lookup value and an X25519 reply identity."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field

import nacl.pwhash.argon2id

from crypto.errors import KeyFormatError
from crypto.kdf import hkdf_sha256
from crypto.x25519 import X25519Identity

__all__ = [
    "DEFAULT_COST",
    "FAST_TEST_COST",
    "LOOKUP_LABEL",
    "REPLY_IDENTITY_LABEL",
    "SALT_LABEL",
    "KdfCost",
    "WitnessKeys",
    "derive",
    "normalise_codename",
]

# Versioned labels: changing any of them (or the normalisation) is a new derivation, v2.
SALT_LABEL = b"intake.witness/v1/argon2id-salt"
LOOKUP_LABEL = b"intake.witness/v1/lookup"
REPLY_IDENTITY_LABEL = b"intake.witness/v1/reply-identity"
# The salt is fixed, not random: the server must find a witness from the codename alone, so the
# same codename must always give the same lookup value. The codename's own entropy (7 words of
# the EFF long list, ~90 bits) is what resists guessing; the label keeps us apart from any
# other Argon2id use of the same words.
SALT = hashlib.sha256(SALT_LABEL).digest()[: nacl.pwhash.argon2id.SALTBYTES]
KEY_LEN = 32

# Characters a witness may type between words instead of a space: ASCII hyphen-minus and the
# Unicode hyphens and dashes a phone keyboard or a copy from a document may produce.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_DASH_TO_SPACE = str.maketrans(dict.fromkeys(_DASHES, " "))
# Characters that print as nothing, which a codename pasted from a document, a chat or a web page
# may carry: zero-width space, non-joiner and joiner, word joiner, soft hyphen, byte order mark,
# and the bidi marks, embeddings, overrides and isolates. NFKC keeps them, so one would make a
# correct codename fail. Dropping them is no new derivation: no issued codename holds one, so
# every codename that derived a key before derives the same key now.
_INVISIBLE = (
    "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_DROP_INVISIBLE = str.maketrans(dict.fromkeys(_INVISIBLE))


@dataclass(frozen=True)
class KdfCost:
    """Argon2id cost: operations and memory in bytes (libsodium's opslimit / memlimit)."""

    opslimit: int
    memlimit: int

    def __post_init__(self) -> None:
        if not (
            nacl.pwhash.argon2id.OPSLIMIT_MIN <= self.opslimit <= nacl.pwhash.argon2id.OPSLIMIT_MAX
            and nacl.pwhash.argon2id.MEMLIMIT_MIN
            <= self.memlimit
            <= nacl.pwhash.argon2id.MEMLIMIT_MAX
        ):
            raise ValueError("Argon2id cost outside libsodium's limits")


# 3 passes over 64 MiB (libsodium's "moderate" ops at a quarter of its memory): about a third of
# a second here, so every guess at a stolen lookup value costs the same, while the server can
# run one derivation per login or submission behind a semaphore without running out of memory
# (hundreds of slow uploads share the machine). The codename's entropy does the rest.
DEFAULT_COST = KdfCost(opslimit=3, memlimit=64 * 1024 * 1024)
# libsodium's minimum: for tests only, which derive hundreds of keys.
FAST_TEST_COST = KdfCost(
    opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN, memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN
)


@dataclass(frozen=True)
class WitnessKeys:
    """What a codename yields: the value the server stores to find the witness, and the reply key.

    The two come from distinct HKDF labels, so the stored lookup value never yields the identity.
    """

    lookup: bytes = field(repr=False)
    identity: X25519Identity = field(repr=False)


def normalise_codename(codename: str) -> str:
    """The canonical form of a codename: case, spacing, hyphens and invisible marks do not matter.

    Invisible characters dropped (first, so that NFKC composes across where they stood), NFKC,
    lower case, NFKC again (lower-casing can produce composable sequences), then every run of
    whitespace and hyphens/dashes becomes one space, trimmed at both ends.
    """
    visible = codename.translate(_DROP_INVISIBLE)
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", visible).lower())
    return " ".join(text.translate(_DASH_TO_SPACE).split())


def derive(codename: str, *, cost: KdfCost = DEFAULT_COST) -> WitnessKeys:
    """Derive the witness's lookup value and reply identity from the codename.

    One Argon2id run to a 32-byte master, then HKDF-SHA-256 with a label per output.
    Raises KeyFormatError when the codename is empty once normalised.
    """
    normalised = normalise_codename(codename)
    if not normalised:
        raise KeyFormatError("the codename is empty")
    master = nacl.pwhash.argon2id.kdf(
        KEY_LEN,
        normalised.encode("utf-8"),
        SALT,
        opslimit=cost.opslimit,
        memlimit=cost.memlimit,
    )
    # HKDF-Extract gets no salt: the master is already uniformly random from Argon2id.
    lookup = hkdf_sha256(master, b"", LOOKUP_LABEL, KEY_LEN)
    secret = hkdf_sha256(master, b"", REPLY_IDENTITY_LABEL, KEY_LEN)
    return WitnessKeys(lookup=lookup, identity=X25519Identity.from_secret_bytes(secret))
