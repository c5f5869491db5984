"""`bench/load.py --front`: the figures of issue 15 through the front (HAProxy → gunicorn).

One Intake (`intake serve`, deploy/gunicorn.conf.py, the production codename KDF) behind a
HAProxy run from deploy/haproxy.cfg (tests/deploy/haproxy.py: ports rewritten), clients on
simulated Tor circuits (tor's PROXY lines). In one run, in this order:

1. landing p95 with no attack, then while 1,000 slow heads and 1,000 slow bodies (real forms)
   on 32 circuits keep connecting (tests/deploy/attackers.py; the front keeps at most 16 per
   circuit, 512 at once, and refuses the rest, which retry): both p95 and their ratio
   (target: p95 under attack < 1 s);
2. login with the right codename from a fresh circuit, alone and while 64 connections on 8
   circuits send wrong codenames as fast as the server answers: p95 of each (target < 30 s;
   bench/front_login.py);
3. N uploads held open, trickling: RSS of HAProxy and of the gunicorn workers, idle and with
   the N held, and the growth per held upload.

Timings are printed, never asserted (tests/deploy/test_front_at_scale.py asserts behaviour).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from bench.front_login import fresh_circuits, login_figures, p95
from intake.front_status import read_front
from tests.deploy.attackers import (
    CIRCUITS,
    FORMS_PER_CIRCUIT,
    Attack,
    attacking,
    forms_of,
    greeting,
    probe,
    slow_body_greetings,
    slow_head_greetings,
)
from tests.deploy.haproxy import Front, front, stats_socket
from tests.e2e.conftest import LiveSite, serve
from tests.e2e.streaming import FormSession, required_answers


def landing_samples(port: int, count: int, interval: float) -> list[float]:
    """`count` landing-page loads, each on a new circuit (inf when over 10 s or not 200)."""
    found = []
    for _ in range(count):
        found.append(probe(port, next(fresh_circuits)))
        time.sleep(interval)
    return found


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return total


def upload_head(form: FormSession) -> bytes:
    """A testimony's head, its answers and the start of a file part declared as 256 MiB.

    Not larger: the server reserves free disk for each declared length (intake/diskguard.py),
    and 100 uploads declared at 2 GiB each exceed this machine's disk (36 got in).
    """
    boundary = "held" + os.urandom(8).hex()
    fields = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in required_answers("A held upload")
    )
    fields += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="group1-files"; '
        'filename="held.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    return (
        f"POST {form.action} HTTP/1.1\r\nHost: intake\r\nCookie: {form.cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {256 << 20}\r\n\r\n"
    ).encode() + fields


def held_upload_greetings(port: int, count: int) -> list[bytes]:
    """`count` uploads with real forms, 4 per circuit (the front's per-circuit upload limit)."""
    found = []
    for index in range(-(-count // FORMS_PER_CIRCUIT)):
        circuit = 50_000 + index
        found += [greeting(circuit, upload_head(form)) for form in forms_of(port, circuit)]
    return found[:count]


def memory_figures(site: LiveSite, haproxy: Front, count: int) -> dict[str, float]:
    """RSS (KiB) of HAProxy and the workers, idle and with `count` uploads held open, each
    trickling 32 KiB every 0.5 s (64 KB/s, a fair Tor upload) into a file part."""
    greetings = held_upload_greetings(haproxy.port, count)
    idle_h, idle_g = rss_kib([haproxy.process.pid]), rss_kib(site.workers())
    piece = os.urandom(32 * 1024)
    with attacking(haproxy.port, greetings, ramp=5, drip=piece, every=0.5) as held:
        # By then each has sent over 2 MiB: the sealer holds its steady-state buffers.
        time.sleep(45)
        held_now = held.open
        busy_h, busy_g = rss_kib([haproxy.process.pid]), rss_kib(site.workers())
    return {
        "uploads_held": held_now,
        "haproxy_idle_kib": idle_h,
        "haproxy_held_kib": busy_h,
        "gunicorn_idle_kib": idle_g,
        "gunicorn_held_kib": busy_g,
        "per_upload_total_kib": (busy_h + busy_g) / max(1, held_now),
        "per_upload_growth_kib": (busy_h + busy_g - idle_h - idle_g) / max(1, held_now),
    }


def under_attack(haproxy: Front, samples: int, interval: float) -> tuple[list[float], Attack, int]:
    """Landing loads during the attack, the attack's counters, and the most connections the
    front itself reported open (its stats socket, as `intake stats --live` reads it)."""
    port = haproxy.port
    greetings = slow_head_greetings() + slow_body_greetings(port)
    with attacking(port, greetings, ramp=10) as attack:
        time.sleep(12)
        found, at_front = [], 0
        for _ in range(samples):
            found.append(probe(port, next(fresh_circuits)))
            at_front = max(at_front, read_front(stats_socket(haproxy.workdir)).connections)
            time.sleep(interval)
        return found, attack, at_front


def run(args: argparse.Namespace) -> dict[str, object]:
    phases, figures = set(args.phases.split(",")), {}
    with tempfile.TemporaryDirectory(prefix="intake-front-") as tmp:
        root = Path(tmp)
        with serve(root) as site, front(root, site.port) as haproxy:
            port = haproxy.port
            if "landing" in phases:
                figures.update(landing_figures(haproxy, args))
            if "login" in phases:
                figures.update(login_figures(port, args))
            if "memory" in phases:
                figures.update(memory_figures(site, haproxy, args.uploads))
    return {**figures, "load_average": os.getloadavg()[0]}


def landing_figures(haproxy: Front, args: argparse.Namespace) -> dict[str, float]:
    quiet = landing_samples(haproxy.port, args.samples, args.interval)
    attacked, attack, at_front = under_attack(haproxy, args.samples, args.interval)
    return {
        "landing_p95_quiet_s": p95(quiet),
        "landing_p95_attack_s": p95(attacked),
        "landing_ratio": p95(attacked) / p95(quiet),
        "landing_median_attack_s": statistics.median(attacked),
        # 16 kept per circuit (512 on 32), plus those being accepted or refused right then.
        "front_connections_max": at_front,
        "attack_peak_open": attack.peak,  # as the attacker counts (the kernel accepts first)
        "attack_opened": attack.opened,
    }


def report(figures: dict[str, object]) -> None:
    f = {k: v for k, v in figures.items() if isinstance(v, (int, float))}
    if "landing_ratio" in f:
        print(f"landing p95: {f['landing_p95_quiet_s'] * 1000:.0f} ms quiet, "
              f"{f['landing_p95_attack_s'] * 1000:.0f} ms under 1,000 slow heads + 1,000 slow "
              f"bodies on {CIRCUITS} circuits, at most {f['front_connections_max']:.0f} open "
              f"at the front (ratio {f['landing_ratio']:.2f}; target < 1 s)")  # fmt: skip
    if "login_ratio" in f:
        print(f"right-codename login p95: {f['login_p95_alone_s']:.2f} s alone, "
              f"{f['login_p95_flood_s']:.2f} s during the flood of 64 connections on 8 circuits "
              f"(ratio {f['login_ratio']:.2f}; target < 30 s)")  # fmt: skip
    if "uploads_held" in f:
        print(f"{f['uploads_held']:.0f} uploads held: HAProxy "
              f"{f['haproxy_idle_kib'] / 1024:.0f} -> {f['haproxy_held_kib'] / 1024:.0f} MiB, "
              f"gunicorn workers {f['gunicorn_idle_kib'] / 1024:.0f} -> "
              f"{f['gunicorn_held_kib'] / 1024:.0f} MiB: {f['per_upload_total_kib']:.0f} KiB "
              f"per held upload in all, {f['per_upload_growth_kib']:.0f} KiB of growth "
              "each")  # fmt: skip
    print(f"load average at the end: {f['load_average']:.2f}")
    print(json.dumps(figures))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench/load.py --front")
    parser.add_argument("--samples", type=int, default=60, help="landing loads per phase")
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--logins", type=int, default=10, help="right-codename logins per phase")
    parser.add_argument("--uploads", type=int, default=100, help="uploads held for memory")
    parser.add_argument("--phases", default="landing,login,memory")
    report(run(parser.parse_args(argv)))
