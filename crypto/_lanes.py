"""Concurrency plumbing: a lazily started thread pool, ordered turns, reusable buffers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

_T = TypeVar("_T")

# Two workers: the machines we target have two cores, and libsodium runs one chunk per core.
WORKERS = 2


class Lanes:
    """A two-thread pool, created on first use so that small jobs never start a thread."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    def run(self, job: Callable[[], _T], *, inline: bool = False) -> Future[_T]:
        """Run `job` on the pool, or right here if `inline` and no pool exists yet."""
        if inline and self._pool is None:
            done: Future[_T] = Future()
            try:
                done.set_result(job())
            except Exception as exc:  # delivered through the future, like a pooled job
                done.set_exception(exc)
            return done
        if self._pool is None:
            self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="crypto-stream")
        return self._pool.submit(job)

    def close(self) -> None:
        """Drop jobs not started and wait for running ones. Idempotent."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class Turns:
    """Job n may take its turn only after jobs 0..n-1 took theirs (reading input, writing output).

    Jobs are numbered in submission order and a thread pool starts them in that order, so the
    job whose turn it is has always started: waiting cannot deadlock. A turn that raises marks
    the turns failed, and later jobs then skip their step instead of working on broken state.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next = 0
        self.failed = False

    @contextmanager
    def turn(self, number: int) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: self._next == number)
        try:
            yield
        except BaseException:
            self.failed = True
            raise
        finally:
            with self._cond:
                self._next += 1
                self._cond.notify_all()


class Buffers:
    """Fixed-size buffers handed between threads and reused (list append/pop are atomic)."""

    def __init__(self, size: int, keep: int) -> None:
        self._size = size
        self._keep = keep
        self._free: list[bytearray] = []

    def take(self) -> bytearray:
        try:
            return self._free.pop()
        except IndexError:
            return bytearray(self._size)

    def give(self, buf: bytearray) -> None:
        if len(self._free) < self._keep:
            self._free.append(buf)
