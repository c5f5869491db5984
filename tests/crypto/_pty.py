"""Run a program on a fresh pseudo-terminal and answer its passphrase prompts (as age wants)."""

from __future__ import annotations

import os
import pty
import select
import time
from collections.abc import Sequence


def run_with_tty(
    argv: Sequence[str], answers: Sequence[bytes], timeout: float = 60.0
) -> tuple[int, bytes]:
    """Run `argv` with a pty as its controlling terminal; type `answers` at each prompt.

    A prompt is any new output mentioning "passphrase". Returns (exit status, terminal output).
    """
    pid, master = pty.fork()
    if pid == 0:  # the child: nothing but exec, it has a pty as stdin/stdout/stderr and /dev/tty
        try:
            os.execvp(argv[0], list(argv))  # noqa: S606 - the test's own fixed argv
        finally:
            os._exit(127)
    output = bytearray()
    pending = list(answers)
    since_answer = 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal (it exited)
                    break
                if not data:
                    break
                output += data
            if (
                pending
                and b"passphrase" in output[since_answer:].lower()
                and output.rstrip().endswith(b":")
            ):
                os.write(master, pending.pop(0) + b"\n")
                since_answer = len(output)
        else:
            os.kill(pid, 9)
            raise TimeoutError(f"{argv[0]} did not finish: {bytes(output)!r}")
    finally:
        os.close(master)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), bytes(output)
