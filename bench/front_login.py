"""`bench/load.py --front`, phase 2: right-codename logins, alone and during a codename flood.

Each measured login comes from a fresh simulated circuit (as a witness's Tor Browser would);
the flood is 64 threads on 8 circuits sending wrong codenames as fast as the server answers
(tests/deploy/attackers.py, which the flood test uses too).
Timings are printed by bench/front_load.py, never asserted.
"""

from __future__ import annotations

import argparse

from tests.deploy.attackers import codename_flood, codename_on, login
from tests.deploy.haproxy import connector
from tests.e2e.streaming import GeneratedFile, multipart, open_form, post_stream, required_answers

__all__ = ["fresh_circuits", "login_figures", "p95"]

fresh_circuits = iter(range(100_000, 10**9))  # a fresh circuit for each measured request


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("inf")


def a_codename(port: int) -> str:
    """A witness's codename, from the receipt of a small testimony."""
    file = GeneratedFile.random(64 * 1024, b"BENCH")
    form = open_form(port, connector(41))
    content_type, length, body = multipart(
        required_answers("A bench witness"), "group1-files", "a.mp4", file
    )
    _status, page = post_stream(port, form, content_type, length, body, connect=connector(41))
    return codename_on(page)


def right_logins(port: int, codename: str, count: int) -> list[float]:
    found = []
    for _ in range(count):
        status, seconds = login(port, next(fresh_circuits), codename)
        found.append(seconds if status in (200, 303) else float("inf"))
    return found


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
