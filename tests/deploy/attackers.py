"""Slow-connection attackers on simulated Tor circuits, on one asyncio loop (2,000 sockets cheap).

Used by tests/deploy/test_front_at_scale.py and bench/load.py. Each attacker connection says
which circuit it comes on (the PROXY line tor sends), starts a request and then sends one more
byte every few seconds, for as long as the front keeps it open. When the front closes it (a
408 at the head deadline, a 429 beyond a circuit's share, a refused connection), the attacker
waits and opens it again, as a persistent attacker would: the count of connections open at a
moment is `Attack.open`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from tests.deploy.haproxy import proxy_v1, proxy_v2

SLOW_HEAD = b"GET / HTTP/1.1\r\nHost: intake\r\n"
# Between two bytes: far inside HAProxy's 180 s client timeout, so only the front's own
# decisions (head deadline, per-circuit limits) ever close an attacker's connection.
DRIP_EVERY = 5.0
# Before opening again a connection the front closed (a churning attacker costs CPU on a shared
# 2-core machine; the point is the connections held, not the connection rate).
REOPEN_AFTER = 5.0


def slow_body_head(action: str, cookie: str, length: int = 1_000_000) -> bytes:
    """A form POST's whole head and the first byte of a body that will never be finished."""
    return (
        f"POST {action} HTTP/1.1\r\nHost: intake\r\nCookie: {cookie}\r\n"
        "Content-Type: multipart/form-data; boundary=slow\r\n"
        f"Content-Length: {length}\r\n\r\n-"
    ).encode()


@dataclass
class Attack:
    """Counters of a running attack (written by the loop thread, read by the test)."""

    open: int = 0
    peak: int = 0
    opened: int = 0
    closed_by_front: int = 0
    drip: bytes = b"X"  # sent every `every` seconds: one byte, or an upload's trickle
    every: float = DRIP_EVERY
    stop: threading.Event = field(default_factory=threading.Event)

    def _up(self) -> None:
        self.open += 1
        self.opened += 1
        self.peak = max(self.peak, self.open)


async def _hold(port: int, greeting: bytes, attack: Attack, drip: bytes, every: float) -> None:
    """Open, greet, drip until the front closes the connection or the attack stops."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    attack._up()
    try:
        writer.write(greeting)
        while not attack.stop.is_set():
            await writer.drain()
            try:
                answer = await asyncio.wait_for(reader.read(65536), every)
            except TimeoutError:
                writer.write(drip)  # more of a header name, or of the body
                continue
            if not answer or answer.startswith(b"HTTP/"):
                attack.closed_by_front += 1
                return
    finally:
        attack.open -= 1
        writer.transport.abort()


async def _persist(port: int, greeting: bytes, attack: Attack, delay: float) -> None:
    await asyncio.sleep(delay)  # connections arrive over a few seconds, not in one burst
    while not attack.stop.is_set():
        with suppress(OSError):
            await _hold(port, greeting, attack, attack.drip, attack.every)
        if not attack.stop.is_set():
            await asyncio.sleep(REOPEN_AFTER)


async def _run(port: int, greetings: list[bytes], attack: Attack, ramp: float) -> None:
    step = ramp / max(1, len(greetings))
    tasks = [
        asyncio.create_task(_persist(port, greeting, attack, i * step))
        for i, greeting in enumerate(greetings)
    ]
    while not attack.stop.is_set():
        await asyncio.sleep(0.2)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def greeting(circuit: int, request: bytes, *, version: int = 1) -> bytes:
    """What an attacker's connection on `circuit` sends first: tor's PROXY line, then `request`."""
    return (proxy_v1(circuit) if version == 1 else proxy_v2(circuit)) + request


@contextmanager
def attacking(
    port: int,
    greetings: list[bytes],
    ramp: float = 5.0,
    drip: bytes = b"X",
    every: float = DRIP_EVERY,
) -> Iterator[Attack]:
    """One connection per greeting held open (and reopened) for the block, on its own thread;
    each sends `drip` every `every` seconds (bench/front_load.py trickles real uploads)."""
    attack = Attack(drip=drip, every=every)
    thread = threading.Thread(
        target=lambda: asyncio.run(_run(port, greetings, attack, ramp)), daemon=True
    )
    thread.start()
    try:
        yield attack
    finally:
        attack.stop.set()
        thread.join(timeout=60)
