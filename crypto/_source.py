"""Input plumbing: a binary stream with pushed-back bytes, and armor detection."""

from __future__ import annotations

from typing import BinaryIO

from crypto.armor import ArmorReader, looks_armored
from crypto.header import MAX_LINE_BYTES


class Source:
    """A binary stream with bytes pushed back in front of it (those read to sniff for armor)."""

    def __init__(self, stream: BinaryIO, prefix: bytes) -> None:
        self._stream = stream
        self._prefix = prefix

    def read(self, size: int = -1, /) -> bytes:
        if not self._prefix:
            return self._stream.read(size)
        data, self._prefix = self._prefix, b""
        if size < 0:
            return data + self._stream.read()
        if len(data) >= size:
            data, self._prefix = data[:size], data[size:]
            return data
        return data + self._stream.read(size - len(data))

    def readinto(self, view: memoryview, /) -> int:
        """Fill up to len(view) bytes from the stream, without an intermediate copy if it can."""
        if self._prefix or not hasattr(self._stream, "readinto"):
            data = self.read(len(view))
            view[: len(data)] = data
            return len(data)
        return self._stream.readinto(view) or 0

    def readline(self, size: int = -1, /) -> bytes:
        if not self._prefix:
            return self._stream.readline(size)
        limit = len(self._prefix) if size < 0 else min(size, len(self._prefix))
        newline = self._prefix.find(b"\n", 0, limit)
        cut = limit if newline < 0 else newline + 1
        line, self._prefix = self._prefix[:cut], self._prefix[cut:]
        if newline < 0 and (size < 0 or len(line) < size):
            line += self._stream.readline(-1 if size < 0 else size - len(line))
        return line


def sniff(inp: BinaryIO, armored: bool | None) -> tuple[Source | ArmorReader, bool]:
    """The stream to read the binary age file from, and whether it was armored.

    With `armored` None, the first line decides: armor starts with `-----BEGIN` (after optional
    whitespace), a binary file with `age-encryption.org/`.
    """
    if armored is not None:
        source = Source(inp, b"")
        return (ArmorReader(source.read), True) if armored else (source, False)
    first = inp.readline(MAX_LINE_BYTES + 1)
    source = Source(inp, first)
    if looks_armored(first):
        return ArmorReader(source.read), True
    return source, False
