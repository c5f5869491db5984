"""ASCII armor: the exact form we write, and a reader as strict as age's (see also the vectors)."""

from __future__ import annotations

import binascii
import io
import os

import pytest

from crypto.armor import BEGIN_LINE, END_LINE, ArmorReader, ArmorWriter, looks_armored
from crypto.errors import ArmorError


def armor(data: bytes, piece: int = 1 << 20) -> bytes:
    out = io.BytesIO()
    writer = ArmorWriter(out)
    for i in range(0, len(data), piece):
        writer.write(data[i : i + piece])
    writer.finish()
    writer.finish()  # idempotent
    return out.getvalue()


def dearmor(text: bytes, read_size: int = 4096) -> bytes:
    reader = ArmorReader(io.BytesIO(text).read)
    out = bytearray()
    while chunk := reader.read(read_size):
        out += chunk
    return bytes(out)


@pytest.mark.parametrize("size", [0, 1, 47, 48, 49, 96, 1000, 48 * 1024, 48 * 1024 + 1, 300_001])
def test_round_trip_and_exact_layout(size: int) -> None:
    data = os.urandom(size)
    text = armor(data, piece=777)
    lines = text.split(b"\n")
    assert lines[0] == BEGIN_LINE
    assert lines[-2:] == [END_LINE, b""]
    body = lines[1:-2]
    assert all(len(line) == 64 for line in body[:-1])
    assert not body or 0 < len(body[-1]) <= 64
    assert b"".join(body) == binascii.b2a_base64(data, newline=False)
    assert dearmor(text) == data


@pytest.mark.parametrize("size", [0, 100, 200_000])
def test_crlf_and_surrounding_whitespace_are_accepted(size: int) -> None:
    data = os.urandom(size)
    text = b" \t\r\n\n" + armor(data).replace(b"\n", b"\r\n") + b"\r\n \n"
    assert dearmor(text, read_size=65552) == data


def test_readline_gives_decoded_lines() -> None:
    reader = ArmorReader(io.BytesIO(armor(b"one\ntwo\nthree")).read)
    assert reader.readline() == b"one\n"
    assert reader.readline(2) == b"tw"
    assert reader.readline(-1) == b"o\n"
    assert reader.read() == b"three"
    assert reader.readline() == b""
    assert reader.read(10) == b""


def test_whitespace_around_the_armor_is_bounded() -> None:
    text = armor(b"data")
    assert dearmor(b"\n" * 1000 + text + b" " * 1000) == b"data"
    with pytest.raises(ArmorError, match="before"):
        dearmor(b"\n" * 1025 + text)
    with pytest.raises(ArmorError, match="after"):
        dearmor(text + b" " * 1024)


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"   \n",
        BEGIN_LINE + b"\n",
        BEGIN_LINE + b"\n" + b"A" * 5000,
        BEGIN_LINE + b"\nAAAA\n",
        BEGIN_LINE + b"\nAAAA\nAAAA\n" + END_LINE,
        BEGIN_LINE + b"\n" + b"A" * 64 + b"\n\n" + END_LINE,
        BEGIN_LINE + b"\n" + b"A" * 68 + b"\n" + END_LINE,
        BEGIN_LINE + b"\nAAA\n" + END_LINE,
        BEGIN_LINE + b"\nAB==\n" + END_LINE,
        BEGIN_LINE + b"\n" + b"A" * 60 + b"A=AA\n" + b"A" * 64 + b"\n" + END_LINE,
        BEGIN_LINE + b"\n" + b"A" * 63 + b"\r\n\r\n" + END_LINE,
        BEGIN_LINE + b"\nAAAA\r\r\n" + END_LINE,
        b"-----BEGIN AGE ENCRYPTED FILE----- \nAAAA\n" + END_LINE,
        BEGIN_LINE + b"\nAAAA\n" + END_LINE + b"\nx",
    ],
)
def test_malformed_armor_is_an_armor_error(text: bytes) -> None:
    with pytest.raises(ArmorError):
        dearmor(text)


def test_a_padded_full_line_must_be_the_last() -> None:
    line = binascii.b2a_base64(bytes(46), newline=False)  # 64 characters, ending in "=="
    assert len(line) == 64
    assert dearmor(BEGIN_LINE + b"\n" + line + b"\n" + END_LINE + b"\n") == bytes(46)
    with pytest.raises(ArmorError, match="END"):
        dearmor(BEGIN_LINE + b"\n" + line + b"\nAAAA\n" + END_LINE + b"\n")


def test_detection() -> None:
    assert looks_armored(BEGIN_LINE + b"\n")
    assert looks_armored(b"  \r\n")
    assert not looks_armored(b"")
    assert not looks_armored(b"age-encryption.org/v1\n")


def test_writing_after_finish_is_refused() -> None:
    writer = ArmorWriter(io.BytesIO())
    writer.finish()
    with pytest.raises(ValueError, match="finished"):
        writer.write(b"x")
