"""Sealing and opening age v1 files: the header, recipients, armor and payload put together."""

from __future__ import annotations

import hmac
import io
import os
import tempfile
from collections.abc import Generator, Sequence
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from crypto import kdf, scrypt
from crypto._source import Source, sniff
from crypto.armor import ArmorReader, ArmorWriter, looks_armored
from crypto.errors import ArmorError, HeaderError, MacError, NoIdentityMatchError
from crypto.header import MAX_LINE_BYTES, Header, Identity, Recipient, mac_input, with_mac
from crypto.stream import ReadInto, StreamWriter, open_payload, open_payload_to

__all__ = [
    "PAYLOAD_NONCE_SIZE",
    "Sealer",
    "header_for_file_key",
    "open_bytes",
    "open_into",
    "open_stream",
    "open_to_file",
    "rewrap_header",
    "seal_bytes",
]

PAYLOAD_NONCE_SIZE = 16


def header_for_file_key(file_key: bytes, recipients: Sequence[Recipient]) -> bytes:
    """A complete header (stanzas and MAC) wrapping `file_key` to each recipient.

    Raises `ValueError` for no recipients, or a passphrase recipient mixed with others (age
    readers refuse such files, and a passphrase next to a key would weaken the key's guarantee).
    """
    if len(file_key) != kdf.FILE_KEY_SIZE:
        raise ValueError("a file key is 16 bytes")
    stanzas = [stanza for recipient in recipients for stanza in recipient.wrap(file_key)]
    if not stanzas:
        raise ValueError("at least one recipient is needed")
    if len(stanzas) > 1 and any(s.type == scrypt.STANZA_TYPE for s in stanzas):
        raise ValueError("a passphrase (scrypt) recipient must be the only recipient")
    covered = mac_input(stanzas)
    return with_mac(covered, kdf.header_mac(file_key, covered))


class Sealer:
    """A writable file object that seals what is written to it into `out`, as an age file.

    The header and payload nonce are written at once; plaintext is sealed as it arrives and
    nothing is kept beyond a few batches of chunks. Sealed data reaches `out.write` from worker
    threads (one call at a time, in order) in buffers that are reused once it returns, as any
    `write` may assume. Call `finish()` (or leave the `with` block normally) to write the final
    chunk; `out` is never closed here. `close()` without `finish()` abandons the file, leaving
    output that no reader accepts.
    """

    def __init__(
        self, out: BinaryIO, recipients: Sequence[Recipient], *, armor: bool = False
    ) -> None:
        self.file_key = os.urandom(kdf.FILE_KEY_SIZE)
        head = header_for_file_key(self.file_key, recipients)
        nonce = os.urandom(PAYLOAD_NONCE_SIZE)
        self._armor = ArmorWriter(out) if armor else None
        sink = self._armor.write if self._armor is not None else out.write
        sink(memoryview(head + nonce))
        self._payload = StreamWriter(kdf.payload_key(self.file_key, nonce), sink)
        self._state = "open"

    @property
    def plaintext_size(self) -> int:
        """Plaintext bytes accepted so far."""
        return self._payload.size

    @property
    def closed(self) -> bool:
        return self._state != "open"

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Seal `data`; returns its length."""
        return self._payload.write(data)

    def tell(self) -> int:
        """The plaintext position, which is the plaintext size: sealing only appends."""
        return self._payload.size

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Accept `seek(0)` and seeks to the current position, moving nothing.

        Werkzeug's multipart parser calls `seek(0)` on each file stream after writing the
        part's last chunk, so that the application can read it from the start. Sealed output
        cannot be read back and must never be rewritten, so that call is accepted and ignored;
        any other move raises `io.UnsupportedOperation`.
        """
        here = self._payload.size
        target = {io.SEEK_SET: offset, io.SEEK_CUR: here + offset, io.SEEK_END: here + offset}
        if (offset, whence) != (0, io.SEEK_SET) and target.get(whence) != here:
            raise io.UnsupportedOperation("a Sealer only appends")
        return here

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return not self.closed

    def readable(self) -> bool:
        return False

    def flush(self) -> None:
        """Nothing to do: sealed chunks reach `out` as soon as they are ready."""

    def finish(self) -> None:
        """Write the final chunk (and the armor's END line). Does not close `out`."""
        if self._state != "open":
            raise ValueError(f"cannot finish a sealer that is {self._state}")
        self._payload.finish()
        if self._armor is not None:
            self._armor.finish()
        self._state = "finished"

    def close(self) -> None:
        """Abandon the file unless `finish()` was called; idempotent."""
        if self._state == "open":
            self._payload.abort()
            self._state = "aborted"

    def __enter__(self) -> Sealer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.close()


def seal_bytes(data: bytes, recipients: Sequence[Recipient], *, armor: bool = False) -> bytes:
    """Seal `data` in memory."""
    out = io.BytesIO()
    with Sealer(out, recipients, armor=armor) as sealer:
        sealer.write(data)
    return out.getvalue()


def _unlock(source: Source | ArmorReader, identities: Sequence[Identity]) -> tuple[bytes, Header]:
    """Parse the header, unwrap the file key and verify the MAC over the bytes as read."""
    header, covered = Header.parse(source)
    if len(header.stanzas) > 1 and any(s.type == scrypt.STANZA_TYPE for s in header.stanzas):
        raise HeaderError("an scrypt stanza must be the only stanza in the header")
    for identity in identities:
        file_key = identity.unwrap(header.stanzas)
        if file_key is not None:
            break
    else:
        raise NoIdentityMatchError("no identity matched any of the file's recipients")
    if not hmac.compare_digest(kdf.header_mac(file_key, covered), header.mac):
        raise MacError("header MAC does not verify: the header was altered")
    return file_key, header


def _payload(
    inp: BinaryIO, identities: Sequence[Identity], armored: bool | None
) -> tuple[ReadInto, bytes]:
    """Read and check everything before the payload; return its reader and key."""
    source, _ = sniff(inp, armored)
    file_key, _ = _unlock(source, identities)
    nonce = b""
    # Pipes, sockets and raw files may return fewer bytes than asked: loop until EOF.
    while len(nonce) < PAYLOAD_NONCE_SIZE and (
        more := source.read(PAYLOAD_NONCE_SIZE - len(nonce))
    ):
        nonce += more
    if len(nonce) != PAYLOAD_NONCE_SIZE:
        raise HeaderError("the payload nonce is missing or short")
    return source.readinto, kdf.payload_key(file_key, nonce)


def open_stream(
    inp: BinaryIO, identities: Sequence[Identity], *, armored: bool | None = None
) -> Generator[bytes, None, None]:
    """Open an age file (binary, or armored: detected unless `armored` says) as it streams.

    The header is read and checked before this returns, so `HeaderError`, `ArmorError`,
    `NoIdentityMatchError` and `MacError` come from the call itself. The generator then yields
    plaintext (a batch of chunks at a time) only once it authenticated, and raises
    `PayloadError` (or `ArmorError`) at the first bad chunk: callers must then discard
    everything received. Closing the generator early stops its worker threads.
    """
    return open_payload(*_payload(inp, identities, armored))


def open_into(
    inp: BinaryIO, identities: Sequence[Identity], out: BinaryIO, *, armored: bool | None = None
) -> int:
    """Open an age file into `out`; returns the plaintext size. Faster than `open_stream`.

    `out.write` is called from worker threads (one call at a time, in order) with buffers it
    must not keep, as any `write` may assume. Raises like `open_stream`: header errors before
    anything is written, payload errors after `out` received the chunks that authenticated.
    """
    readinto, key = _payload(inp, identities, armored)
    return open_payload_to(readinto, key, out.write)


def open_bytes(data: bytes, identities: Sequence[Identity]) -> bytes:
    """Open an age file held in memory; raises like `open_stream`."""
    out = io.BytesIO()
    open_into(io.BytesIO(data), identities, out)
    return out.getvalue()


def open_to_file(inp: BinaryIO, identities: Sequence[Identity], target: Path) -> int:
    """Open into `target` through a temporary file beside it; returns the plaintext size.

    `target` appears (atomically replacing any file there) only after the final chunk has
    authenticated; on any failure the temporary file is removed and nothing is left at `target`.
    """
    readinto, key = _payload(inp, identities, None)  # header errors: no file made at all
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            size = open_payload_to(readinto, key, out.write)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return size


def rewrap_header(
    inp: BinaryIO, identities: Sequence[Identity], new_recipients: Sequence[Recipient]
) -> tuple[bytes, int]:
    """A header for `new_recipients` carrying the same file key, and where the old one ended.

    The payload (which starts at the returned offset in `inp`) is not read: new header plus
    the old file from that offset on is the re-wrapped file. Binary files only (`ArmorError`
    for armor, whose offsets would mean nothing); otherwise raises like `open_stream`.
    """
    start = inp.tell() if inp.seekable() else 0
    first = inp.readline(MAX_LINE_BYTES + 1)
    if looks_armored(first):
        raise ArmorError("re-wrapping needs the binary file, not its armored form")
    file_key, header = _unlock(Source(inp, first), identities)
    return header_for_file_key(file_key, new_recipients), start + header.size
