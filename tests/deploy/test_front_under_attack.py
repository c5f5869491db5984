"""Issue 15's attacks at a CI-friendly scale, on a real Intake with and without the front.

Without HAProxy, a few hundred connections that never finish their request head hold every
gunicorn thread and the landing page stops answering. Behind the shipped HAProxy the same
connections, spread over simulated Tor circuits (PROXY lines as tor sends them), cost only
HAProxy memory: a landing-page probe from another circuit answers within 10 s, an honest upload
that stalls mid-body arrives intact, and a codename flood from 8 circuits does not keep a right
codename from another circuit out. Slow bodies answered early do not stall a worker either.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.deploy.attackers import PROBE_LIMIT, codename_flood, codename_on, login, probe
from tests.deploy.haproxy import Front, connector, front, on_circuit
from tests.e2e.conftest import LiveSite, serve
from tests.e2e.streaming import (
    GeneratedFile,
    multipart,
    open_form,
    post_stream,
    required_answers,
)

pytestmark = [pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

# gunicorn alone: 2 workers x 256 threads; a few more than that, and nothing is left.
UNFRONTED_HEADS = 640
# Through the front: as many, over 32 circuits (20 each; the front keeps 16 per circuit).
FRONTED_HEADS, HEAD_CIRCUITS = 640, 32
SLOW_BODY_CIRCUITS = 8
MIB = 1 << 20


@pytest.fixture
def fronted(tmp_path: Path) -> Iterator[tuple[LiveSite, Front]]:
    with serve(tmp_path) as site, front(tmp_path, site.port) as haproxy:
        yield site, haproxy


def _open(connect: Callable[[], socket.socket], data: bytes) -> socket.socket | None:
    try:
        sock = connect()
        sock.sendall(data)
    except OSError:
        return None
    return sock


@contextlib.contextmanager
def held(sockets: list[socket.socket | None]) -> Iterator[int]:
    """Keep the attack's connections open for the block; yields how many got in."""
    try:
        yield sum(1 for s in sockets if s is not None)
    finally:
        for sock in sockets:
            if sock is not None:
                sock.close()


def slow_heads(count: int, connect: Callable[[int], socket.socket]) -> list[socket.socket | None]:
    """`count` connections (the i-th made by connect(i)) that start a head and never finish it."""
    head = b"GET / HTTP/1.1\r\nHost: a\r\n"
    return [_open(partial(connect, i), head) for i in range(count)]


def slow_bodies(port: int, circuits: int) -> list[socket.socket | None]:
    """Four uploads per circuit whose body has sent one byte of a megabyte."""
    head = b"POST /testimony HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\nx"
    return [
        _open(partial(on_circuit, port, 2000 + c), head) for c in range(circuits) for _ in range(4)
    ]


def test_without_the_front_slow_heads_stop_the_landing_page(tmp_path: Path) -> None:
    # The attack is real: gunicorn alone does not answer while the heads are held.
    with serve(tmp_path) as site:
        heads = slow_heads(
            UNFRONTED_HEADS, lambda _: socket.create_connection(("127.0.0.1", site.port))
        )
        with held(heads):
            time.sleep(1)
            waited = probe(site.port, circuit=None)
    assert waited > PROBE_LIMIT


def stalled_upload(port: int, circuit: int, stall: float) -> tuple[int, str, str]:
    """An honest 4 MiB upload that stops half-way for `stall` seconds; (status, page, sha256)."""
    file = GeneratedFile.random(4 * MIB, b"STALL-" + secrets.token_hex(4).encode())
    form = open_form(port, connector(circuit))
    content_type, length, body = multipart(
        required_answers("A stalled circuit"), "group1-files", "stall.mp4", file
    )

    def stalling() -> Iterator[bytes]:
        sent, pause = 0, stall
        for chunk in body:
            yield chunk
            sent += len(chunk)
            if pause and sent >= length // 2:
                time.sleep(pause)
                pause = 0

    # As a browser does: the answer is a 303 to the receipt, followed on the same circuit.
    status, page = post_stream(
        port, form, content_type, length, stalling(), connect=connector(circuit)
    )
    return status, page, file.sha256()


def probes(port: int, count: int = 6) -> list[float]:
    """A landing-page probe from circuit 9999 every 2 s; the seconds each one waited."""
    waits = []
    for _ in range(count):
        time.sleep(2)
        waits.append(probe(port))
    return waits


def test_behind_the_front_slow_heads_starve_neither_pages_nor_a_stalled_upload(
    fronted: tuple[LiveSite, Front],
) -> None:
    _, haproxy = fronted
    outcome: dict[str, tuple[int, str, str]] = {}
    uploader = threading.Thread(
        target=lambda: outcome.update(upload=stalled_upload(haproxy.port, 7777, 15.0))
    )
    heads = slow_heads(FRONTED_HEADS, lambda i: on_circuit(haproxy.port, 1000 + i % HEAD_CIRCUITS))
    with held(heads) as opened:
        assert opened == FRONTED_HEADS  # all accepted; the front closes each circuit's extras
        uploader.start()
        waits = probes(haproxy.port)
        uploader.join(timeout=120)
    assert max(waits) < PROBE_LIMIT, waits
    status, page, sha256 = outcome["upload"]
    assert status == 200, page[-2000:]
    assert sha256 in page  # arrived intact after a 15 s stall mid-body


def test_behind_the_front_slow_bodies_do_not_starve_pages(fronted: tuple[LiveSite, Front]) -> None:
    # 32 uploads that get an early answer (no form token) and then never send their body: each
    # used to hold a gunicorn worker's event loop for 2 s as it closed (deploy/gunicorn.conf.py,
    # "Closing connections off the event loop").
    _, haproxy = fronted
    with held(slow_bodies(haproxy.port, SLOW_BODY_CIRCUITS)):
        waits = probes(haproxy.port)
    assert max(waits) < PROBE_LIMIT, waits


def test_a_codename_flood_from_8_circuits_does_not_keep_a_right_codename_out(
    fronted: tuple[LiveSite, Front],
) -> None:
    _, haproxy = fronted
    status, page, _ = stalled_upload(haproxy.port, 4242, 0)
    assert status == 200, page[-2000:]
    codename = codename_on(page)
    with codename_flood(haproxy.port) as statuses:
        # Behaviour only: the right codename gets in (within the connection's 120 s timeout).
        # How long it takes is bench/load.py --front's figure (target < 30 s): on two cores
        # loaded 20-fold by other jobs it measured 30-34 s here, on a quiet machine far less.
        assert login(haproxy.port, 5555, codename)[0] == 200
    assert statuses.count(403) <= 8 * 6  # each circuit's 6 attempts a minute reached the KDF
    assert 429 in statuses
