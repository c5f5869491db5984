"""What must hold when a reader meets hostile bytes: its typed error, or a sound result.

Each function here takes the input and returns when the reader accepted it (after checking
what must then hold, such as a canonical round trip) or refused it with the layer's typed
error (`CryptoError`, `ProtocolError`). Anything else escapes: to Hypothesis that is a failing
example, to atheris a crash.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path

from crypto._encoding import b64decode, b64encode, bech32_decode, bech32_encode
from crypto.age import open_bytes, open_stream, rewrap_header
from crypto.armor import ArmorReader
from crypto.errors import CryptoError, HeaderError, KeyFormatError, SignatureError
from crypto.header import Header, Identity, mac_input, with_mac
from crypto.keyfile import parse_identities, parse_recipient, read_recipients_file
from crypto.minisign import Signature, SigningKey, VerifyKey, find_key, verify
from crypto.witness import FAST_TEST_COST, derive, normalise_codename
from crypto.x25519 import X25519Identity, X25519Recipient
from protocol.bundle import BundleReader
from protocol.errors import ProtocolError
from protocol.manifest import MAX_MANIFEST_SIZE
from protocol.schema import Submission
from tests.fuzz import fixups, seeds

__all__ = [
    "BoundedStream",
    "age",
    "armor",
    "as_text",
    "bundle",
    "check_codename",
    "check_submission",
    "codename",
    "encoding",
    "header",
    "key_texts",
    "minisign",
    "schema",
]

# Items in the seed bundles are tiny; a fuzzed manifest may claim more, which read_all refuses.
_ITEM_LIMIT = 1 << 20
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
# Characters that print as nothing, which normalising drops (crypto.witness).
_INVISIBLE = (
    "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def as_text(data: bytes) -> str:
    """Bytes as the `str` a reader may be handed: invalid UTF-8 becomes lone surrogates.

    That is what Python gives for a command-line argument or a file read with
    `surrogateescape`, and JSON's `\\udXXX` escapes give the same strings.
    """
    return data.decode("utf-8", "surrogateescape")


def _lines(data: bytes, limit: int = 8) -> Iterator[str]:
    yield from as_text(data).splitlines()[:limit]


# --- crypto ----------------------------------------------------------------------------------


def header(data: bytes) -> None:
    with suppress(HeaderError):
        parsed, covered = Header.parse(io.BytesIO(data))
        # The grammar is strict, so what parsed re-serialises to exactly the bytes read.
        assert mac_input(parsed.stanzas) == covered
        assert with_mac(covered, parsed.mac) == data[: parsed.size]


def armor(data: bytes) -> None:
    with suppress(CryptoError):
        decoded = ArmorReader(io.BytesIO(data).read).read()
        assert ArmorReader(io.BytesIO(fixups.armored(decoded)).read).read() == decoded


def _outcome(action: Callable[[], bytes]) -> tuple[str, bytes]:
    try:
        return "ok", action()
    except CryptoError as exc:
        return exc.category, b""


def _open_streamed(data: bytes, identities: Sequence[Identity]) -> bytes:
    return b"".join(open_stream(io.BytesIO(data), identities))


def _opened(data: bytes, identities: Sequence[Identity]) -> tuple[str, bytes]:
    """How the file opens; both ways (into a sink by workers, and as a generator) must agree."""
    into = _outcome(lambda: open_bytes(data, identities))
    assert _outcome(lambda: _open_streamed(data, identities)) == into
    return into


def _age_once(data: bytes, ids: Sequence[Identity], new: X25519Recipient) -> None:
    opened = _opened(data, ids)
    with suppress(CryptoError):
        fresh, offset = rewrap_header(io.BytesIO(data), ids, [new])
        # A re-wrapped file opens exactly as the original did: same plaintext or same failure.
        assert _opened(fresh + data[offset:], ids) == opened


def age(keys: seeds.Keys) -> Callable[[bytes], None]:
    identities = seeds.identities(keys)
    new = keys.identity.recipient()

    def run(data: bytes) -> None:
        _age_once(data, identities, new)
        # Also with the MAC made valid, so the stanzas and the payload meet hostile bytes.
        fixed = fixups.remac(data, identities)
        if fixed is not None and fixed != data:
            _age_once(fixed, identities, new)

    return run


def key_texts(workdir: Path) -> Callable[[bytes], None]:
    path = workdir / "recipients.txt"

    def run(data: bytes) -> None:
        with suppress(KeyFormatError):
            for identity in parse_identities(data):
                assert X25519Identity.parse(str(identity)) == identity
        path.write_bytes(data)
        with suppress(KeyFormatError):
            read_recipients_file(path)
        for line in _lines(data):
            with suppress(KeyFormatError):
                assert str(parse_recipient(line)) == line.strip()
            with suppress(KeyFormatError):
                assert str(X25519Identity.parse(line)) == line
            with suppress(KeyFormatError):
                assert str(X25519Recipient.parse(line)) == line

    return run


def encoding(data: bytes) -> None:
    with suppress(ValueError):
        assert b64encode(b64decode(data)).encode() == data  # only canonical base64 decodes
    for line in _lines(data, 2):
        with suppress(ValueError):
            hrp, payload = bech32_decode(line)
            assert bech32_encode(hrp, payload).lower() == line.lower()


def minisign(keys: seeds.Keys) -> Callable[[bytes], None]:
    vk = keys.verify_key

    def run(data: bytes) -> None:
        text = as_text(data)
        with suppress(KeyFormatError):
            parsed = VerifyKey.parse(text)
            assert VerifyKey.parse(parsed.to_file_text()) == parsed
        with suppress(KeyFormatError):
            secret = SigningKey.from_file_text(text, None)
            assert secret.verify_key().public_key == secret.secret_key[32:]
        with suppress(SignatureError):
            Signature.parse(text)
        with suppress(SignatureError):
            assert find_key(text, [vk]) == vk
        with suppress(SignatureError):
            comment = verify(text, seeds.SIGNED_MESSAGE, vk)
            assert comment == Signature.parse(text).trusted_comment

    return run


# --- protocol --------------------------------------------------------------------------------


class BoundedStream:
    """A stream that fails the target when asked for an unbounded read (size < 0 or huge).

    A reader of hostile bundles must never let a header field decide to read "everything":
    that would pull a whole multi-gigabyte bundle into memory before refusing it.
    """

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def read(self, size: int = -1, /) -> bytes:
        assert 0 <= size <= MAX_MANIFEST_SIZE, f"unbounded read({size}) of a hostile bundle"
        return self._inner.read(size)


def _bundle_once(data: bytes, keys: seeds.Keys) -> None:
    for kind in ("export", "ack"):
        with suppress(ProtocolError):
            reader = BundleReader(
                BoundedStream(data), expect_kind=kind, verify_keys=[keys.verify_key]
            )
            for item in reader.items():
                body = item.read_all(_ITEM_LIMIT)
                assert hashlib.sha256(body).hexdigest() == item.entry.sha256


def bundle(keys: seeds.Keys) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        _bundle_once(data, keys)
        fixed = fixups.fix_tar_checksums(data)
        if fixed != data:
            _bundle_once(fixed, keys)

    return run


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def check_submission(submission: Submission) -> None:
    """What holds for every accepted submission: a lossless round trip, and real text.

    Every string must encode as UTF-8: triage stores them in SQLite and prints them, and a
    lone surrogate (which JSON's `\\udXXX` escapes can produce) fails both.
    """
    assert Submission.from_json(submission.to_json()) == submission
    for text in _strings(submission.to_dict()):
        text.encode("utf-8")


def schema(data: bytes) -> None:
    with suppress(ProtocolError):
        check_submission(Submission.from_json(data))


def check_codename(text: str) -> None:
    """Normalising is idempotent and leaves single spaces between words, no dash and no
    invisible character; the derived keys depend on the normalised form only, and only an
    empty one is refused."""
    normal = normalise_codename(text)
    assert normalise_codename(normal) == normal
    assert " ".join(normal.split()) == normal
    assert not any(dash in normal for dash in _DASHES)
    assert not any(mark in normal for mark in _INVISIBLE)
    if any("\ud800" <= char <= "\udfff" for char in text):
        return  # the web layer decodes forms with replacement: no lone surrogate reaches derive
    try:
        derived = derive(text, cost=FAST_TEST_COST)
    except KeyFormatError:
        assert not normal
    else:
        assert normal
        assert derive(normal, cost=FAST_TEST_COST) == derived


def codename(data: bytes) -> None:
    check_codename(as_text(data))
