"""Attackers on simulated Tor circuits: slow connections on one asyncio loop (2,000 sockets
cheap), and a codename flood; the landing-page probe and the right-codename login they are
measured by.

Used by tests/deploy/test_front_at_scale.py and bench/front_load.py, with the attack both run:
1,000 slow heads and 1,000 slow bodies (real forms) on 32 circuits, and by
tests/deploy/test_front_under_attack.py and bench/front_login.py (the codename flood).
Each attacker connection says which circuit it comes on (tor's PROXY v1 line), starts a
request and then sends one more byte every few seconds, for as long as the front keeps it
open. When the front closes it (a 408 at the head deadline, a 429 beyond a circuit's share, a
connection beyond the circuit's 16), the attacker waits and opens it again, as a persistent
attacker would: the front keeps at most 16 x 32 = 512 at once, the rest are refused and
retried. `Attack.open` counts those the attacker believes open (the kernel accepts before
HAProxy refuses); the front's own count is in its stats socket.
"""

from __future__ import annotations

import asyncio
import http.client
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from html import unescape

from tests.deploy.haproxy import CircuitConnection, connector, proxy_v1
from tests.e2e.streaming import FormSession, open_form

CIRCUITS = 32
SLOW_HEADS = SLOW_BODIES = 1000
# A circuit's uploads in flight at once (deploy/haproxy.cfg: sc1_conn_cur gt 4 is refused).
FORMS_PER_CIRCUIT = 4
PROBE_LIMIT = 10.0
_CODENAME = re.compile(r'id="codename">([^<]+)<')
_LOGIN_ACTION = re.compile(r'<form id="login-form"[^>]*action="([^"]+)"')

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


def greeting(circuit: int, request: bytes) -> bytes:
    """What an attacker's connection on `circuit` sends first: tor's PROXY line (v1, as tor
    writes it), then `request`."""
    return proxy_v1(circuit) + request


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


def another_form(port: int, circuit: int, form: FormSession) -> FormSession:
    """The same session's form loaded once more: a new one-time token in its action."""
    conn = CircuitConnection(port, circuit)
    try:
        conn.request("GET", "/testimony", headers={"Cookie": form.cookie})
        response = conn.getresponse()
        html = response.read().decode()
    finally:
        conn.close()
    assert response.status == 200, html
    action = html.split('<form id="testimony-form"', 1)[1].split('action="', 1)[1]
    return FormSession(form.cookie, unescape(action.split('"', 1)[0]))


def forms_of(port: int, circuit: int) -> list[FormSession]:
    """FORMS_PER_CIRCUIT forms of one session on `circuit`: as many uploads as it may run."""
    first = open_form(port, connector(circuit))
    return [first, *(another_form(port, circuit, first) for _ in range(FORMS_PER_CIRCUIT - 1))]


def slow_body_greetings(port: int) -> list[bytes]:
    """1,000 slow uploads over the circuits, each with a form of its circuit's session."""
    forms = {circuit: forms_of(port, circuit) for circuit in range(2000, 2000 + CIRCUITS)}
    found = []
    for i in range(SLOW_BODIES):
        circuit = 2000 + i % CIRCUITS
        form = forms[circuit][(i // CIRCUITS) % FORMS_PER_CIRCUIT]
        found.append(greeting(circuit, slow_body_head(form.action, form.cookie)))
    return found


def slow_head_greetings() -> list[bytes]:
    """1,000 request heads that are never finished, on the same 32 circuits."""
    return [greeting(2000 + i % CIRCUITS, SLOW_HEAD) for i in range(SLOW_HEADS)]


def probe(port: int, circuit: int | None = 9999) -> float:
    """Seconds until the landing page answered 200 on `circuit` (straight to `port`, with no
    PROXY line, when None), inf when it did not within PROBE_LIMIT."""
    started = time.monotonic()
    conn = (
        http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_LIMIT)
        if circuit is None
        else CircuitConnection(port, circuit, PROBE_LIMIT)
    )
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        response.read()
    except OSError:
        return float("inf")
    finally:
        conn.close()
    return time.monotonic() - started if response.status == 200 else float("inf")


def codename_on(receipt: str) -> str:
    """The codename a receipt page shows its witness."""
    match = _CODENAME.search(receipt)
    assert match, receipt[-2000:]
    return match.group(1).strip()


def login(port: int, circuit: int, codename: str) -> tuple[int, float]:
    """GET /return then POST the codename on one connection: (status, seconds of the POST)."""
    conn = CircuitConnection(port, circuit, timeout=120)
    try:
        conn.request("GET", "/return")
        response = conn.getresponse()
        html = response.read().decode()
        cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
        match = _LOGIN_ACTION.search(html)
        if response.status != 200 or match is None:
            return response.status, 0.0
        started = time.monotonic()
        conn.request(
            "POST",
            unescape(match.group(1)),
            body=f"codename={codename.replace(' ', '+')}",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        answer = conn.getresponse()
        answer.read()
        return answer.status, time.monotonic() - started
    finally:
        conn.close()


@contextmanager
def codename_flood(port: int) -> Iterator[list[int]]:
    """64 threads on 8 circuits (3000-3007) sending wrong codenames as fast as answered, from 3 s
    before the block to its end; the statuses they got."""
    stop, statuses = threading.Event(), []

    def guess(circuit: int) -> None:
        while not stop.is_set():
            statuses.append(login(port, circuit, "wrong " * 7)[0])

    threads = [threading.Thread(target=guess, args=(3000 + i % 8,)) for i in range(64)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        yield statuses
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=180)
