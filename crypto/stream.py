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
from collections.abc import Generator
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial

from crypto._aead import TAG_SIZE, seal_into
from crypto._chunks import (
    BATCH_BYTES,
    BATCH_CHUNKS,
    CHUNK_SIZE,
    MAX_IN_FLIGHT,
    SEALED_CHUNK_SIZE,
    ReadInto,
    Sink,
    chunk_nonce,
)
from crypto._lanes import Buffers, Lanes, Turns
from crypto._opening import Opener, run

__all__ = [
    "CHUNK_SIZE",
    "MAX_IN_FLIGHT",
    "SEALED_CHUNK_SIZE",
    "TAG_SIZE",
    "ReadInto",
    "Sink",
    "StreamWriter",
    "chunk_nonce",
    "open_payload",
    "open_payload_to",
]


@dataclass(frozen=True)
class _Batch:
    """Chunks handed to a worker: sealed into `buf`, from their sources, then written in turn."""

    number: int  # batch order, for the write turns
    start: int  # index of the first chunk
    buf: bytearray
    sources: list[tuple[bytes, int] | None]  # (bytes, offset), or None: already in `buf`
    sizes: list[int]  # plaintext sizes; all full but possibly the last
    final: bool  # the last chunk is the payload's final chunk


class StreamWriter:
    """Seals a payload pushed in pieces of any size; `finish()` seals the final chunk.

    Whole chunks inside a `bytes` argument are sealed straight from it (it cannot change);
    anything else is copied once, into the batch buffer, and sealed in place. The chunk being
    filled is sealed only once more data arrives, because only then is it known not to be the
    last: a payload of n x 64 KiB ends on a full chunk marked final, never on an extra empty
    one. Sink errors surface on a later `write` or on `finish`, and abort the writer: every
    later call raises, so a payload that lost data can never look finished.
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
        immutable = data if isinstance(data, bytes) else None
        pos = 0
        while pos < length:
            if self._fill == CHUNK_SIZE:  # full, and more data is here: it is not the last
                self._next_chunk()
            if immutable is not None and self._fill == 0 and length - pos >= CHUNK_SIZE:
                self._sources[-1] = (immutable, pos)  # sealed from there, no copy
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
                self._wait(self._inflight.popleft())
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
        batch = _Batch(self._batches, self._next_index, self._buf, self._sources, sizes, final)
        job = partial(self._seal, batch)
        self._batches += 1
        self._next_index += len(sizes)
        self._buf, self._sources, self._fill = self._buffers.take(), [None], 0
        inflight = self._inflight
        inflight.append(self._lanes.run(job, inline=final and not inflight))
        while inflight and (len(inflight) > MAX_IN_FLIGHT or inflight[0].done()):
            self._wait(inflight.popleft())

    def _wait(self, job: Future[None]) -> None:
        """Wait for a job; if it failed (say, `out.write` hit ENOSPC), abort, then re-raise."""
        try:
            job.result()
        except BaseException:
            self.abort()  # stops the pool; jobs still running skip their output
            raise

    def _seal(self, batch: _Batch) -> None:
        buf, last = batch.buf, len(batch.sizes) - 1
        sealed = False
        try:
            for i, (source, size) in enumerate(zip(batch.sources, batch.sizes, strict=True)):
                at = i * SEALED_CHUNK_SIZE
                src, offset = source if source is not None else (buf, at)
                nonce = chunk_nonce(batch.start + i, last=batch.final and i == last)
                seal_into(buf, at, src, offset, size, nonce=nonce, key=self._key)
            sealed = True
        finally:
            # Every job takes its turn, even after an error: later jobs wait for it.
            with self._turns.turn(batch.number):
                if not sealed:
                    self._turns.failed = True
                elif not self._turns.failed:
                    end = last * SEALED_CHUNK_SIZE + batch.sizes[-1] + TAG_SIZE
                    self._sink(memoryview(buf)[:end])
            self._buffers.give(buf)


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
    for opened in run(Opener(readinto, key, None)):
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
    return sum(opened.size for opened in run(Opener(readinto, key, sink)))
