"""Slow uploads held open while new visitors load the landing page; short testimonies per second.

Usage: .venv/bin/python bench/load.py [--levels 50,100,200,300,400] [--rate 50000]
                                      [--window 20] [--testimonies 200] [--clients 8]
       .venv/bin/python bench/load.py --front [--samples 60] [--logins 10] [--uploads 100]

With --front, the figures of issue 15 through HAProxy instead (bench/front_load.py: landing p95
while 2,000 slow connections keep coming, at most 512 kept by the front, against none;
right-codename login p95 during a codename flood; memory per held upload); what follows
describes the run on gunicorn alone.

One gunicorn with deploy/gunicorn.conf.py on 127.0.0.1 serves a fresh installation (`intake
init`, one investigator key). For each level N the bench opens N testimony uploads that trickle
a file at --rate bytes/s each (Tor-like), waits until all N are being received, then loads the
landing page on a new connection every --interval seconds for --window seconds and reports its
latency (p50/p95/max), the uploads the server holds (temporary blobs being written), and each
worker's VmRSS and VmHWM. The uploads are then dropped (the server discards them). Last, short
testimonies (no file) from --clients parallel clients: submissions per second. Bounded: every
loop stops at a count or a deadline. See docs/reliability.md for figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

# bench/crypto.py sits beside this script and would shadow the crypto package.
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.front_load, tests.*

from crypto.minisign import SigningKey
from crypto.x25519 import X25519Identity
from tests.conftest import keyring_env

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "deploy" / "gunicorn.conf.py"
INTAKE = Path(sys.executable).with_name("intake")
ANSWERS = [("consent", "y"), ("recipients", "investigators"), ("identify", "no")]
ANSWERS += [("contact", "no"), ("contact_how", "receipt-code")]
ANSWERS += [("account", "Soldiers took my neighbour away on the second day. " * 8)]
_ACTION = re.compile(rb'<form id="testimony-form"[^>]*action="([^"]+)"')
PIECE = 8192  # bytes per write: a trickling client sends a few writes a second
GET_TIMEOUT = 10.0  # a landing page slower than this counts as this


def raise_fd_limit() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit (inherited by the gunicorn it starts)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def install(root: Path) -> dict[str, str]:
    """`intake init` and `intake keys add` in `root`; the environment for the server."""
    # The keyring file lives under `root`, owned by whoever runs the bench (as in the tests).
    env = {**os.environ, "INTAKE_DATA_DIR": str(root / "data"), **keyring_env(root)}
    subprocess.run([str(INTAKE), "init"], env=env, check=True, capture_output=True)
    pub = root / "investigator.pub"
    pub.write_text(SigningKey.generate().verify_key().to_file_text(), encoding="utf-8")
    recipient = str(X25519Identity.generate().recipient())
    add = [str(INTAKE), "keys", "add", recipient, "--name", "Bench", "--signing-key", str(pub)]
    subprocess.run(add, env=env, check=True, capture_output=True)
    return env


def free_port() -> int:
    import socket  # noqa: PLC0415 - only here

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    port: int
    proc: subprocess.Popen[bytes]
    temp_dir: Path

    def workers(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)],
            capture_output=True, text=True, check=False,
        ).stdout  # fmt: skip
        return [int(pid) for pid in out.split()]

    def memory(self) -> list[dict[str, int]]:
        """VmRSS and VmHWM (KiB) and the thread count of each worker."""
        found = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            found.append({k: int(re.search(rf"{k}:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
                          for k in ("VmRSS", "VmHWM", "Threads")})  # fmt: skip
        return found

    def receiving(self) -> int:
        return sum(1 for _ in self.temp_dir.iterdir())


@contextmanager
def gunicorn(env: dict[str, str], root: Path) -> Iterator[Server]:
    port = free_port()
    with (root / "gunicorn.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(CONF)],
            env={**env, "INTAKE_BIND": f"127.0.0.1:{port}"},
            stdout=log, stderr=log, cwd=root, start_new_session=True,
        )  # fmt: skip
    server = Server(port, proc, root / "data" / "store" / "tmp")
    try:
        deadline = time.monotonic() + 60
        while len(server.workers()) < 2 or asyncio.run(landing(port)) is None:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"gunicorn did not start; see {root / 'gunicorn.log'}")
            time.sleep(0.2)
        yield server
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGQUIT)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


async def exchange(port: int, request: bytes) -> tuple[bytes, bytes]:
    """Send a whole request on a new connection; the response's head and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
        return head, await reader.readexactly(length)
    finally:
        writer.close()


async def landing(port: int) -> float | None:
    """Seconds for GET / on a new connection (None when it fails or exceeds GET_TIMEOUT)."""
    start = time.monotonic()
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    try:
        head, _ = await asyncio.wait_for(exchange(port, request), GET_TIMEOUT)
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        return None
    return time.monotonic() - start if head.startswith(b"HTTP/1.1 200") else None


async def fresh_form(port: int) -> tuple[bytes, bytes]:
    """A new visitor's session cookie and the form's action URL."""
    head, body = await exchange(port, b"GET /testimony HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    cookie = re.search(rb"(?i)set-cookie: (session=[^;]+)", head).group(1)  # type: ignore[union-attr]
    return cookie, _ACTION.search(body).group(1).replace(b"&amp;", b"&")  # type: ignore[union-attr]


def post_head(port: int, cookie: bytes, action: bytes, boundary: str, length: int) -> bytes:
    return (
        b"POST " + action + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + cookie
        + f"\r\nContent-Type: multipart/form-data; boundary={boundary}".encode()
        + f"\r\nContent-Length: {length}\r\n\r\n".encode()
    )  # fmt: skip


def form_fields(boundary: str) -> bytes:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             for k, v in ANSWERS]  # fmt: skip
    return "".join(parts).encode()


@dataclass
class Level:
    uploads: int
    opened: int = 0
    failed: int = 0
    held: int = 0
    samples: list[float] = field(default_factory=list)
    timeouts: int = 0
    memory: list[dict[str, int]] = field(default_factory=list)

    def p(self, q: float) -> float:
        ordered = sorted(self.samples + [GET_TIMEOUT] * self.timeouts)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else GET_TIMEOUT


async def trickle(
    port: int, rate: float, stop: asyncio.Event, level: Level, gate: asyncio.Semaphore
) -> None:
    """One slow upload: a form with a file sent at `rate` bytes/s until `stop`, then dropped."""
    async with gate:  # visitors arrive a few at a time, as they would
        cookie, action = await fresh_form(port)
    boundary = "----load" + secrets.token_hex(8)
    file_head = (f'--{boundary}\r\nContent-Disposition: form-data; name="group1-files"; '
                 f'filename="video.mp4"\r\nContent-Type: video/mp4\r\n\r\n').encode()  # fmt: skip
    start = form_fields(boundary) + file_head
    # Declared as a 2 GiB body: it never completes; the server reads it as it arrives.
    head = post_head(port, cookie, action, boundary, 2 * 1024**3 - 1)
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    level.opened += 1
    try:
        writer.write(head + start)
        piece = os.urandom(PIECE)
        while not stop.is_set():
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(PIECE / rate)
    except OSError:
        level.failed += 1
    finally:
        writer.transport.abort()  # the witness's connection drops: nothing is kept


async def run_level(server: Server, uploads: int, args: argparse.Namespace) -> Level:
    level, stop, gate = Level(uploads), asyncio.Event(), asyncio.Semaphore(16)
    tasks = [asyncio.create_task(trickle(server.port, args.rate, stop, level, gate))
             for _ in range(uploads)]  # fmt: skip
    deadline = time.monotonic() + args.ramp
    while server.receiving() < uploads and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
    await asyncio.sleep(args.warmup)
    end = time.monotonic() + args.window
    while time.monotonic() < end:
        latency = await landing(server.port)
        if latency is None:
            level.timeouts += 1
        else:
            level.samples.append(latency)
        await asyncio.sleep(args.interval)
    level.held, level.memory = server.receiving(), server.memory()
    stop.set()
    await asyncio.wait(tasks, timeout=30)
    for task in tasks:
        task.cancel()
    deadline = time.monotonic() + 30
    while server.receiving() and time.monotonic() < deadline:  # the server drops them
        await asyncio.sleep(0.2)
    return level


def short_testimonies(server: Server, count: int, clients: int) -> tuple[int, float]:
    """`count` testimonies without files from `clients` threads: (received, per second)."""

    async def one() -> bool:
        cookie, action = await fresh_form(server.port)
        boundary = "----short" + secrets.token_hex(8)
        body = form_fields(boundary) + f"--{boundary}--\r\n".encode()
        head = post_head(server.port, cookie, action, boundary, len(body))
        answer, _ = await exchange(server.port, head + body)
        return answer.startswith(b"HTTP/1.1 200")

    start = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        done = sum(pool.map(lambda _: asyncio.run(one()), range(count)))
    return done, done / (time.monotonic() - start)


def report(levels: list[Level], short: tuple[int, float], args: argparse.Namespace) -> None:
    print(f"uploads trickling at {args.rate / 1000:.0f} KB/s each; after {args.warmup}s, "
          f"landing page every {args.interval}s for {args.window}s; "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"{'N':>5} {'held':>5} {'fail':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
          f"{'t/o':>4}  per worker: VmRSS/VmHWM MiB, threads")  # fmt: skip
    best = 0
    for lv in levels:
        mem = ", ".join(f"{m['VmRSS'] / 1024:.0f}/{m['VmHWM'] / 1024:.0f} {m['Threads']}t"
                        for m in lv.memory)  # fmt: skip
        print(f"{lv.uploads:>5} {lv.held:>5} {lv.failed:>5} {lv.p(0.5) * 1000:>8.0f} "
              f"{lv.p(0.95) * 1000:>8.0f} {max(lv.samples, default=0) * 1000:>8.0f} "
              f"{lv.timeouts:>4}  {mem}")  # fmt: skip
        if lv.p(0.95) < 1.0 and lv.held >= lv.uploads and not lv.failed:
            best = max(best, lv.uploads)
    print(f"largest N with landing p95 < 1 s while all N are held: {best}")
    print(f"short testimonies: {short[0]} received, {short[1]:.1f} per second")
    levels_json = [{**asdict(lv), "samples": len(lv.samples), "p50": lv.p(0.5), "p95": lv.p(0.95),
                    "median": statistics.median(lv.samples) if lv.samples else None}
                   for lv in levels]  # fmt: skip
    print(json.dumps({"levels": levels_json, "best": best, "testimonies_per_s": short[1]}))


def main() -> None:
    if sys.argv[1:2] == ["--front"]:
        from bench.front_load import main as front_main  # noqa: PLC0415 - pulls in tests.*

        raise_fd_limit()
        front_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="50,100,200,300,400")
    parser.add_argument("--rate", type=float, default=50_000, help="bytes/s per upload")
    parser.add_argument("--window", type=float, default=20, help="seconds of landing samples")
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--ramp", type=float, default=90, help="seconds to open all uploads")
    # At 50 KB/s an upload passes 2 MiB after ~42 s: by then the sealer holds its steady-state
    # buffers (crypto's STREAM batches), so the memory figures are not flattered.
    parser.add_argument("--warmup", type=float, default=45, help="seconds before sampling")
    parser.add_argument("--testimonies", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    print(f"RLIMIT_NOFILE raised to {raise_fd_limit()}")
    with tempfile.TemporaryDirectory(prefix="intake-load-") as tmp:
        root = Path(tmp)
        with gunicorn(install(root), root) as server:
            levels = [asyncio.run(run_level(server, int(n), args)) for n in args.levels.split(",")]
            short = short_testimonies(server, args.testimonies, args.clients)
    report(levels, short, args)


if __name__ == "__main__":
    main()
