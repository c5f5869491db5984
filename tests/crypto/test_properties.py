"""Properties of sealing and opening, for any plaintext and any damage (Hypothesis)."""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crypto.age import Sealer, open_bytes, open_stream
from crypto.errors import CryptoError, KeyFormatError, PayloadError
from crypto.stream import CHUNK_SIZE, SEALED_CHUNK_SIZE
from crypto.x25519 import X25519Identity, X25519Recipient

IDENTITY = X25519Identity.generate()
RECIPIENTS = [IDENTITY.recipient(), X25519Identity.generate().recipient()]
HEADER_SIZE = 168 + 98  # two X25519 recipients
PAYLOAD_START = HEADER_SIZE + 16
# Small sizes keep examples cheap; the boundaries that matter are forced with @example.
SIZES = st.integers(min_value=0, max_value=3 * CHUNK_SIZE + 100)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def plaintext(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)  # noqa: S311 - reproducible data, not keys


def seal(data: bytes, cuts: list[int] | None = None, *, armor: bool = False) -> bytes:
    out = io.BytesIO()
    with Sealer(out, RECIPIENTS, armor=armor) as sealer:
        start = 0
        for cut in sorted(cuts or []):
            sealer.write(data[start:cut])
            start = max(start, cut)
        sealer.write(data[start:])
    assert sealer.plaintext_size == len(data)
    return out.getvalue()


def released(sealed: bytes) -> tuple[bytes, CryptoError | None]:
    """All plaintext a streaming reader hands out, and the error that stopped it."""
    got = bytearray()
    try:
        for chunk in open_stream(io.BytesIO(sealed), [IDENTITY]):
            got += chunk
    except CryptoError as exc:
        return bytes(got), exc
    return bytes(got), None


@FAST
@given(size=SIZES, seed=st.integers(0, 1000), cuts=st.lists(SIZES, max_size=6), armor=st.booleans())
@example(size=0, seed=0, cuts=[], armor=False)
@example(size=1, seed=0, cuts=[], armor=False)
@example(size=CHUNK_SIZE - 1, seed=0, cuts=[], armor=False)
@example(size=CHUNK_SIZE, seed=0, cuts=[], armor=False)
@example(size=CHUNK_SIZE + 1, seed=0, cuts=[], armor=False)
@example(size=2 * CHUNK_SIZE, seed=0, cuts=[CHUNK_SIZE], armor=False)
@example(size=3 * CHUNK_SIZE, seed=0, cuts=[1, CHUNK_SIZE, CHUNK_SIZE + 1], armor=True)
def test_round_trip(size: int, seed: int, cuts: list[int], armor: bool) -> None:
    data = plaintext(size, seed)
    sealed = seal(data, [c for c in cuts if c <= size], armor=armor)
    if not armor:
        chunks = max(1, -(-size // CHUNK_SIZE))
        assert len(sealed) == PAYLOAD_START + size + 16 * chunks
    assert open_bytes(sealed, [IDENTITY]) == data


@FAST
@given(
    size=SIZES,
    seed=st.integers(0, 1000),
    where=st.floats(0, 1, exclude_max=True),
    bit=st.integers(0, 7),
)
@example(size=2 * CHUNK_SIZE, seed=1, where=0.99999, bit=0)
@example(size=40 * CHUNK_SIZE + 5, seed=2, where=0.6, bit=3)  # several batches, on threads
@example(size=40 * CHUNK_SIZE + 5, seed=2, where=0.9999, bit=1)
@example(size=CHUNK_SIZE, seed=1, where=0.0, bit=7)
def test_any_flipped_bit_fails_and_releases_only_earlier_chunks(
    size: int, seed: int, where: float, bit: int
) -> None:
    data = plaintext(size, seed)
    sealed = bytearray(seal(data))
    position = int(where * len(sealed))
    sealed[position] ^= 1 << bit
    got, error = released(bytes(sealed))
    assert error is not None
    damaged_chunk = max(0, position - PAYLOAD_START) // SEALED_CHUNK_SIZE
    intact = data[: damaged_chunk * CHUNK_SIZE] if position >= PAYLOAD_START else b""
    assert got == intact


@FAST
@given(size=st.integers(1, 4 * CHUNK_SIZE), seed=st.integers(0, 1000), data=st.data())
@example(size=4 * CHUNK_SIZE, seed=0, data=None)
@example(size=35 * CHUNK_SIZE - 1, seed=0, data=None)  # every boundary of several batches
def test_truncation_at_any_chunk_boundary_fails(
    size: int, seed: int, data: st.DataObject | None
) -> None:
    plain = plaintext(size, seed)
    sealed = seal(plain)
    chunks = -(-size // CHUNK_SIZE)
    boundaries = range(chunks) if data is None else [data.draw(st.integers(0, chunks - 1))]
    for boundary in boundaries:
        got, error = released(sealed[: PAYLOAD_START + boundary * SEALED_CHUNK_SIZE])
        assert isinstance(error, PayloadError)
        assert got == plain[: boundary * CHUNK_SIZE]


@FAST
@given(size=SIZES, seed=st.integers(0, 1000), where=st.floats(0, 1, exclude_max=True))
def test_truncation_anywhere_fails(size: int, seed: int, where: float) -> None:
    sealed = seal(plaintext(size, seed))
    got, error = released(sealed[: int(where * len(sealed))])
    assert error is not None
    assert len(got) % CHUNK_SIZE == 0  # only whole, authenticated chunks came out


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from([b"", b"age-encryption.org/v1\n", b"age-encryption.org/v1\n-> X25519 "]),
    body=st.binary(max_size=400),
    armored=st.booleans(),
)
def test_garbage_only_ever_raises_crypto_errors(prefix: bytes, body: bytes, armored: bool) -> None:
    text = prefix + body
    if armored:
        text = b"-----BEGIN AGE ENCRYPTED FILE-----\n" + text
    with pytest.raises(CryptoError):
        open_bytes(text, [IDENTITY])


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=100) | st.from_regex(r"age1[a-z0-9]{0,70}", fullmatch=True))
def test_recipient_parsing_only_raises_key_errors(text: str) -> None:
    try:
        X25519Recipient.parse(text)
    except KeyFormatError:
        return
    assert text.startswith("age1")
