"""Helpers for triage's tests: test data, the installed `triage` in a subprocess, a pty driver."""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from triage.cli._group import TriageGroup

# The installed console script, so subprocess tests run what the investigator runs.
TRIAGE = Path(sys.executable).parent / "triage"


@dataclass(frozen=True)
class AgeKey:
    """An identity file made by the real age-keygen, and its recipient."""

    identity_file: Path
    recipient: str


def payload(size: int) -> bytes:
    """Deterministic, non-repeating test data of `size` bytes."""
    block = bytes(range(251))  # a prime period, so chunk boundaries never line up with it
    return (block * (size // len(block) + 1))[:size]


def run_triage(
    *args: str, stdin: bytes = b"", **kwargs: object
) -> subprocess.CompletedProcess[bytes]:
    """Run the installed `triage` with pipes for stdin, stdout and stderr."""
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [str(TRIAGE), *args], input=stdin, capture_output=True, check=False, **kwargs
    )


@dataclass(frozen=True)
class PtyRun:
    """What a program run on a pseudo-terminal printed there, and how it exited."""

    exit_code: int
    transcript: bytes


def run_in_pty(
    argv: Sequence[str], answers: Sequence[tuple[bytes, bytes]] = (), *, timeout: float = 60
) -> PtyRun:
    """Run `argv` with a pty as its controlling terminal, stdin, stdout and stderr.

    Each (prompt, reply) in `answers` is answered in order once `prompt` has appeared; this is
    how age and triage ask for passphrases (on /dev/tty, never on stdin).
    """
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child becomes argv
        try:
            os.execv(argv[0], list(argv))  # noqa: S606 - runs the real age/triage by design
        finally:
            os._exit(127)
    transcript, seen, pending = b"", 0, list(answers)
    deadline = time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                raise TimeoutError(f"{argv[0]} hung; transcript so far: {transcript!r}")
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            transcript += data
            while pending and (at := transcript.find(pending[0][0], seen)) >= 0:
                seen = at + len(pending[0][0])
                os.write(fd, pending.pop(0)[1])
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    return PtyRun(os.waitstatus_to_exitcode(status), transcript)


def binary(name: str) -> str:
    """Absolute path of a real binary such as `age` (pty runs exec it without a PATH search)."""
    found = shutil.which(name)
    assert found is not None, f"{name} is not installed (make test installs it from Debian)"
    return found


def group_raising(exc: BaseException) -> TriageGroup:
    """A throw-away `triage`-like group whose one command `boom` raises `exc`."""

    @click.command()
    def boom() -> None:
        raise exc

    @click.group(cls=TriageGroup, lazy_commands={})
    @click.option("-v", "--verbose", is_flag=True)
    def group(verbose: bool) -> None:
        pass

    group.add_command(boom)
    return group
