"""The age v1 header grammar: parse it strictly from a stream, serialize it canonically.

This module knows text and bytes only: no keys, no PyNaCl, no files. The MAC is computed by the
caller over the exact bytes `Header.parse` returns, never over a re-serialised header.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from crypto._encoding import B64_ALPHABET, b64decode, b64encode
from crypto.errors import HeaderError

__all__ = [
    "MAX_HEADER_BYTES",
    "Header",
    "Identity",
    "LineReader",
    "Recipient",
    "Stanza",
    "mac_input",
    "with_mac",
]

VERSION_LINE = b"age-encryption.org/v1\n"
_VERSION_PREFIX = b"age-encryption.org/"
_STANZA_PREFIX = b"-> "
_MAC_PREFIX = b"---"
_BODY_COLUMNS = 64
_MAC_B64_LEN = 43  # 32 bytes, unpadded
# Limits keep a hostile header from making us buffer without end. Real headers are a few hundred
# bytes (98 per X25519 recipient); the post-quantum stanza's argument is about 1.5 KB.
MAX_LINE_BYTES = 8 * 1024
MAX_HEADER_BYTES = 1024 * 1024
_ARG_BYTES = frozenset(range(0x21, 0x7F))


class LineReader(Protocol):
    """What the parser needs from a binary stream (any `BinaryIO` has it)."""

    def readline(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: a type, its further arguments, and the decoded body."""

    type: str
    args: tuple[str, ...]
    body: bytes

    @classmethod
    def from_parts(cls, type_: str, args: Sequence[str], body: bytes) -> Stanza:
        """Build a stanza to write, checking every argument is 1+ printable ASCII characters."""
        for arg in (type_, *args):
            raw = arg.encode("utf-8")
            if not raw or not _ARG_BYTES.issuperset(raw):
                raise ValueError(f"invalid stanza argument {arg!r}")
        return cls(type_, tuple(args), bytes(body))

    def fixed_arg(self, index: int, size: int, what: str) -> bytes:
        """Argument `index` decoded from canonical base64, which must give exactly `size` bytes.

        Raises HeaderError naming `what` when it does not.
        """
        try:
            raw = b64decode(self.args[index])
        except ValueError as exc:
            raise HeaderError(f"{what} is not canonical base64") from exc
        if len(raw) != size:
            raise HeaderError(f"{what} is not {size} bytes")
        return raw

    def encode(self) -> bytes:
        """The stanza's lines: `-> type args` then 64-column base64, ending on a short line."""
        text = b64encode(self.body)
        lines = [" ".join(("->", self.type, *self.args))]
        lines += [text[i : i + _BODY_COLUMNS] for i in range(0, len(text), _BODY_COLUMNS)]
        if len(text) % _BODY_COLUMNS == 0:
            lines.append("")  # the body always ends on a line shorter than 64 columns
        return ("\n".join(lines) + "\n").encode("ascii")


class Recipient(Protocol):
    """Something a file key can be wrapped to: it yields the stanzas for one header."""

    def wrap(self, file_key: bytes) -> list[Stanza]: ...


class Identity(Protocol):
    """Something that may unwrap a file key from a header's stanzas.

    `unwrap` returns the file key, or None when no stanza is for this identity. It raises
    `HeaderError` when a stanza of its own type is malformed: that fails the whole file.
    """

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None: ...


def mac_input(stanzas: Sequence[Stanza]) -> bytes:
    """The header bytes the MAC covers: version line, stanzas, and `---` (not the space after)."""
    if not stanzas:
        raise ValueError("a header needs at least one stanza")
    return VERSION_LINE + b"".join(s.encode() for s in stanzas) + _MAC_PREFIX


def with_mac(covered: bytes, mac: bytes) -> bytes:
    """Complete a header from `mac_input(...)` output and its 32-byte MAC."""
    return covered + b" " + b64encode(mac).encode("ascii") + b"\n"


@dataclass(frozen=True)
class Header:
    """A parsed header. `size` is its length in bytes, up to and including the MAC line's LF."""

    stanzas: tuple[Stanza, ...]
    mac: bytes
    size: int

    @classmethod
    def parse(cls, stream: LineReader) -> tuple[Header, bytes]:
        """Read one header from `stream`; return it and the exact bytes the MAC covers.

        Reads up to the LF that ends the MAC line and no further. Raises `HeaderError` on any
        deviation from the grammar: that is the only exception it raises on hostile input.
        """
        reader = _Lines(stream)
        first = reader.next_line()
        if first != VERSION_LINE:
            if first.startswith(_VERSION_PREFIX):
                raise HeaderError("unsupported age format version")
            raise HeaderError("not an age file: the first line is not the version line")
        stanzas: list[Stanza] = []
        while True:
            line = reader.next_line()
            if line.startswith(_STANZA_PREFIX):
                stanzas.append(_parse_stanza(line, reader))
            elif line.startswith(_MAC_PREFIX):
                if not stanzas:
                    raise HeaderError("header has no recipient stanza")
                mac = _parse_mac_line(line)
                covered = reader.consumed()[: -len(line) + len(_MAC_PREFIX)]
                return cls(tuple(stanzas), mac, reader.size), covered
            else:
                raise HeaderError("header line starts with neither '-> ' nor '---'")


class _Lines:
    """Reads LF-terminated header lines, keeping every byte read for the MAC."""

    def __init__(self, stream: LineReader) -> None:
        self._stream = stream
        self._parts: list[bytes] = []
        self.size = 0

    def next_line(self) -> bytes:
        line = self._stream.readline(MAX_LINE_BYTES + 1)
        if not line.endswith(b"\n"):
            if len(line) > MAX_LINE_BYTES:
                raise HeaderError("header line too long")
            raise HeaderError("header ends before its MAC line" if self._parts else "empty file")
        if b"\r" in line:
            raise HeaderError("carriage return in the header (CRLF line endings?)")
        self.size += len(line)
        if self.size > MAX_HEADER_BYTES:
            raise HeaderError("header too large")
        self._parts.append(line)
        return line

    def consumed(self) -> bytes:
        return b"".join(self._parts)


def _parse_stanza(line: bytes, reader: _Lines) -> Stanza:
    args = line[len(_STANZA_PREFIX) : -1].split(b" ")
    for arg in args:
        if not arg or not _ARG_BYTES.issuperset(arg):
            raise HeaderError("stanza argument empty or with a byte outside 0x21-0x7E")
    body = bytearray()
    while True:
        chunk = reader.next_line()[:-1]
        if len(chunk) > _BODY_COLUMNS:
            raise HeaderError("stanza body line longer than 64 columns")
        if not B64_ALPHABET.issuperset(chunk):
            raise HeaderError("stanza body is not unpadded base64")
        body += chunk
        if len(chunk) < _BODY_COLUMNS:
            break
    try:
        decoded = b64decode(bytes(body))
    except ValueError as exc:
        raise HeaderError("stanza body is not canonical base64") from exc
    strs = [a.decode("ascii") for a in args]
    return Stanza(strs[0], tuple(strs[1:]), decoded)


def _parse_mac_line(line: bytes) -> bytes:
    text = line[len(_MAC_PREFIX) : -1]
    if len(text) != 1 + _MAC_B64_LEN or not text.startswith(b" "):
        raise HeaderError("malformed MAC line")
    try:
        return b64decode(text[1:])
    except ValueError as exc:
        raise HeaderError("MAC is not canonical base64") from exc
