"""Structured fuzzing of the armor reader: how the input arrives must not change the result."""

from __future__ import annotations

import io
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from crypto.armor import ArmorReader
from crypto.errors import CryptoError
from tests.fuzz import targets
from tests.fuzz.strategies import FUZZ, LARGE_REPR, mutants, watchdog

pytestmark = LARGE_REPR

Reader = Callable[[int], bytes]


def _short_reads(data: bytes, step: int) -> Reader:
    """`read(n)` as a pipe gives it: at most `step` bytes a call (never more than asked)."""
    inner = io.BytesIO(data)
    return lambda size: inner.read(step if size < 0 else min(size, step))


def _decode(read: Reader, pattern: str, size: int) -> tuple[str, bytes]:
    """Everything the reader yields, and how it ended ("ok" or the error category)."""
    reader = ArmorReader(read)
    got = bytearray()
    try:
        if pattern == "all":
            got += reader.read()
        while pattern != "all" and (
            piece := reader.read(size) if pattern == "read" else reader.readline(size)
        ):
            got += piece
    except CryptoError as exc:
        return exc.category, bytes(got)
    return "ok", bytes(got)


@FUZZ
@given(
    data=st.data(),
    step=st.integers(1, 5000),
    pattern=st.sampled_from(["all", "read", "readline"]),
    size=st.integers(1, 300),
)
def test_short_reads_and_read_sizes_give_the_same_result(
    data: st.DataObject,
    step: int,
    pattern: str,
    size: int,
    fuzz_targets: dict[str, targets.Target],
) -> None:
    target = fuzz_targets["armor"]
    sample = data.draw(mutants(target.seeds, target.tokens), label="input")
    with watchdog():
        expected = _decode(io.BytesIO(sample).read, "all", 0)
        outcome = _decode(_short_reads(sample, step), pattern, size)
    # A refusal may come after different amounts of (unauthenticated) output; the verdict
    # and, on success, every byte must agree.
    assert outcome[0] == expected[0]
    if expected[0] == "ok":
        assert outcome[1] == expected[1]
