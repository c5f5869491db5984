"""ASCII armor for age files: strict PEM (RFC 7468), `AGE ENCRYPTED FILE`, 64 columns, padded.

The reader accepts exactly what age's own reader accepts: optional whitespace around the block,
LF or CRLF line ends, and nothing else (no headers, no checksum, no empty or over-long lines,
no whitespace inside lines, canonical base64 only).
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from typing import Protocol

from crypto.errors import ArmorError

__all__ = ["BEGIN_LINE", "END_LINE", "ArmorReader", "ArmorWriter", "looks_armored"]

BEGIN_LINE = b"-----BEGIN AGE ENCRYPTED FILE-----"
END_LINE = b"-----END AGE ENCRYPTED FILE-----"
COLUMNS = 64
_LINE_BYTES = COLUMNS // 4 * 3  # 48 bytes of data per full line
_MAX_WHITESPACE = 1024  # age's bound on whitespace before and after the block
_MAX_LINE = 4096  # longer than any acceptable line; stops unbounded buffering
_READ_SIZE = 64 * 1024
_ENCODE_BLOCK = _LINE_BYTES * 1024


class _Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


def looks_armored(start: bytes) -> bool:
    """Whether input starting with `start` (its first line, say) should go to `ArmorReader`."""
    stripped = start.strip()
    return bool(start) and (not stripped or stripped.startswith(b"-----BEGIN"))


def _encode_lines(data: bytes | bytearray) -> bytes:
    text = binascii.b2a_base64(data, newline=False)
    return b"".join(text[i : i + COLUMNS] + b"\n" for i in range(0, len(text), COLUMNS))


class ArmorWriter:
    """Writes armor to `out` as binary data arrives; `finish()` writes the END line."""

    def __init__(self, out: _Sink) -> None:
        self._out = out
        self._pending = bytearray()
        self._finished = False
        out.write(BEGIN_LINE + b"\n")

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Buffer `data`, emitting whole 64-column lines; returns len(data)."""
        if self._finished:
            raise ValueError("write to a finished armor writer")
        self._pending += data
        if len(self._pending) >= _ENCODE_BLOCK:
            cut = len(self._pending) - len(self._pending) % _LINE_BYTES
            self._out.write(_encode_lines(self._pending[:cut]))
            del self._pending[:cut]
        return len(data)

    def finish(self) -> None:
        """Write the last (possibly short, padded) line and the END line. Does not close `out`."""
        if self._finished:
            return
        self._finished = True
        self._out.write(_encode_lines(self._pending) + END_LINE + b"\n")
        self._pending.clear()


class ArmorReader:
    """Decodes armor read through `read(n)`; offers `read` and `readline` on the binary content.

    Raises `ArmorError` on the first violation, possibly after earlier content was returned.
    """

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read
        self._raw = b""
        self._pos = 0
        self._raw_eof = False
        self._out = bytearray()
        self._state = "start"  # then "body", then "done"

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` decoded bytes (all if negative); fewer only at the end of the armor."""
        while (size < 0 or len(self._out) < size) and self._state != "done":
            self._decode_some()
        return self._take(len(self._out) if size < 0 else min(size, len(self._out)))

    def readinto(self, view: memoryview, /) -> int:
        """Decode up to len(view) bytes into `view`; returns how many (0 at the end)."""
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readline(self, size: int = -1, /) -> bytes:
        """One decoded line, at most `size` bytes."""
        limit = size if size >= 0 else 1 << 62
        while True:
            newline = self._out.find(b"\n", 0, limit)
            if newline >= 0:
                return self._take(newline + 1)
            if len(self._out) >= limit or self._state == "done":
                return self._take(min(limit, len(self._out)))
            self._decode_some()

    def _take(self, size: int) -> bytes:
        data = bytes(self._out[:size])
        del self._out[:size]
        return data

    def _decode_some(self) -> None:
        if self._state == "start":
            self._begin()
        elif not self._full_lines():
            self._one_line()

    def _begin(self) -> None:
        skipped = 0
        while True:
            line = self._next_line()
            if line is None:
                raise ArmorError("no BEGIN line")
            if line.strip():
                break
            skipped += len(line) + 1
            if skipped > _MAX_WHITESPACE:
                raise ArmorError("too much whitespace before the armor")
        if line != BEGIN_LINE:
            raise ArmorError("first line is not -----BEGIN AGE ENCRYPTED FILE-----")
        self._state = "body"

    def _full_lines(self) -> bool:
        """Fast path: decode the run of full 64-column lines already buffered, in one call."""
        end = self._raw.rfind(b"\n", self._pos)
        if end < 0:
            return False
        lines = self._raw[self._pos : end].split(b"\n")
        has_cr = b"\r" in self._raw[self._pos : end]
        clean = [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines] if has_cr else lines
        count = next((i for i, ln in enumerate(clean) if len(ln) != COLUMNS), len(clean))
        text = b"".join(clean[:count])
        if b"=" in text:  # a padded line ends the data: leave it to the careful path
            count = text.index(b"=") // COLUMNS
            text = text[: count * COLUMNS]
        if count == 0:
            return False
        self._out += _decode(text)
        self._pos += sum(map(len, lines[:count])) + count
        return True

    def _one_line(self) -> None:
        line = self._next_line()
        if line is None:
            raise ArmorError("armor ends without an END line")
        if line != END_LINE:
            if not line:
                raise ArmorError("empty line in armor")
            if len(line) > COLUMNS:
                raise ArmorError("armor line longer than 64 columns")
            data = _decode(line)
            self._out += data
            if len(data) == _LINE_BYTES:
                return
            if self._next_line() != END_LINE:
                raise ArmorError("short armor line not followed by the END line")
        self._drain_trailing()

    def _drain_trailing(self) -> None:
        rest = self._raw[self._pos :]
        while len(rest) < _MAX_WHITESPACE and (more := self._read(_MAX_WHITESPACE - len(rest))):
            rest += more
        if rest.strip():
            raise ArmorError("data after the END line")
        if len(rest) >= _MAX_WHITESPACE:
            raise ArmorError("too much whitespace after the armor")
        self._raw, self._pos, self._state = b"", 0, "done"

    def _next_line(self) -> bytes | None:
        """The next input line without its LF and one CR; None at the end of the input."""
        while (newline := self._raw.find(b"\n", self._pos)) < 0 and not self._raw_eof:
            if len(self._raw) - self._pos > _MAX_LINE:
                raise ArmorError("armor line too long")
            more = self._read(_READ_SIZE)
            self._raw = self._raw[self._pos :] + more
            self._pos = 0
            self._raw_eof = not more
        if newline < 0:
            if self._pos == len(self._raw):
                return None
            newline = len(self._raw)  # the last line may lack its LF
        line = self._raw[self._pos : newline]
        self._pos = newline + 1
        return line[:-1] if line.endswith(b"\r") else line


def _decode(text: bytes) -> bytes:
    """Strict padded base64 whose re-encoding is identical (canonical, no stray characters)."""
    try:
        data = binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error as exc:
        raise ArmorError("invalid base64 in armor") from exc
    # Only a padded final group can carry non-zero unused bits; full groups are always canonical.
    if text.endswith(b"=") and binascii.b2a_base64(data, newline=False) != text:
        raise ArmorError("non-canonical base64 in armor")
    return data
