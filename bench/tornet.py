"""Through Tor: the private network's bring-up time, and Intake's upload speed against a plain
streaming server behind the same onion, in the same run.

Usage: .venv/bin/python bench/tornet.py [--size 100MiB] [--repeat 3]

One network (tests/tornet) with the deployment behind its onion (port 80: HAProxy → gunicorn →
Intake) and, on port 81 of the same onion, a plain server that reads the PROXY line and the
body and answers its SHA-256: no framework, no sealing, no disk. Both uploads take the same
circuits' road through the same relays, interleaved `--repeat` times; the medians are
reported and the ratio plain time / Intake time (1.00 = Intake costs nothing over Tor).
"""

from __future__ import annotations

import argparse
import hashlib
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

# bench/crypto.py sits beside this script and would shadow the crypto package.
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.streaming import GeneratedFile, multipart, open_form, post_stream, required_answers
from tests.tornet import socks
from tests.tornet.stack import running
from tests.tornet.torrc import Changes

PLAIN_PORT = 81
MIB = 1 << 20


def _read_head(conn: socket.socket) -> tuple[bytes, bytes]:
    """(PROXY line + HTTP head, what followed it) from a connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the end of the head")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head, rest


def _answer(conn: socket.socket) -> None:
    head, body = _read_head(conn)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    digest = hashlib.sha256(body)
    received = len(body)
    while received < length:
        chunk = conn.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed before the end of the body")
        digest.update(chunk)
        received += len(chunk)
    page = digest.hexdigest().encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(page), page))


@contextmanager
def plain_server() -> Iterator[int]:
    """The floor: reads the PROXY line, the head and the body; answers the body's SHA-256."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn, suppress(OSError, StopIteration):
                _answer(conn)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()


def plain_upload(socks_port: int, onion: str, file: GeneratedFile) -> float:
    conn = socks.OnionConnection(socks_port, onion, PLAIN_PORT, timeout=600)
    started = time.monotonic()
    conn.putrequest("POST", "/upload")
    conn.putheader("Content-Length", str(file.size))
    conn.endheaders()
    for block in file.blocks():
        conn.send(block)
    answer = conn.getresponse().read().decode()
    elapsed = time.monotonic() - started
    conn.close()
    assert answer == file.sha256(), "the plain server received other bytes"
    return elapsed


def intake_upload(socks_port: int, onion: str, file: GeneratedFile) -> float:
    connect = socks.connector(socks_port, onion)
    form = open_form(80, connect)  # not timed: the codename step is not the upload
    fields = required_answers("bench")
    content_type, length, body = multipart(fields, "group1-files", "bench.mp4", file)
    started = time.monotonic()
    status, page = post_stream(80, form, content_type, length, body, connect=connect)
    elapsed = time.monotonic() - started
    assert status == 200, page[-500:]
    assert file.sha256() in page, "Intake's receipt names other bytes"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100, help="MiB per upload")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    file = GeneratedFile.random(args.size * MIB, b"bench")
    with (
        tempfile.TemporaryDirectory(prefix="tornet-bench-") as tmp,
        plain_server() as port,
        running(Path(tmp), changes=Changes(witness_ports=((PLAIN_PORT, port),))) as stack,
    ):
        print(
            f"bring-up: {stack.seconds:.1f} s; steps (s from the first tor): "
            f"{stack.network.timings}"
        )
        onion, socks_port = stack.network.onion, stack.network.socks_port
        plain, intake = [], []
        for _ in range(args.repeat):
            plain.append(plain_upload(socks_port, onion, file))
            intake.append(intake_upload(socks_port, onion, file))
    mb = file.size / 1e6
    for name, times in (("plain server", plain), ("Intake", intake)):
        runs = ", ".join(f"{t:.1f}" for t in times)
        median = statistics.median(times)
        print(f"{name:>12}: median {median:.1f} s = {mb / median:.1f} MB/s (runs: {runs} s)")
    ratio = statistics.median(plain) / statistics.median(intake)
    print(f"ratio Intake/plain throughput: {ratio:.2f} (target >= 0.90)")


if __name__ == "__main__":
    main()
