"""The STREAM payload on its own: chunking, the final flag, truncation, order, bounded work."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from nacl.bindings import crypto_aead_chacha20poly1305_ietf_encrypt

from crypto import _aead, _opening, stream
from crypto._chunks import BATCH_CHUNKS
from crypto.errors import PayloadError
from crypto.stream import (
    CHUNK_SIZE,
    SEALED_CHUNK_SIZE,
    TAG_SIZE,
    StreamWriter,
    chunk_nonce,
    open_payload,
    open_payload_to,
)

KEY = bytes(range(32))
SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 7]
# Around batch boundaries too: one batch, one batch and a bit, several, several exactly.
SIZES += [BATCH_CHUNKS * CHUNK_SIZE, BATCH_CHUNKS * CHUNK_SIZE + 1, 40 * CHUNK_SIZE + 5]
SIZES += [3 * BATCH_CHUNKS * CHUNK_SIZE]


def seal(data: bytes, piece: int = 1 << 20) -> bytes:
    out = io.BytesIO()
    writer = StreamWriter(KEY, out.write)
    for i in range(0, len(data), piece):
        writer.write(data[i : i + piece])
    writer.finish()
    return out.getvalue()


def opened(sealed: bytes) -> list[bytes]:
    return list(open_payload(io.BytesIO(sealed).readinto, KEY))


def released_before_error(sealed: bytes) -> tuple[bytes, PayloadError]:
    got = bytearray()
    try:
        for chunk in open_payload(io.BytesIO(sealed).readinto, KEY):
            got += chunk
    except PayloadError as exc:
        return bytes(got), exc
    pytest.fail("the payload opened without error")


def chunk_count(size: int) -> int:
    return max(1, -(-size // CHUNK_SIZE))


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_and_exact_size(size: int) -> None:
    data = os.urandom(size)
    sealed = seal(data)
    assert len(sealed) == size + TAG_SIZE * chunk_count(size)
    assert b"".join(opened(sealed)) == data


def test_chunks_are_whole_and_only_the_last_is_final() -> None:
    sealed = seal(bytes(2 * CHUNK_SIZE))
    assert len(sealed) == 2 * SEALED_CHUNK_SIZE  # no extra empty chunk after a full one
    assert b"".join(opened(sealed)) == bytes(2 * CHUNK_SIZE)


def test_empty_payload_is_one_empty_final_chunk() -> None:
    assert len(seal(b"")) == TAG_SIZE
    assert opened(seal(b"")) == []  # nothing to yield, and no error


@pytest.mark.parametrize("piece", [1, 7, 1000, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 3])
def test_how_data_is_pushed_does_not_change_the_plaintext(piece: int) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 100 if piece > 1 else CHUNK_SIZE + 10)
    assert b"".join(opened(seal(data, piece))) == data


def test_many_small_writes_and_any_buffer_type() -> None:
    out = io.BytesIO()
    writer = StreamWriter(KEY, out.write)
    for i in range(50_000):
        writer.write(b"0123456789" if i % 3 else memoryview(bytearray(b"0123456789")))
    writer.finish()
    assert writer.size == 500_000
    assert b"".join(opened(out.getvalue())) == b"0123456789" * 50_000


def test_nonce_layout_and_counter_limit() -> None:
    assert chunk_nonce(0, last=False) == bytes(12)
    assert chunk_nonce(1, last=True) == bytes(10) + b"\x01\x01"
    assert chunk_nonce((1 << 88) - 1, last=False) == b"\xff" * 11 + b"\x00"
    with pytest.raises(PayloadError, match="counter"):
        chunk_nonce(1 << 88, last=False)
    with pytest.raises(PayloadError, match="counter"):
        chunk_nonce(-1, last=True)


@pytest.mark.parametrize("chunks", [1, 2, 9, 17])
def test_truncation_at_every_chunk_boundary_fails(chunks: int) -> None:
    data = os.urandom(chunks * CHUNK_SIZE - 5)
    sealed = seal(data)
    for cut in range(chunks):
        got, error = released_before_error(sealed[: cut * SEALED_CHUNK_SIZE])
        assert got == data[: cut * CHUNK_SIZE]
        assert "ends before" in str(error)


def test_a_forged_chunk_releases_nothing_from_itself_on() -> None:
    data = os.urandom(20 * CHUNK_SIZE)
    sealed = bytearray(seal(data))
    sealed[11 * SEALED_CHUNK_SIZE + 5] ^= 1
    got, error = released_before_error(bytes(sealed))
    assert got == data[: 11 * CHUNK_SIZE]
    assert "chunk 11" in str(error)


def test_data_after_the_final_chunk_fails_after_releasing_it() -> None:
    data = os.urandom(10 * CHUNK_SIZE)
    for extra in (b"x", seal(b"more")):
        got, error = released_before_error(seal(data) + extra)
        assert got == data  # as age does: the final chunk authenticated, then the rest is refused
        assert "after the final chunk" in str(error)


def test_an_empty_final_chunk_after_data_is_refused() -> None:
    one = seal(bytes(CHUNK_SIZE))
    # Re-seal the same chunk as not-final, then append an empty final chunk.
    writer_out = io.BytesIO()
    writer = StreamWriter(KEY, writer_out.write)
    writer.write(bytes(CHUNK_SIZE) + b"x")
    writer.finish()
    first = writer_out.getvalue()[:SEALED_CHUNK_SIZE]
    empty_final = crypto_aead_chacha20poly1305_ietf_encrypt(
        b"", None, chunk_nonce(1, last=True), KEY
    )
    got, error = released_before_error(first + empty_final)
    assert got == bytes(CHUNK_SIZE)
    assert "empty final chunk" in str(error)
    assert b"".join(opened(one)) == bytes(CHUNK_SIZE)


@pytest.mark.parametrize("tail", [0, 1, 15])
def test_a_chunk_shorter_than_its_tag_fails(tail: int) -> None:
    got, error = released_before_error(seal(bytes(CHUNK_SIZE + 1))[: SEALED_CHUNK_SIZE + tail])
    assert got == bytes(CHUNK_SIZE)  # the first chunk authenticated; the second cannot
    assert ("truncated" if tail else "ends before") in str(error)


def test_short_reads_from_pipes_are_assembled() -> None:
    data = os.urandom(12 * CHUNK_SIZE + 3)
    source = io.BytesIO(seal(data))

    def trickle(view: memoryview) -> int:
        return source.readinto(view[:1000])

    assert b"".join(open_payload(trickle, KEY)) == data


def test_errors_from_the_sink_reach_the_caller() -> None:
    def broken(_: memoryview) -> None:
        raise OSError("disk full")

    writer = StreamWriter(KEY, broken)

    def push() -> None:
        for _ in range(64):
            writer.write(bytes(CHUNK_SIZE))
        writer.finish()

    with pytest.raises(OSError, match="disk full"):
        push()
    writer.abort()


def test_errors_from_the_source_reach_the_caller() -> None:
    sealed = io.BytesIO(seal(bytes(30 * CHUNK_SIZE)))

    def failing(view: memoryview) -> int:
        if sealed.tell() > 12 * SEALED_CHUNK_SIZE:
            raise OSError("read error")
        return sealed.readinto(view)

    with pytest.raises(OSError, match="read error"):
        list(open_payload(failing, KEY))


def test_errors_from_the_source_reach_the_caller_with_a_sink() -> None:
    # With a sink, a job whose read raised must still take its write turn, or the next job
    # waits for that turn forever (an armor error in the payload used to hang open_bytes).
    sealed = io.BytesIO(seal(bytes(30 * CHUNK_SIZE)))

    def failing(view: memoryview) -> int:
        if sealed.tell() > 12 * SEALED_CHUNK_SIZE:
            raise PayloadError("read error")
        return sealed.readinto(view)

    error = finishes_in_time(lambda: open_payload_to(failing, KEY, io.BytesIO().write))
    assert isinstance(error, PayloadError)
    assert not [t for t in threading.enumerate() if t.name.startswith("crypto-stream")]


def test_abort_writes_no_final_chunk_and_stops_threads() -> None:
    out = io.BytesIO()
    writer = StreamWriter(KEY, out.write)
    writer.write(bytes(30 * CHUNK_SIZE))
    writer.abort()
    with pytest.raises(ValueError, match="finished or aborted"):
        writer.write(b"x")
    with pytest.raises(ValueError, match="finished or aborted"):
        writer.finish()
    released_before_error(out.getvalue())
    assert not [t for t in threading.enumerate() if t.name.startswith("crypto-stream")]


def test_abandoning_the_reader_early_stops_its_threads() -> None:
    chunks = open_payload(io.BytesIO(seal(bytes(40 * CHUNK_SIZE))).readinto, KEY)
    assert len(next(chunks)) == BATCH_CHUNKS * CHUNK_SIZE  # one batch at a time
    assert len(next(chunks)) == BATCH_CHUNKS * CHUNK_SIZE
    chunks.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("crypto-stream")]


def test_memory_in_flight_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    out = io.BytesIO()
    writer = StreamWriter(KEY, out.write)
    original = writer._seal  # observing the batches handed to workers

    def spy(batch: object) -> None:
        seen.append(len(writer._inflight))
        original(batch)  # type: ignore[arg-type]

    monkeypatch.setattr(writer, "_seal", spy)
    for _ in range(100):
        writer.write(bytes(CHUNK_SIZE))
    writer.finish()
    assert max(seen) <= stream.MAX_IN_FLIGHT + 1
    assert b"".join(opened(out.getvalue())) == bytes(100 * CHUNK_SIZE)


def test_wrong_key_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        StreamWriter(b"short", io.BytesIO().write)
    with pytest.raises(ValueError, match="32 bytes"):
        next(open_payload(io.BytesIO().readinto, b"short"))


def into_sink(sealed: bytes) -> tuple[bytes, PayloadError | None]:
    out = io.BytesIO()
    try:
        size = open_payload_to(io.BytesIO(sealed).readinto, KEY, out.write)
    except PayloadError as exc:
        return out.getvalue(), exc
    assert size == len(out.getvalue())
    return out.getvalue(), None


@pytest.mark.parametrize("size", SIZES)
def test_opening_into_a_sink(size: int) -> None:
    data = os.urandom(size)
    assert into_sink(seal(data)) == (data, None)


def test_a_sink_gets_only_authentic_chunks_in_order() -> None:
    data = os.urandom(20 * CHUNK_SIZE + 9)
    sealed = bytearray(seal(data))
    sealed[11 * SEALED_CHUNK_SIZE] ^= 0x80
    got, error = into_sink(bytes(sealed))
    assert got == data[: 11 * CHUNK_SIZE]
    assert "chunk 11" in str(error)
    whole = data[: 20 * CHUNK_SIZE]  # ends on a full final chunk, which can have data after it
    got, error = into_sink(seal(whole) + seal(os.urandom(30 * CHUNK_SIZE)))
    assert got == whole  # the final chunk, then nothing from what follows it
    assert "after the final chunk" in str(error)
    got, error = into_sink(seal(data)[: 17 * SEALED_CHUNK_SIZE])
    assert got == data[: 17 * CHUNK_SIZE]
    assert "ends before" in str(error)


def test_caller_buffers_may_change_after_write() -> None:
    out = io.BytesIO()
    writer = StreamWriter(KEY, out.write)
    piece = bytearray(3 * CHUNK_SIZE)
    for letter in b"abcd":
        piece[:] = bytes([letter]) * len(piece)  # the caller reuses its buffer at once
        writer.write(piece)
    writer.finish()
    assert b"".join(opened(out.getvalue())) == b"".join(bytes([c]) * len(piece) for c in b"abcd")


def test_bytes_are_sealed_in_place_of_copies_but_mixed_writes_still_line_up() -> None:
    data = os.urandom(30 * CHUNK_SIZE + 77)
    out = io.BytesIO()
    writer = StreamWriter(KEY, out.write)
    writer.write(data[:100])  # a partly filled chunk: the next bytes must be copied to it
    writer.write(data[100 : 20 * CHUNK_SIZE])
    writer.write(bytearray(data[20 * CHUNK_SIZE : 20 * CHUNK_SIZE + 5]))
    writer.write(data[20 * CHUNK_SIZE + 5 :])
    writer.finish()
    assert b"".join(opened(out.getvalue())) == data


def finishes_in_time(action: Callable[[], object]) -> BaseException | None:
    """Run `action` on a thread; fail the test if it hangs (a worker waiting for a turn)."""
    caught: list[BaseException] = []

    def body() -> None:
        try:
            action()
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive(), "deadlock: a job never took its turn"
    return caught[0] if caught else None


def test_a_failing_seal_job_still_takes_its_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    real = _aead.seal_into  # what crypto.stream imported and calls
    # Chosen by nonce, not by call count: two workers seal batches 3 and 4 concurrently, so
    # the 50th call may belong to either, and batch 3 would then legitimately be written.
    doomed = chunk_nonce(3 * BATCH_CHUNKS + 1, last=False)

    def flaky(*args: Any, **kwargs: Any) -> None:
        if kwargs["nonce"] == doomed:
            raise RuntimeError("libsodium exploded")
        real(*args, **kwargs)

    monkeypatch.setattr(stream, "seal_into", flaky)
    out = io.BytesIO()
    writer = StreamWriter(KEY, out.write)

    def push() -> None:
        for _ in range(10 * BATCH_CHUNKS):
            writer.write(bytes(CHUNK_SIZE))
        writer.finish()

    error = finishes_in_time(push)
    assert isinstance(error, RuntimeError)
    assert len(out.getvalue()) <= 3 * BATCH_CHUNKS * SEALED_CHUNK_SIZE  # nothing after it
    writer.abort()


def test_a_failing_open_job_still_takes_its_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    sealed = seal(bytes(10 * BATCH_CHUNKS * CHUNK_SIZE))
    real = _opening._open_chunks

    def flaky(key: bytes, start: int, *rest: Any) -> Any:
        if start == 2 * BATCH_CHUNKS:
            raise RuntimeError("libsodium exploded")
        return real(key, start, *rest)

    monkeypatch.setattr(_opening, "_open_chunks", flaky)
    out = io.BytesIO()
    error = finishes_in_time(lambda: open_payload_to(io.BytesIO(sealed).readinto, KEY, out.write))
    assert isinstance(error, RuntimeError)
    assert out.getvalue() == bytes(2 * BATCH_CHUNKS * CHUNK_SIZE)
    error = finishes_in_time(lambda: list(open_payload(io.BytesIO(sealed).readinto, KEY)))
    assert isinstance(error, RuntimeError)
