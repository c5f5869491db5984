"""Hypothesis strategies that mutate valid inputs, and the settings every fuzz test shares.

`mutants(seeds, tokens)` is a small mutation fuzzer written as a strategy: start from a valid
seed, then flip, set, insert (random bytes or a format's own words), delete, truncate, splice
with another seed, or duplicate a span. Hypothesis shrinks a failing input to few, small
operations. Pure random bytes are drawn too.
"""

from __future__ import annotations

import copy
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = [
    "FUZZ",
    "LARGE_REPR",
    "json_mutants",
    "json_values",
    "mutants",
    "texts",
    "watchdog",
]

# The default run is part of `make test` and stays fast; INTAKE_FUZZ_EXAMPLES=20000 (say)
# turns every test here into a longer fuzzing session.
EXAMPLES = int(os.environ.get("INTAKE_FUZZ_EXAMPLES", "120"))
# No input of ours takes more than milliseconds; two seconds is far beyond that even on a
# loaded two-core machine, so an example that exceeds it is a slow path worth a report.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Seeds are kilobytes (a tar record is 10 KiB), so the falsifying example Hypothesis prints
# is long; under `filterwarnings = error` its warning about that would replace the report.
LARGE_REPR = pytest.mark.filterwarnings(
    "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
)
# The deadline reports a slow example once it returns; this stops one that never returns,
# so a real infinite loop fails the test instead of hanging the suite.
HANG_SECONDS = 20


class HangError(AssertionError):
    """An example ran past HANG_SECONDS."""


@contextmanager
def watchdog(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Raise HangError in the main thread if the block runs longer than `seconds`."""

    def expired(_signum: int, _frame: object) -> None:
        raise HangError(f"no result after {seconds} s: the reader hangs on this input")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# Positions: mostly near the start (headers, first lines), sometimes anywhere.
_POSITIONS = st.one_of(st.integers(0, 640), st.integers(0, 1 << 20))
Mutation = Callable[[bytes], bytes]


def _at(data: bytes, position: int) -> int:
    return position % (len(data) + 1)


def _ops(seeds: Sequence[bytes], tokens: Sequence[bytes]) -> st.SearchStrategy[Mutation]:
    words = st.sampled_from(tokens) if tokens else st.binary(min_size=1, max_size=8)

    def flip(p: int, bit: int) -> Mutation:
        def go(d: bytes) -> bytes:
            i = p % len(d) if d else 0
            return d[:i] + bytes([d[i] ^ (1 << bit)]) + d[i + 1 :] if d else d

        return go

    def put(p: int, value: bytes) -> Mutation:
        return lambda d: d[: _at(d, p)] + value + d[_at(d, p) :]

    def delete(p: int, n: int) -> Mutation:
        return lambda d: d[: _at(d, p)] + d[_at(d, p) + n :]

    def overwrite(p: int, value: bytes) -> Mutation:
        return lambda d: d[: _at(d, p)] + value + d[_at(d, p) + len(value) :]

    def splice(p: int, other: bytes, q: int) -> Mutation:
        return lambda d: d[: _at(d, p)] + other[_at(other, q) :]

    def duplicate(p: int, n: int) -> Mutation:
        return lambda d: d[: _at(d, p) + n] + d[_at(d, p) :]

    return st.one_of(
        st.builds(flip, _POSITIONS, st.integers(0, 7)),
        st.builds(overwrite, _POSITIONS, st.binary(min_size=1, max_size=4)),
        st.builds(put, _POSITIONS, st.binary(min_size=1, max_size=16)),
        st.builds(put, _POSITIONS, words),
        st.builds(overwrite, _POSITIONS, words),
        st.builds(delete, _POSITIONS, st.integers(1, 80)),
        st.builds(lambda p: lambda d: d[: _at(d, p)], _POSITIONS),
        st.builds(splice, _POSITIONS, st.sampled_from(seeds), _POSITIONS),
        st.builds(duplicate, _POSITIONS, st.integers(1, 80)),
    )


@st.composite
def _mutated(
    draw: st.DrawFn, seeds: Sequence[bytes], tokens: Sequence[bytes], max_ops: int
) -> bytes:
    data = draw(st.sampled_from(seeds))
    for mutation in draw(st.lists(_ops(seeds, tokens), min_size=1, max_size=max_ops)):
        data = mutation(data)
    return data


def mutants(
    seeds: Sequence[bytes], tokens: Sequence[bytes] = (), *, max_ops: int = 4
) -> st.SearchStrategy[bytes]:
    """Mutated seeds (mostly), unchanged seeds, and pure random bytes."""
    return st.one_of(
        st.binary(max_size=600),
        st.sampled_from(seeds),
        _mutated(seeds, tokens, max_ops),
        _mutated(seeds, tokens, max_ops),
        _mutated(seeds, tokens, max_ops),
    )


def _insert_in_line(text: str, line: int, at: int, piece: str) -> str:
    lines = text.split("\n")
    chosen = lines[line % len(lines)]
    cut = at % (len(chosen) + 1)
    lines[line % len(lines)] = chosen[:cut] + piece + chosen[cut:]
    return "\n".join(lines)


def texts(seeds: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """Any `str`, lone surrogates included (JSON escapes and argv can make them)."""
    chars = st.one_of(
        st.characters(codec=None, exclude_categories=()),
        st.integers(0xD800, 0xDFFF).map(chr),
        st.sampled_from(" \t\n\r-\u2013\u3000\u00a0\u0301\x00"),
    )
    anything = st.text(chars, max_size=80)
    if not seeds:
        return anything
    edited = st.builds(
        _insert_in_line,
        st.sampled_from(seeds),
        st.integers(0, 15),
        st.integers(0, 1 << 12),
        st.text(chars, min_size=1, max_size=4),
    )
    return st.one_of(anything, edited, st.sampled_from(seeds))


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**20, -(2**63)]),
    st.floats(allow_nan=False, allow_infinity=False),
    texts(),
    st.sampled_from(["", "S-0123456789ABCDEF", "a" * 64, "2025-06-01T00:00:00Z", "٢٠٢٥"]),
)


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """JSON-representable values (keys are strings; no NaN or infinity)."""
    return st.recursive(
        _SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(texts(), inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def _slots(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _slots(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _slots(value, (*path, index))


def _edit(doc: Any, path: tuple[Any, ...], action: str, value: Any, key: str) -> Any:
    if not path:
        return value if action == "replace" else doc
    *parents, last = path
    parent = doc
    for step in parents:
        parent = parent[step]
    if action == "delete":
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[key] = value
    elif action == "add":
        parent.insert(last, value)
    elif action == "tweak" and isinstance(parent[last], str):
        parent[last] = parent[last][:-1] + key
    else:
        parent[last] = value
    return doc


_SMALL_VALUES = json_values(6)
_ANY_TEXT = texts()


@st.composite
def json_mutants(draw: st.DrawFn, docs: Sequence[Any], max_edits: int = 3) -> Any:
    """A valid document with a few values replaced, removed, added or retyped."""
    doc = copy.deepcopy(draw(st.sampled_from(docs)))
    for _ in range(draw(st.integers(1, max_edits))):
        path = draw(st.sampled_from(list(_slots(doc))))
        action = draw(st.sampled_from(["replace", "delete", "add", "tweak"]))
        doc = _edit(doc, path, action, draw(_SMALL_VALUES), draw(_ANY_TEXT))
    return doc
