"""The STREAM payload: 64 KiB chunks under ChaCha20-Poly1305, sealed and opened in parallel batches.

This module takes a 32-byte payload key and knows nothing of headers or recipients. Chunks are
independent, and PyNaCl releases the GIL inside libsodium, so batches of chunks run on two worker
threads. Workers take turns, strictly in batch order, for the one step that must be sequential
(writing sealed output, or reading sealed input), so I/O overlaps with the crypto. A fixed number
of batches is in flight, so memory stays bounded (a few MiB) whatever the payload size. A
payload of a single batch never starts a thread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial

from nacl.bindings import (
    crypto_aead_chacha20poly1305_ietf_decrypt,
    crypto_aead_chacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError as _NaclCryptoError

from crypto._lanes import Lanes, Turns
from crypto.errors import PayloadError

__all__ = [
    "CHUNK_SIZE",
    "SEALED_CHUNK_SIZE",
    "TAG_SIZE",
    "StreamWriter",
    "chunk_nonce",
    "open_payload",
]

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
# 8 chunks (512 KiB) per batch amortises the hand-off to a worker; 3 batches in flight keep both
# workers busy while the caller does I/O. Together they bound the buffered data to about 3 MiB.
BATCH_CHUNKS = 8
MAX_IN_FLIGHT = 3
_COUNTER_LIMIT = 1 << 88  # the nonce holds an 11-byte big-endian chunk counter


def chunk_nonce(index: int, *, last: bool) -> bytes:
    """The 12-byte nonce of chunk `index`: the counter, then 1 for the final chunk, else 0."""
    if not 0 <= index < _COUNTER_LIMIT:
        # Unreachable in practice (2^88 chunks), but a wrapped counter would reuse nonces.
        raise PayloadError("STREAM chunk counter out of range")
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class StreamWriter:
    """Seals a payload pushed in pieces of any size; `finish()` seals the final chunk.

    One chunk is always held back until more data arrives, because only then is it known not to
    be the last: a payload of exactly n x 64 KiB ends on a full chunk marked final, never on an
    extra empty one. Workers seal whole batches and hand them to `sink` strictly in order (the
    sink is called from worker threads, one call at a time); errors surface on a later `write`
    or on `finish`.
    """

    def __init__(self, key: bytes, sink: Callable[[bytes], object]) -> None:
        if len(key) != 32:
            raise ValueError("the payload key is 32 bytes")
        self._key = key
        self._sink = sink
        self._tail = bytearray()  # held-back plaintext, at most one chunk
        self._batch: list[bytes] = []
        self._next_index = 0
        self._batches = 0
        self._inflight: deque[Future[None]] = deque()
        self._lanes = Lanes()
        self._turns = Turns()
        self._closed = False
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Accept plaintext; returns its length. Seals and emits whole chunks as they fill."""
        if self._closed:
            raise ValueError("write to a finished or aborted payload writer")
        view = memoryview(data).cast("B")
        length = len(view)
        self.size += length
        tail = self._tail
        pos = CHUNK_SIZE - len(tail)
        if length <= pos:  # still fits in the held-back chunk: nothing can be sealed yet
            tail += view
            return length
        if tail:
            tail += view[:pos]
            self._emit(bytes(tail))
            tail.clear()
        else:
            pos = 0
        while length - pos > CHUNK_SIZE:  # more data follows, so these chunks are not final
            self._emit(bytes(view[pos : pos + CHUNK_SIZE]))
            pos += CHUNK_SIZE
        tail += view[pos:]
        return length

    def finish(self) -> None:
        """Seal the held-back data as the final chunk and flush everything to the sink."""
        if self._closed:
            raise ValueError("payload writer already finished or aborted")
        self._closed = True
        try:
            self._batch.append(bytes(self._tail))
            self._tail.clear()
            self._submit(final=True)
            while self._inflight:
                self._inflight.popleft().result()
        finally:
            self._lanes.close()

    def abort(self) -> None:
        """Stop without writing a final chunk; the output is then not a valid payload."""
        self._closed = True
        self._turns.failed = True  # jobs still running skip their output
        self._inflight.clear()
        self._lanes.close()

    def _emit(self, chunk: bytes) -> None:
        self._batch.append(chunk)
        if len(self._batch) == BATCH_CHUNKS:
            self._submit(final=False)

    def _submit(self, *, final: bool) -> None:
        batch, self._batch = self._batch, []
        job = partial(self._seal, self._batches, self._next_index, batch, final)
        self._batches += 1
        self._next_index += len(batch)
        inflight = self._inflight
        inflight.append(self._lanes.run(job, inline=final and not inflight))
        while inflight and (len(inflight) > MAX_IN_FLIGHT or inflight[0].done()):
            inflight.popleft().result()

    def _seal(self, number: int, start: int, chunks: list[bytes], final: bool) -> None:
        last = len(chunks) - 1
        sealed = [
            crypto_aead_chacha20poly1305_ietf_encrypt(
                chunk, None, chunk_nonce(start + i, last=final and i == last), self._key
            )
            for i, chunk in enumerate(chunks)
        ]
        with self._turns.turn(number):
            if not self._turns.failed:
                for piece in sealed:
                    self._sink(piece)


@dataclass(frozen=True)
class _Opened:
    chunks: int  # how many chunks this batch read
    plaintexts: list[bytes]
    final: bool = False  # the last plaintext came from the chunk marked final
    trailing: bool = False  # more chunks followed the final one in this batch
    error: str | None = None  # why the chunk after `plaintexts` was refused


def _open_chunk(key: bytes, index: int, chunk: bytes, *, last: bool) -> bytes | None:
    try:
        return crypto_aead_chacha20poly1305_ietf_decrypt(
            chunk, None, chunk_nonce(index, last=last), key
        )
    except _NaclCryptoError:
        return None


def _open_batch(key: bytes, start: int, chunks: list[bytes]) -> _Opened:
    out: list[bytes] = []
    for i, chunk in enumerate(chunks):
        index = start + i
        if len(chunk) < TAG_SIZE:
            return _Opened(len(chunks), out, error="truncated chunk")
        if len(chunk) == TAG_SIZE and index > 0:
            return _Opened(len(chunks), out, error="empty final chunk after data")
        # A full chunk is normally not the last; a short one must be (it ended at EOF).
        if len(chunk) == SEALED_CHUNK_SIZE:
            plain = _open_chunk(key, index, chunk, last=False)
            if plain is not None:
                out.append(plain)
                continue
        plain = _open_chunk(key, index, chunk, last=True)
        if plain is None:
            return _Opened(len(chunks), out, error=f"chunk {index} is not authentic")
        out.append(plain)
        return _Opened(len(chunks), out, final=True, trailing=i + 1 < len(chunks))
    return _Opened(len(chunks), out)


def _read_exact(read: Callable[[int], bytes], size: int) -> bytes:
    data = read(size)
    if 0 < len(data) < size:  # a pipe or raw file may return short reads before EOF
        parts = [data]
        while size > (got := sum(map(len, parts))) and (more := read(size - got)):
            parts.append(more)
        data = b"".join(parts)
    return data


class _Opener:
    """Workers take turns reading batches of chunks, then open them in parallel."""

    def __init__(self, read: Callable[[int], bytes], key: bytes) -> None:
        self._read = read
        self._key = key
        self._next_index = 0
        self._turns = Turns()
        self.eof = False

    def job(self, number: int) -> _Opened:
        with self._turns.turn(number):
            chunks: list[bytes] = []
            while len(chunks) < BATCH_CHUNKS and not (self.eof or self._turns.failed):
                chunk = _read_exact(self._read, SEALED_CHUNK_SIZE)
                self.eof = len(chunk) < SEALED_CHUNK_SIZE
                if chunk:
                    chunks.append(chunk)
            start = self._next_index
            self._next_index += len(chunks)
        return _open_batch(self._key, start, chunks)

    def has_more(self) -> bool:
        """Whether input follows (called only once no job is running)."""
        return not self.eof and bool(self._read(1))


def open_payload(read: Callable[[int], bytes], key: bytes) -> Generator[bytes, None, None]:
    """Yield the plaintext of each chunk, in order, only once that chunk has authenticated.

    `read(n)` returns up to n bytes, and b"" at EOF; it is called from worker threads, one call
    at a time. Raises `PayloadError` when a chunk fails, when the input ends before a final
    chunk, or when anything follows the final chunk; in the last case the final chunk's
    (authentic) plaintext was already yielded, as age does. Callers must treat all output as
    void when this raises.
    """
    if len(key) != 32:
        raise ValueError("the payload key is 32 bytes")
    opener = _Opener(read, key)
    lanes = Lanes()
    inflight: deque[Future[_Opened]] = deque()
    number = 0
    try:
        while True:
            while not opener.eof and len(inflight) < MAX_IN_FLIGHT:
                # The first batch runs here: a small payload then never starts a thread.
                inflight.append(lanes.run(partial(opener.job, number), inline=number == 0))
                number += 1
            if not inflight:
                raise PayloadError("the payload ends before its final chunk")
            opened = inflight.popleft().result()
            yield from opened.plaintexts
            if opened.error is not None:
                raise PayloadError(opened.error)
            if opened.final:
                later = sum(job.result().chunks for job in inflight)
                if opened.trailing or later or opener.has_more():
                    raise PayloadError("data after the final chunk")
                return
    finally:
        lanes.close()
