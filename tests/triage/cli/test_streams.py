"""The CLI's input and output plumbing: peeking at pipes, atomic outputs, devices, `-m triage`."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.triage.helpers import AgeKey, payload
from triage.cli import _streams, triage


class _Pipe(io.BytesIO):
    """A BytesIO that, like a pipe, cannot seek and hands out at most 7 bytes per read."""

    def seekable(self) -> bool:
        return False

    def read(self, size: int | None = -1, /) -> bytes:
        return super().read(7 if size is None or size < 0 else min(size, 7))


def test_peek_at_a_pipe_replays_the_head():
    data = payload(200_000)
    head, stream = _streams.peek(_Pipe(data), 128)
    assert head == data[:128]
    assert stream.readline(10) + stream.read(50) + stream.read() == data


def test_peek_at_a_short_pipe_and_a_file(tmp_path: Path):
    head, stream = _streams.peek(_Pipe(b"tiny"), 128)
    assert (head, stream.read()) == (b"tiny", b"tiny")
    (tmp_path / "f").write_bytes(b"0123456789")
    with (tmp_path / "f").open("rb") as file:
        head, stream = _streams.peek(file, 4)
        assert (head, stream is file, stream.read()) == (b"0123", True, b"0123456789")


def test_atomic_output_keeps_the_old_file_on_failure(tmp_path: Path):
    target = tmp_path / "t"
    target.write_bytes(b"old")

    def fail_midway() -> None:
        with _streams.atomic_output(target) as out:
            out.write(b"half")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        fail_midway()
    assert [p.name for p in tmp_path.iterdir()] == ["t"]
    assert target.read_bytes() == b"old"
    with _streams.atomic_output(target) as out:
        out.write(b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o600


def test_encrypt_to_a_fifo_writes_in_place(runner: CliRunner, tmp_path: Path, age_key: AgeKey):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = runner.invoke(triage, ["encrypt", "-a", "-r", age_key.recipient, "-o", str(fifo)])
    reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert received[0].startswith(b"-----BEGIN AGE ENCRYPTED FILE-----\n")
    assert fifo.is_fifo()


def test_python_dash_m_triage():
    done = subprocess.run(
        [sys.executable, "-m", "triage", "--help"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("Usage: triage [OPTIONS] COMMAND [ARGS]...")
