"""Opening a STREAM payload: workers read batches in turn, open them in parallel, in order."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from functools import partial

from crypto._aead import TAG_SIZE, open_into
from crypto._chunks import (
    BATCH_BYTES,
    BATCH_CHUNKS,
    CHUNK_SIZE,
    OPEN_IN_FLIGHT,
    SEALED_CHUNK_SIZE,
    ReadInto,
    Sink,
    chunk_nonce,
)
from crypto._lanes import Buffers, Lanes, Turns
from crypto.errors import PayloadError


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


class Opener:
    """Workers take turns reading batches and open them in parallel. With a sink they take
    turns again to write what authenticated; without, the plaintext comes back as bytes."""

    def __init__(self, readinto: ReadInto, key: bytes, sink: Sink | None) -> None:
        self._readinto = readinto
        self._key = key
        self._sink = sink
        self._next_index = 0
        self._reads = Turns()
        self._writes = Turns()
        self._sealed = Buffers(BATCH_BYTES, OPEN_IN_FLIGHT + 1)
        self._plain = Buffers(BATCH_CHUNKS * CHUNK_SIZE, OPEN_IN_FLIGHT + 1)
        self.eof = False

    def job(self, number: int) -> _Opened:
        sealed, out = self._sealed.take(), self._plain.take()
        opened: _Opened | None = None  # stays None if reading or opening raises
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
            return opened
        finally:
            try:
                # Every job takes its write turn, even after an error (a read error such as
                # ArmorError included): later jobs wait for it, and so does Lanes.close().
                self._write(number, opened, out)
            finally:
                self._sealed.give(sealed)
                self._plain.give(out)

    def _write(self, number: int, opened: _Opened | None, out: bytearray) -> None:
        if self._sink is None:
            return
        with self._writes.turn(number):
            if opened is not None and opened.size and not self._writes.failed:
                self._sink(memoryview(out)[: opened.size])
            if opened is None or opened.error is not None or opened.final:
                self._writes.failed = True  # nothing after this batch may be written

    def has_more(self) -> bool:
        """Whether input follows (called only once no job is running)."""
        return not self.eof and bool(self._readinto(memoryview(bytearray(1))))


def run(opener: Opener) -> Generator[_Opened, None, None]:
    """Keep a few jobs in flight; yield their results in order; enforce how the payload ends."""
    lanes = Lanes()
    inflight: deque[Future[_Opened]] = deque()
    number = 0
    try:
        while True:
            while not opener.eof and len(inflight) < OPEN_IN_FLIGHT:
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
