"""The header grammar: canonical output, strict parsing, and the exact bytes the MAC covers."""

from __future__ import annotations

import io

import pytest

from crypto.errors import HeaderError
from crypto.header import MAX_HEADER_BYTES, Header, Stanza, mac_input, with_mac

MAC = bytes(range(32))


def header_bytes(*stanzas: Stanza) -> bytes:
    return with_mac(mac_input(stanzas), MAC)


def parse(data: bytes) -> tuple[Header, bytes]:
    return Header.parse(io.BytesIO(data))


@pytest.mark.parametrize("size", [0, 1, 31, 32, 47, 48, 49, 96, 200])
def test_round_trip_for_every_body_size(size: int) -> None:
    stanza = Stanza.from_parts("grease", ["a", "!#$%&'*+"], bytes(range(size)))
    data = header_bytes(stanza) + b"payload"
    stream = io.BytesIO(data)
    header, covered = Header.parse(stream)
    assert header.stanzas == (stanza,)
    assert header.mac == MAC
    assert covered == data[: data.index(b"---") + 3]
    assert header.size == len(data) - len(b"payload")
    assert stream.read() == b"payload"  # parsing stops right after the MAC line


def test_body_encoding_ends_on_a_short_line() -> None:
    assert Stanza.from_parts("t", [], b"").encode() == b"-> t\n\n"
    assert Stanza.from_parts("t", [], bytes(48)).encode() == b"-> t\n" + b"A" * 64 + b"\n\n"
    assert Stanza.from_parts("t", ["x"], bytes(32)).encode() == b"-> t x\n" + b"A" * 43 + b"\n"


def test_the_mac_covers_the_bytes_as_read() -> None:
    text = b"age-encryption.org/v1\n-> a b\nAAAA\n--- " + b"A" * 43 + b"\n"
    header, covered = parse(text)
    assert covered == b"age-encryption.org/v1\n-> a b\nAAAA\n---"
    assert header.stanzas == (Stanza("a", ("b",), bytes(3)),)


def test_several_stanzas_keep_their_order() -> None:
    stanzas = [Stanza.from_parts(f"type{i}", [str(i)], bytes([i]) * i) for i in range(5)]
    header, _ = parse(header_bytes(*stanzas))
    assert header.stanzas == tuple(stanzas)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("empty", b""),
        ("version", b"age-encryption.org/v2\n-> a\n\n--- " + b"A" * 43 + b"\n"),
        ("not age", b"hello\n"),
        ("no stanza", b"age-encryption.org/v1\n--- " + b"A" * 43 + b"\n"),
        ("crlf", b"age-encryption.org/v1\r\n-> a\n\n--- " + b"A" * 43 + b"\n"),
        ("cr in body", b"age-encryption.org/v1\n-> a\nAA\r\n--- " + b"A" * 43 + b"\n"),
        ("double space", b"age-encryption.org/v1\n-> a  b\n\n--- " + b"A" * 43 + b"\n"),
        ("trailing space", b"age-encryption.org/v1\n-> a \n\n--- " + b"A" * 43 + b"\n"),
        ("no argument", b"age-encryption.org/v1\n-> \n\n--- " + b"A" * 43 + b"\n"),
        ("control byte", b"age-encryption.org/v1\n-> a\x7f\n\n--- " + b"A" * 43 + b"\n"),
        ("high byte", b"age-encryption.org/v1\n-> \xc3\xa9\n\n--- " + b"A" * 43 + b"\n"),
        ("bad start", b"age-encryption.org/v1\n->a\n\n--- " + b"A" * 43 + b"\n"),
        (
            "long body line",
            b"age-encryption.org/v1\n-> a\n" + b"A" * 65 + b"\n\n--- " + b"A" * 43 + b"\n",
        ),
        (
            "missing short line",
            b"age-encryption.org/v1\n-> a\n" + b"A" * 64 + b"\n--- " + b"A" * 43 + b"\n",
        ),
        ("padding", b"age-encryption.org/v1\n-> a\nAA==\n--- " + b"A" * 43 + b"\n"),
        ("non-canonical", b"age-encryption.org/v1\n-> a\nAB\n--- " + b"A" * 43 + b"\n"),
        ("bad length", b"age-encryption.org/v1\n-> a\nAAAAA\n--- " + b"A" * 43 + b"\n"),
        ("two short lines", b"age-encryption.org/v1\n-> a\nAA\nAA\n--- " + b"A" * 43 + b"\n"),
        ("no mac space", b"age-encryption.org/v1\n-> a\n\n---" + b"A" * 43 + b"\n"),
        ("short mac", b"age-encryption.org/v1\n-> a\n\n--- " + b"A" * 42 + b"\n"),
        ("mac trailing space", b"age-encryption.org/v1\n-> a\n\n--- " + b"A" * 43 + b" \n"),
        ("mac not canonical", b"age-encryption.org/v1\n-> a\n\n--- " + b"A" * 42 + b"B\n"),
        ("truncated", b"age-encryption.org/v1\n-> a\n\n--- " + b"A" * 43),
        ("no end", b"age-encryption.org/v1\n-> a\n"),
    ],
)
def test_malformed_headers_are_header_errors(name: str, text: bytes) -> None:
    with pytest.raises(HeaderError):
        parse(text)


def test_limits_stop_unbounded_reads() -> None:
    with pytest.raises(HeaderError, match="too long"):
        parse(b"age-encryption.org/v1\n-> " + b"a" * 10_000 + b"\n")
    many = b"".join(Stanza.from_parts("g", ["x" * 4000], b"").encode() for _ in range(300))
    assert len(many) > MAX_HEADER_BYTES
    with pytest.raises(HeaderError, match="too large"):
        parse(b"age-encryption.org/v1\n" + many)


@pytest.mark.parametrize("arg", ["", "a b", "é", "tab\t", "\x7f"])
def test_stanzas_to_write_are_checked(arg: str) -> None:
    with pytest.raises(ValueError, match="invalid stanza argument"):
        Stanza.from_parts("t", [arg], b"")
    with pytest.raises(ValueError, match="invalid stanza argument"):
        Stanza.from_parts(arg, [], b"")


def test_a_header_needs_a_stanza() -> None:
    with pytest.raises(ValueError, match="at least one stanza"):
        mac_input([])
