"""Run a fuzz target in a child process, so that a hang or a crash fails one test cleanly.

A reader that deadlocks leaves threads behind that nothing can stop, and the test process
would then hang at exit; one that crashes the interpreter would take pytest with it. The
child runs the target on each input it is sent and answers ok or a traceback; the parent
kills it when no answer comes in time, and starts a new one for the next input.

Run as `python -m tests.fuzz.sandbox TARGET WORKDIR` (the parent does that); frames are a
4-byte big-endian length and the bytes.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import traceback
from pathlib import Path
from typing import BinaryIO

from tests.fuzz import targets

ROOT = Path(__file__).resolve().parents[2]
READY, OK, FAILED = b"R", b".", b"F"
# A target answers in milliseconds; an input still running after this long is a hang.
HANG_SECONDS = 5.0
START_SECONDS = 60.0


class HangError(BaseException):
    """The target did not answer in time. A BaseException: Hypothesis must not shrink it,
    since every attempt would cost the full timeout; the input is saved instead."""


class CrashError(BaseException):
    """The child died while running an input (a crash in C code, os._exit, ...)."""


def _frame(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _read_exact(fd: int, size: int) -> bytes:
    parts = []
    while size:
        part = os.read(fd, size)
        if not part:
            raise EOFError
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


class Sandbox:
    """One child process running the target `name`; restarted after a hang or a crash."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self._workdir = workdir
        self._child: subprocess.Popen[bytes] | None = None
        self._ready = False
        self.start()

    def start(self) -> None:
        """Start the child without waiting for it (several children may start at once)."""
        scratch = self._workdir / self.name
        scratch.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "tests.fuzz.sandbox", self.name, str(scratch)]
        self._child = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self._ready = False

    def _pipes(self) -> tuple[BinaryIO, BinaryIO]:
        if self._child is None:
            self.start()
        child = self._child
        if child is None or child.stdin is None or child.stdout is None:
            raise CrashError(f"the {self.name} sandbox has no pipes")
        return child.stdin, child.stdout  # type: ignore[return-value]

    def _answer(self, timeout: float) -> bytes | None:
        fd = self._pipes()[1].fileno()
        if not select.select([fd], [], [], timeout)[0]:
            return None
        try:
            status = _read_exact(fd, 1)
            if status in (READY, OK):
                return status
            return _read_exact(fd, int.from_bytes(_read_exact(fd, 4), "big"))
        except EOFError:
            return b""

    def wait_ready(self) -> None:
        """Wait until the child has built its target (seconds: imports, keys, seeds)."""
        self._pipes()
        if not self._ready:
            if self._answer(START_SECONDS) != READY:
                raise CrashError(f"the {self.name} sandbox did not start")
            self._ready = True

    def run(self, data: bytes, timeout: float = HANG_SECONDS) -> None:
        """Run the target on `data` in the child; raise what it raised (as AssertionError)."""
        self.wait_ready()
        stdin, _ = self._pipes()
        stdin.write(_frame(data))
        stdin.flush()
        answer = self._answer(timeout)
        if answer == OK:
            return
        if answer is None or not answer:
            self.close(kill=True)  # stuck or dead: the next input gets a new child
        if answer is None:
            raise HangError(f"{self.name}: no answer after {timeout} s; {self._save(data, 'hang')}")
        if not answer:
            raise CrashError(f"{self.name}: the child died; {self._save(data, 'crash')}")
        raise AssertionError(f"{self.name} target failed in the sandbox:\n{answer.decode()}")

    def _save(self, data: bytes, kind: str) -> str:
        path = self._workdir / f"{self.name}-{kind}-{len(data)}.bin"
        path.write_bytes(data)
        return f"input saved to {path} (starts {data[:48]!r})"

    def close(self, *, kill: bool = False) -> None:
        """Stop the child: the end of its input lets it exit; a stuck one is killed."""
        if self._child is None:
            return
        child, self._child = self._child, None
        if kill:
            child.kill()
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                pipe.close()
        try:
            child.wait(timeout=2)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _serve(name: str, workdir: Path, inp: BinaryIO, out: BinaryIO) -> None:
    target = targets.build(name, workdir)
    out.write(READY)
    out.flush()
    while header := inp.read(4):
        data = inp.read(int.from_bytes(header, "big"))
        try:
            target.run(data)
        except BaseException:  # everything goes back to the parent, which judges it
            out.write(FAILED + _frame(traceback.format_exc().encode()))
        else:
            out.write(OK)
        out.flush()


def main() -> None:
    """The child: answer frames on stdin; anything the code under test prints goes to stderr."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with contextlib.suppress(BrokenPipeError):  # the parent has gone: nothing to answer
        _serve(sys.argv[1], Path(sys.argv[2]), sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
