"""kill -9 of the worker in the middle of a 200 MiB upload: nothing visible, nothing partial kept
after the sweep, no plaintext on disk, and what was received before still opens intact."""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from intake.maintenance import TEMP_MIN_IDLE
from tests.reliability.client import MINIMAL_TESTIMONY, FilePart, Multipart, Witness
from tests.reliability.harness import Grep, Installation
from tests.reliability.live import LiveServer

MIB = 1024 * 1024
BIG_MIB = 200
KILL_AT = 32 * MIB  # sealed bytes in the temp file when the worker is killed


def _block_with(canary: bytes, size: int = MIB) -> bytes:
    block = bytearray(os.urandom(size))
    for offset in range(0, size - len(canary), 64 * 1024):
        block[offset : offset + len(canary)] = canary
    return bytes(block)


def _big_file(canary: bytes) -> FilePart:
    block = _block_with(canary)

    def chunks() -> Iterator[bytes]:
        for _ in range(BIG_MIB):
            yield block

    return FilePart("group1-files", "video.mp4", BIG_MIB * MIB, chunks, "video/mp4")


def _growing_temp(installation: Installation, at_least: int, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name in installation.temp_files():
            path = installation.blob_dir / "tmp" / name
            try:
                if path.stat().st_size >= at_least:
                    return path
            except FileNotFoundError:
                continue
        time.sleep(0.02)
    raise AssertionError("the upload never reached the blob store's temp area")


def _wait_for_workers(server: LiveServer, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(server.worker_pids()) < count or Witness(server.port).get("/").status != 200:
        assert time.monotonic() < deadline, "gunicorn did not replace the killed worker"
        time.sleep(0.1)


def test_kill_9_mid_upload_loses_nothing_and_leaks_nothing(
    installation: Installation, server: LiveServer
) -> None:
    canary = b"CANARY-" + secrets.token_hex(8).encode()
    earlier = {f"photo-{i}.jpg": _block_with(canary, 300_000 + i) for i in range(2)}
    refs = [Witness(server.port).submit([FilePart.of("group1-files", n, d)]).reference()
            for n, d in earlier.items()]  # fmt: skip
    blobs_before = installation.blob_files()
    workers = len(server.worker_pids())

    uploader = Witness(server.port)
    form = Multipart(list(MINIMAL_TESTIMONY), [_big_file(canary)])
    action = uploader.testimony_action()
    outcome: list[object] = []

    def send() -> None:
        try:
            outcome.append(uploader.post(action, form))
        except (OSError, ValueError) as exc:  # the connection dies with the worker
            outcome.append(exc)

    thread = threading.Thread(target=send)
    thread.start()
    temp = _growing_temp(installation, KILL_AT)
    victims = server.pids_holding(temp)
    assert len(victims) == 1, victims
    os.kill(victims[0], signal.SIGKILL)
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert not any(getattr(o, "status", None) == 200 for o in outcome), outcome

    _wait_for_workers(server, workers)
    # Not visible: no row, and the blob store holds exactly what it held before.
    assert installation.submission_count() == len(refs)
    assert installation.blob_files() == blobs_before
    assert installation.temp_files() == [temp.name]
    assert Grep(canary).hits(installation.root) == []  # the partial temp is ciphertext

    # The sweep leaves a temp written in the last TEMP_MIN_IDLE alone (it may be a live upload
    # in another worker); once the crash's leftover is that old, a restart's sweep takes it.
    assert installation.intake("sweep").startswith("removed 0 abandoned upload(s)")
    old = time.time() - TEMP_MIN_IDLE.total_seconds() - 60
    os.utime(temp, (old, old))
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGHUP)  # gunicorn restarts its workers: start-up sweeps
    deadline = time.monotonic() + 30
    while installation.temp_files():
        assert time.monotonic() < deadline, "the start-up sweep did not remove the partial blob"
        time.sleep(0.1)
    assert installation.blob_files() == blobs_before
    assert installation.submission_count() == len(refs)
    assert Grep(canary).hits(installation.root) == []
    for ref, (name, data) in zip(refs, earlier.items(), strict=True):
        doc, files = installation.opened_submission(ref)
        assert files == {name: data}
        assert doc["files"][0]["plaintext_sha256"] == hashlib.sha256(data).hexdigest()
