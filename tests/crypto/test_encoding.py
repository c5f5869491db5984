"""The small building blocks: base64 and Bech32 as age uses them, HKDF, the error root, sources."""

from __future__ import annotations

import io

import pytest

from crypto._aead import open_into, seal_into
from crypto._encoding import b64decode, b64encode, bech32_decode, bech32_encode
from crypto._source import Source
from crypto.armor import ArmorReader
from crypto.errors import CryptoError, HeaderError, KeyFormatError, PayloadError
from crypto.kdf import hkdf_sha256
from crypto.stream import open_payload_to
from crypto.x25519 import X25519Recipient


def test_base64_is_unpadded_and_canonical() -> None:
    assert b64encode(b"") == ""
    assert b64encode(b"ab") == "YWI"
    assert b64decode("YWI") == b"ab"
    assert b64decode(b"YWJj") == b"abc"
    for bad in ["YWI=", "YWJ", "Y", "YW I", "YW\nI", "YW-_", "é"]:
        with pytest.raises(ValueError, match="base64"):
            b64decode(bad)


@pytest.mark.parametrize(
    ("text", "hrp", "data"),
    [
        ("A12UEL5L", "A", b""),
        ("a12uel5l", "a", b""),
        (
            "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
            "abcdef",
            bytes.fromhex("00443214c74254b635cf84653a56d7c675be77df"),
        ),
    ],
)
def test_bech32_reference_strings(text: str, hrp: str, data: bytes) -> None:
    assert bech32_decode(text) == (hrp, data)
    assert bech32_encode(hrp, data) == text


@pytest.mark.parametrize(
    "text",
    [
        "pzry9x0s0muk",  # no separator
        "1pzry9x0s0muk",  # empty prefix
        "x1b4n0q5v",  # "b" is not in the alphabet
        "li1dgmt3",  # checksum too short
        "A1G7SGD8",  # checksum over the wrong case
        "a12UEL5L",  # mixed case
        "\x7f1axkwrx",  # prefix character out of range
        "a1qqqqqqqqqqzygz8t4",  # leftover non-zero padding bits
        "a\u00e91qqqqqq",
    ],
)
def test_bech32_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="bech32"):
        bech32_decode(text)


def test_bech32_has_no_length_limit_and_refuses_mixed_prefixes() -> None:
    data = bytes(range(256))
    assert bech32_decode(bech32_encode("long", data)) == ("long", data)
    assert bech32_encode("UP", b"\x01").isupper()
    with pytest.raises(ValueError, match="mixed-case"):
        bech32_encode("Mixed", b"")


def test_hkdf_matches_rfc_5869() -> None:
    ikm = bytes([0x0B]) * 22
    okm = hkdf_sha256(ikm, bytes(range(13)), bytes(range(0xF0, 0xFA)), 42)
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )
    okm = hkdf_sha256(ikm, b"", b"", 42)  # test case 3: empty salt and info
    assert okm.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )
    with pytest.raises(ValueError, match="length"):
        hkdf_sha256(ikm, b"", b"", 0)


def test_errors_have_stable_categories_and_hints() -> None:
    assert {cls.category for cls in (HeaderError, PayloadError, KeyFormatError)} == {
        "header",
        "payload",
        "key",
    }
    text = str(HeaderError("bad line").diagnostics())
    assert text.startswith("header: bad line\nhint: ")
    assert issubclass(HeaderError, CryptoError)


def test_source_serves_pushed_back_bytes_first() -> None:
    source = Source(io.BytesIO(b"def\nghi"), b"abc")
    assert source.read(2) == b"ab"
    assert source.read(4) == b"cdef"
    assert Source(io.BytesIO(b"rest"), b"ab").read() == b"abrest"
    assert Source(io.BytesIO(b"rest"), b"ab").read(-1) == b"abrest"
    lines = Source(io.BytesIO(b"c\nd\n"), b"a\nb")
    assert [lines.readline(), lines.readline(), lines.readline(1), lines.readline()] == [
        b"a\n",
        b"bc\n",
        b"d",
        b"\n",
    ]
    assert Source(io.BytesIO(b"xyz\n"), b"ab").readline(3) == b"abx"


def test_armor_trailing_whitespace_read_in_pieces() -> None:
    text = io.BytesIO(
        b"-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n-----END AGE ENCRYPTED FILE-----\n" + b" " * 900
    )
    reader = ArmorReader(lambda size: text.read(min(size, 100)))
    assert reader.read() == b"abc"


def test_a_low_order_key_built_around_parse_still_cannot_seal() -> None:
    with pytest.raises(KeyFormatError):
        X25519Recipient(bytes(32)).wrap(bytes(16))


def test_chunk_aead_refuses_out_of_range_buffers() -> None:
    key, nonce = bytes(32), bytes(12)
    buf = bytearray(64)
    with pytest.raises(ValueError, match="32-byte key"):
        seal_into(buf, 0, buf, 0, 8, nonce=nonce, key=b"short")
    with pytest.raises(ValueError, match="out of range"):
        seal_into(buf, 0, b"abc", 1, 8, nonce=nonce, key=key)
    with pytest.raises(ValueError, match="does not fit"):
        seal_into(buf, 50, buf, 0, 8, nonce=nonce, key=key)
    seal_into(buf, 0, b"12345678", 0, 8, nonce=nonce, key=key)
    out = bytearray(8)
    assert open_into(out, 0, buf, 0, 24, nonce=nonce, key=key)
    assert out == b"12345678"
    with pytest.raises(ValueError, match="out of range"):
        open_into(out, 0, buf, 60, 24, nonce=nonce, key=key)
    with pytest.raises(ValueError, match="does not fit"):
        open_into(out, 4, buf, 0, 24, nonce=nonce, key=key)


def test_source_without_readinto_falls_back_to_read() -> None:
    class ReadOnly:
        def __init__(self, data: bytes) -> None:
            self._inner = io.BytesIO(data)

        def read(self, size: int = -1) -> bytes:
            return self._inner.read(size)

    source = Source(ReadOnly(b"payload"), b"")  # type: ignore[arg-type]
    view = memoryview(bytearray(10))
    assert source.readinto(view) == 7
    assert bytes(view[:7]) == b"payload"


def test_payload_key_size_is_checked() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        open_payload_to(io.BytesIO().readinto, b"short", io.BytesIO().write)
