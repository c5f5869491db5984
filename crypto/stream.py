"""The STREAM payload: 64 KiB chunks under ChaCha20-Poly1305, sealed and opened in parallel batches.

This module takes a 32-byte payload key and knows nothing of headers or recipients. Chunks are
independent, and libsodium runs without the GIL, so batches of chunks are sealed or opened on two
worker threads. Workers take turns, strictly in batch order, for the steps that must be
sequential (reading sealed input, writing output), so I/O overlaps with the crypto. Batches live
in a few reusable buffers and a fixed number are in flight, so memory stays bounded (a few MiB)
whatever the payload size. A payload of a single batch never starts a thread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from functools import partial

from crypto._aead import TAG_SIZE, open_into, seal_into
from crypto._lanes import Buffers, Lanes, Turns
from crypto.errors import PayloadError

__all__ = [
    "CHUNK_SIZE",
    "SEALED_CHUNK_SIZE",
    "TAG_SIZE",
    "ReadInto",
    "Sink",
    "StreamWriter",
    "chunk_nonce",
    "open_payload",
    "open_payload_to",
]

CHUNK_SIZE = 64 * 1024
SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
# 8 chunks (512 KiB) per batch amortise the hand-off to a worker; 3 batches in flight keep both
# workers busy while the other step does I/O. Together they bound buffers to a few MiB.
BATCH_CHUNKS = 8
BATCH_BYTES = BATCH_CHUNKS * SEALED_CHUNK_SIZE
MAX_IN_FLIGHT = 3
_COUNTER_LIMIT = 1 << 88  # the nonce holds an 11-byte big-endian chunk counter

ReadInto = Callable[[memoryview], int | None]
# Receives output from worker threads, one call at a time, in order. Like any `write()`, it
# must not keep the buffer it is given once it returns: the buffer is reused.
Sink = Callable[[memoryview], object]


def chunk_nonce(index: int, *, last: bool) -> bytes:
    """The 12-byte nonce of chunk `index`: the counter, then 1 for the final chunk, else 0."""
    if not 0 <= index < _COUNTER_LIMIT:
        # Unreachable in practice (2^88 chunks), but a wrapped counter would reuse nonces.
        raise PayloadError("STREAM chunk counter out of range")
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class StreamWriter:
    """Seals a payload pushed in pieces of any size; `finish()` seals the final chunk.

    Whole chunks inside a `bytes` argument are sealed straight from it (it cannot change);
    anything else is copied once, into the batch buffer, and sealed in place. The chunk being
    filled is sealed only once more data arrives, because only then is it known not to be the
    last: a payload of n x 64 KiB ends on a full chunk marked final, never on an extra empty
    one. Sink errors surface on a later `write` or on `finish`.
    """

    def __init__(self, key: bytes, sink: Sink) -> None:
        if len(key) != 32:
            raise ValueError("the payload key is 32 bytes")
        self._key = key
        self._sink = sink
        self._buffers = Buffers(BATCH_BYTES, MAX_IN_FLIGHT + 1)
        self._buf = self._buffers.take()
        # Where each chunk of the batch comes from: (bytes, offset), or None for the buffer.
        self._sources: list[tuple[bytes, int] | None] = [None]
        self._fill = 0  # plaintext bytes in the chunk being filled (the last source)
        self._next_index = 0
        self._batches = 0
        self._inflight: deque[Future[None]] = deque()
        self._lanes = Lanes()
        self._turns = Turns()
        self._closed = False
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Accept plaintext; returns its length."""
        if self._closed:
            raise ValueError("write to a finished or aborted payload writer")
        view = memoryview(data).cast("B")
        length = len(view)
        borrow = type(data) is bytes
        pos = 0
        while pos < length:
            if self._fill == CHUNK_SIZE:  # full, and more data is here: it is not the last
                self._next_chunk()
            if borrow and self._fill == 0 and length - pos >= CHUNK_SIZE:
                self._sources[-1] = (data, pos)  # type: ignore[assignment]  # bytes, checked
                self._fill = take = CHUNK_SIZE
            else:
                take = min(CHUNK_SIZE - self._fill, length - pos)
                at = (len(self._sources) - 1) * SEALED_CHUNK_SIZE + self._fill
                self._buf[at : at + take] = view[pos : pos + take]
                self._fill += take
            pos += take
        self.size += length
        return length

    def finish(self) -> None:
        """Seal the chunk being filled as the final chunk and flush everything to the sink."""
        if self._closed:
            raise ValueError("payload writer already finished or aborted")
        self._closed = True
        try:
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

    def _next_chunk(self) -> None:
        if len(self._sources) == BATCH_CHUNKS:
            self._submit(final=False)
        else:
            self._sources.append(None)
            self._fill = 0

    def _submit(self, *, final: bool) -> None:
        sizes = [CHUNK_SIZE] * (len(self._sources) - 1) + [self._fill]
        job = partial(
            self._seal, self._batches, self._next_index, self._buf, self._sources, sizes, final
        )
        self._batches += 1
        self._next_index += len(sizes)
        self._buf, self._sources, self._fill = self._buffers.take(), [None], 0
        inflight = self._inflight
        inflight.append(self._lanes.run(job, inline=final and not inflight))
        while inflight and (len(inflight) > MAX_IN_FLIGHT or inflight[0].done()):
            inflight.popleft().result()

    def _seal(
        self,
        number: int,
        start: int,
        buf: bytearray,
        sources: list[tuple[bytes, int] | None],
        sizes: list[int],
        final: bool,
    ) -> None:
        last = len(sizes) - 1
        for i, (source, size) in enumerate(zip(sources, sizes, strict=True)):
            at = i * SEALED_CHUNK_SIZE
            src, offset = source if source is not None else (buf, at)
            nonce = chunk_nonce(start + i, last=final and i == last)
            seal_into(buf, at, src, offset, size, nonce=nonce, key=self._key)
        with self._turns.turn(number):
            if not self._turns.failed:
                self._sink(memoryview(buf)[: last * SEALED_CHUNK_SIZE + sizes[-1] + TAG_SIZE])
        self._buffers.give(buf)


@dataclass(frozen=True)
class _Opened:
    chunks: int  # how many chunks this batch read
    size: int  # plaintext bytes of the chunks that authenticated, in order
    final: bool = False  # the last of them was the chunk marked final
    trailing: bool = False  # more chunks followed the final one in this batch
    error: str | None = None  # why the chunk after them was refused
    plaintext: bytes = b""  # a copy of that plaintext, when there is no sink


def _open_chunks(key: bytes, start: int, sealed: bytearray, size: int, out: bytearray) -> _Opened:
    """Open the chunks in sealed[:size] into `out`, stopping at a failure or the final chunk."""
    chunks = -(-size // SEALED_CHUNK_SIZE)
    done = 0
    for i in range(chunks):
        index, offset = start + i, i * SEALED_CHUNK_SIZE
        length = min(SEALED_CHUNK_SIZE, size - offset)
        error, final = None, False
        if length < TAG_SIZE:
            error = "truncated chunk"
        elif length == TAG_SIZE and index > 0:
            error = "empty final chunk after data"
        # A full chunk is normally not the last; a short one must be (it ended at EOF).
        elif not (
            length == SEALED_CHUNK_SIZE
            and open_into(out, done, sealed, offset, length, nonce=_middle(index), key=key)
        ):
            final = open_into(out, done, sealed, offset, length, nonce=_last(index), key=key)
            error = None if final else f"chunk {index} is not authentic"
        if error is None:
            done += length - TAG_SIZE
        if error is not None or final:
            return _Opened(chunks, done, final, i + 1 < chunks, error)
    return _Opened(chunks, done)


def _middle(index: int) -> bytes:
    return chunk_nonce(index, last=False)


def _last(index: int) -> bytes:
    return chunk_nonce(index, last=True)


def _read_full(readinto: ReadInto, view: memoryview) -> int:
    """Fill `view` unless EOF comes first; pipes and raw files may return short reads."""
    got = 0
    while got < len(view):
        count = readinto(view[got:])
        if not count:
            break
        got += count
    return got


class _Opener:
    """Workers take turns reading batches and open them in parallel. With a sink they take
    turns again to write what authenticated; without, the plaintext comes back as bytes."""

    def __init__(self, readinto: ReadInto, key: bytes, sink: Sink | None) -> None:
        self._readinto = readinto
        self._key = key
        self._sink = sink
        self._next_index = 0
        self._reads = Turns()
        self._writes = Turns()
        self._sealed = Buffers(BATCH_BYTES, MAX_IN_FLIGHT + 1)
        self._plain = Buffers(BATCH_CHUNKS * CHUNK_SIZE, MAX_IN_FLIGHT + 1)
        self.eof = False

    def job(self, number: int) -> _Opened:
        sealed, out = self._sealed.take(), self._plain.take()
        try:
            with self._reads.turn(number):
                size = 0
                if not (self.eof or self._reads.failed):
                    size = _read_full(self._readinto, memoryview(sealed))
                    self.eof = size < BATCH_BYTES
                start = self._next_index
                self._next_index += -(-size // SEALED_CHUNK_SIZE)
            opened = _open_chunks(self._key, start, sealed, size, out)
            if self._sink is None:
                return replace(opened, plaintext=bytes(memoryview(out)[: opened.size]))
            with self._writes.turn(number):
                if not self._writes.failed and opened.size:
                    self._sink(memoryview(out)[: opened.size])
                if opened.error is not None or opened.final:
                    self._writes.failed = True  # nothing after this batch may be written
            return opened
        finally:
            self._sealed.give(sealed)
            self._plain.give(out)

    def has_more(self) -> bool:
        """Whether input follows (called only once no job is running)."""
        return not self.eof and bool(self._readinto(memoryview(bytearray(1))))


def _run(opener: _Opener) -> Generator[_Opened, None, None]:
    """Keep a few jobs in flight; yield their results in order; enforce how the payload ends."""
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
            yield opened
            if opened.error is not None:
                raise PayloadError(opened.error)
            if opened.final:
                later = sum(job.result().chunks for job in inflight)
                if opened.trailing or later or opener.has_more():
                    raise PayloadError("data after the final chunk")
                return
    finally:
        lanes.close()


def open_payload(readinto: ReadInto, key: bytes) -> Generator[bytes, None, None]:
    """Yield plaintext, in order, only from chunks that have authenticated (a batch at a time).

    `readinto(view)` fills up to len(view) bytes and returns how many, 0 at EOF; it is called
    from worker threads, one call at a time. Raises `PayloadError` when a chunk fails, when the
    input ends before a final chunk, or when anything follows the final chunk; in the last case
    the final chunk's (authentic) plaintext was already yielded, as age does. Callers must treat
    all output as void when this raises.
    """
    if len(key) != 32:
        raise ValueError("the payload key is 32 bytes")
    for opened in _run(_Opener(readinto, key, None)):
        if opened.plaintext:
            yield opened.plaintext


def open_payload_to(readinto: ReadInto, key: bytes, sink: Sink) -> int:
    """Open the payload into `sink` (called from worker threads, in order); returns its size.

    Like `open_payload`, but without copying plaintext into new `bytes`: faster for files.
    Raises the same errors, after `sink` received the plaintext of the chunks that
    authenticated before the failure.
    """
    if len(key) != 32:
        raise ValueError("the payload key is 32 bytes")
    return sum(opened.size for opened in _run(_Opener(readinto, key, sink)))
