"""`bench/load.py --front`, phase 2: right-codename logins, alone and during a codename flood.

Each measured login comes from a fresh simulated circuit (as a witness's Tor Browser would);
the flood is 64 threads on 8 circuits sending wrong codenames as fast as the server answers.
Timings are printed by bench/front_load.py, never asserted.
"""

from __future__ import annotations

import argparse
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape

from tests.deploy.haproxy import CircuitConnection, connector
from tests.e2e.streaming import GeneratedFile, multipart, open_form, post_stream, required_answers

__all__ = ["fresh_circuits", "login_figures", "p95"]

_CODENAME = re.compile(r'id="codename">([^<]+)<')
_LOGIN_ACTION = re.compile(r'<form id="login-form"[^>]*action="([^"]+)"')
fresh_circuits = iter(range(100_000, 10**9))  # a fresh circuit for each measured request


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("inf")


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


def a_codename(port: int) -> str:
    """A witness's codename, from the receipt of a small testimony."""
    file = GeneratedFile.random(64 * 1024, b"BENCH")
    form = open_form(port, connector(41))
    content_type, length, body = multipart(
        required_answers("A bench witness"), "group1-files", "a.mp4", file
    )
    _status, page = post_stream(port, form, content_type, length, body, connect=connector(41))
    match = _CODENAME.search(page)
    assert match, page[-2000:]
    return match.group(1).strip()


def right_logins(port: int, codename: str, count: int) -> list[float]:
    found = []
    for _ in range(count):
        status, seconds = login(port, next(fresh_circuits), codename)
        found.append(seconds if status in (200, 303) else float("inf"))
    return found


@contextmanager
def codename_flood(port: int) -> Iterator[list[int]]:
    """64 threads on 8 circuits sending wrong codenames as fast as answered; their statuses."""
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


def login_figures(port: int, args: argparse.Namespace) -> dict[str, float]:
    codename = a_codename(port)
    alone = right_logins(port, codename, args.logins)
    with codename_flood(port) as statuses:
        flooded = right_logins(port, codename, args.logins)
    return {
        "login_p95_alone_s": p95(alone),
        "login_p95_flood_s": p95(flooded),
        "login_ratio": p95(flooded) / p95(alone),
        "flood_answers": len(statuses),
        "flood_429": statuses.count(429),
    }
