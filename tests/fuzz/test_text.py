"""The key, signature and codename readers that take `str`: any string, lone surrogates too.

JSON's `\\udXXX` escapes and `surrogateescape` (command-line arguments, file names) both
produce strings that are not valid Unicode; a reader must refuse them with its typed error.
"""

from __future__ import annotations

from contextlib import suppress

from hypothesis import given

from crypto._encoding import b64decode, bech32_decode
from crypto.errors import KeyFormatError, SignatureError
from crypto.keyfile import parse_recipient
from crypto.minisign import Signature, SigningKey, VerifyKey, find_key, verify
from crypto.x25519 import X25519Identity, X25519Recipient
from tests.fuzz import oracles, seeds
from tests.fuzz.strategies import FUZZ, LARGE_REPR, texts, watchdog

pytestmark = LARGE_REPR

_KEYS = seeds.Keys.fixed()
_KEY_TEXTS = [seed.decode() for seed in seeds.key_text_seeds(_KEYS)]
_MINISIGN_TEXTS = [seed.decode() for seed in seeds.minisign_seeds(_KEYS)]


@FUZZ
@given(text=texts(_KEY_TEXTS))
def test_age_key_readers(text: str) -> None:
    with watchdog():
        for parse in (parse_recipient, X25519Recipient.parse, X25519Identity.parse):
            with suppress(KeyFormatError):
                parse(text)
        with suppress(ValueError):
            bech32_decode(text)
        with suppress(ValueError):
            b64decode(text)


@FUZZ
@given(text=texts(_MINISIGN_TEXTS))
def test_minisign_readers(text: str) -> None:
    vk = _KEYS.verify_key
    with watchdog():
        with suppress(KeyFormatError):
            VerifyKey.parse(text)
        with suppress(KeyFormatError):
            SigningKey.from_file_text(text, None)
        with suppress(SignatureError):
            Signature.parse(text)
        with suppress(SignatureError):
            find_key(text, [vk])
        with suppress(SignatureError):
            verify(text, seeds.SIGNED_MESSAGE, vk)


@FUZZ
@given(text=texts(list(seeds.CODENAMES)))
def test_codename_normalisation(text: str) -> None:
    with watchdog():
        oracles.check_codename(text)
