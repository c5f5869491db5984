"""Uploads and short testimonies through gunicorn: Intake against a plain Flask baseline.

Usage: .venv/bin/python bench/upload.py [--size 1GiB] [--small 10MiB] [--testimonies 300]
                                        [--threads 4] [--repeat 3] [--dir /var/tmp]

Every figure comes from a fresh gunicorn started with deploy/gunicorn.conf.py on 127.0.0.1
(Intake through `intake serve`, the baseline bench/baseline_app.py through the same config), so
each worker's VmHWM (peak RSS) covers exactly one run. The configurations are interleaved and
repeated (`--repeat`), and medians reported, because the machine this runs on is shared.
See bench/README.md for what is measured and why.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

# bench/crypto.py sits beside this script and would shadow the crypto package: drop the
# script's folder from the import path before importing the project.
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from crypto.age import open_bytes, open_stream
from crypto.minisign import SigningKey
from crypto.x25519 import X25519Identity
from protocol.schema import Submission

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BLOCK = 1 << 20
UNITS = {"b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}
# The testimony form's required answers, as a browser sends them, and a short account.
ANSWERS = [("consent", "y"), ("recipients", "investigators"), ("identify", "no")]
ANSWERS += [("contact", "no"), ("contact_how", "receipt-code")]
ANSWERS += [("account", "Soldiers took my neighbour away on the second day. " * 8)]
_ACTION = re.compile(r'<form id="testimony-form"[^>]*action="([^"]+)"')
_REFERENCE = re.compile(r'<strong id="reference">([^<]+)</strong>')


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+)([a-zA-Z]*)", text.strip())
    if not match or match.group(2).lower() not in UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 1GiB, 10MiB)")
    return int(match.group(1)) * UNITS[match.group(2).lower()]


@dataclass(frozen=True)
class Content:
    """A file generated block by block (one random block, each copy stamped with its index)."""

    size: int
    seed: bytes

    @classmethod
    def random(cls, size: int) -> Content:
        return cls(size, secrets.token_bytes(BLOCK))

    def blocks(self) -> Iterator[bytes]:
        for index in range(-(-self.size // BLOCK)):
            yield (index.to_bytes(8, "big") + self.seed[8:])[: self.size - index * BLOCK]

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for block in self.blocks():
            digest.update(block)
        return digest.hexdigest()


@dataclass(frozen=True)
class Body:
    """A multipart/form-data body: bytes and generated files, sent in order."""

    boundary: str
    pieces: tuple[bytes | Content, ...]

    @classmethod
    def form(cls, content: Content | None = None) -> Body:
        """The testimony form as a browser sends it: the answers, then the three file inputs
        (empty ones too, with filename=""), `content` in the first group."""
        boundary = "----bench" + secrets.token_hex(12)
        pieces: list[bytes | Content] = []
        for name, value in ANSWERS:
            pieces.append(cls._head(boundary, name) + value.encode() + b"\r\n")
        for group in (1, 2, 3):
            chosen = content if group == 1 else None
            filename = "video.mp4" if chosen else ""
            pieces.append(cls._head(boundary, f"group{group}-files", filename))
            pieces += [chosen, b"\r\n"] if chosen else [b"\r\n"]
        pieces.append(f"--{boundary}--\r\n".encode())
        return cls(boundary, tuple(pieces))

    @staticmethod
    def _head(boundary: str, name: str, filename: str | None = None) -> bytes:
        disposition = f'form-data; name="{name}"'
        extra = ""
        if filename is not None:
            disposition += f'; filename="{filename}"'
            extra = "Content-Type: application/octet-stream\r\n"
        return f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{extra}\r\n".encode()

    @property
    def length(self) -> int:
        return sum(len(p) if isinstance(p, bytes) else p.size for p in self.pieces)

    def chunks(self) -> Iterator[bytes]:
        for piece in self.pieces:
            yield from [piece] if isinstance(piece, bytes) else piece.blocks()


def send(port: int, method: str, path: str, body: Body | None = None, cookie: str = "") -> str:
    """One request on a fresh connection; the body is streamed; returns the page (200 only)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    try:
        conn.putrequest(method, path)
        if cookie:
            conn.putheader("Cookie", cookie)
        if body is not None:
            conn.putheader("Content-Type", f"multipart/form-data; boundary={body.boundary}")
            conn.putheader("Content-Length", str(body.length))
        conn.endheaders()
        for chunk in body.chunks() if body else ():
            conn.send(chunk)
        response = conn.getresponse()
        page = response.read().decode()
        if response.status != 200:
            raise RuntimeError(f"{method} {path} answered {response.status}: {page[:300]}")
        return page
    finally:
        conn.close()


@dataclass(frozen=True)
class Server:
    """A running gunicorn serving `kind` (intake, baseline, baseline+kdf) from `directory`."""

    kind: str
    process: subprocess.Popen[bytes]
    port: int
    directory: Path
    investigator: X25519Identity

    def peak_rss(self) -> int:
        """The largest VmHWM (peak RSS) among the workers, in bytes: the one that did the work."""
        peaks = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != self.process.pid:
                    continue
                status = (stat.parent / "status").read_text()
            except (OSError, IndexError):
                continue  # a process that ended while we looked
            found = re.search(r"VmHWM:\s+(\d+) kB", status)
            peaks.append(int(found.group(1)) * 1024 if found else 0)
        return max(peaks)

    def form(self) -> tuple[str, str]:
        """Intake only: a session cookie and a fresh form action (CSRF and one-time tokens)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", "/testimony")
            response = conn.getresponse()
            page = response.read().decode()
            cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
        finally:
            conn.close()
        match = _ACTION.search(page)
        if match is None:
            raise RuntimeError("the testimony form has no action")
        return cookie, unescape(match.group(1))

    def sql(self, query: str, *params: str) -> list[tuple[object, ...]]:
        name = "data/intake.sqlite3" if self.kind == "intake" else "baseline.sqlite3"
        with sqlite3.connect(self.directory / name) as conn:
            return list(conn.execute(query, params))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command(kind: str, directory: Path, env: dict[str, str], port: int) -> list[str]:
    """The argv of a gunicorn for `kind`, with the shipped config, on 127.0.0.1:`port`."""
    bind = f"127.0.0.1:{port}"
    if kind == "intake":
        env["INTAKE_DATA_DIR"] = str(directory / "data")
        # The keyring file (T2) in the run's directory, owned by whoever runs the bench.
        env["INTAKE_KEYRING_FILE"] = str(directory / "keyring.json")
        env["INTAKE_KEYRING_OWNER_UID"] = str(os.geteuid())
        return [str(BIN / "intake"), "serve", "--bind", bind]
    env.update(BENCH_BASELINE_DIR=str(directory), BENCH_BASELINE_KDF=str(int("kdf" in kind)))
    conf = ["--config", str(REPO / "deploy" / "gunicorn.conf.py"), "--bind", bind]
    # From the repository root: inside bench/, bench/crypto.py would shadow the package.
    app = ["--chdir", str(REPO), "bench.baseline_app:app"]
    return [sys.executable, "-m", "gunicorn", *conf, *app]


def _add_investigator(directory: Path, env: dict[str, str]) -> X25519Identity:
    """`intake init` and `intake keys add`, as an operator sets Intake up."""
    identity, signing = X25519Identity.generate(), SigningKey.generate()
    pub = directory / "investigator.pub"
    pub.write_text(signing.verify_key().to_file_text())
    add = ["keys", "add", str(identity.recipient()), "--name", "Bench", "--signing-key", str(pub)]
    for args in (["init"], add):
        subprocess.run([str(BIN / "intake"), *args], env=env, check=True, capture_output=True)
    return identity


@contextmanager
def running(kind: str, workdir: Path) -> Iterator[Server]:
    """A fresh gunicorn for one run; stopped, and its directory removed, afterwards."""
    directory = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=workdir))
    env = {key: value for key, value in os.environ.items() if not key.startswith("INTAKE_")}
    port = _free_port()
    argv = _command(kind, directory, env, port)
    identity = _add_investigator(directory, env) if kind == "intake" else X25519Identity.generate()
    with (directory / "gunicorn.log").open("wb") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                send(port, "GET", "/")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log_text = (directory / "gunicorn.log").read_text()[-3000:]
                    raise RuntimeError(f"{kind} did not start:\n{log_text}") from None
                time.sleep(0.1)
        yield Server(kind, process, port, directory, identity)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
        shutil.rmtree(directory)


@dataclass(frozen=True)
class UploadRun:
    seconds: float
    peak_rss: int


def run_upload(server: Server, size: int) -> UploadRun:
    """POST one file of `size` bytes with the form; check afterwards that it arrived intact."""
    content = Content.random(size)
    cookie, path = server.form() if server.kind == "intake" else ("", "/upload")
    body = Body.form(content)
    start = time.perf_counter()
    page = send(server.port, "POST", path, body, cookie)
    seconds = time.perf_counter() - start
    peak = server.peak_rss()
    if stored_sha256(server, page) != content.sha256():
        raise RuntimeError(f"{server.kind}: the stored file is not what was sent")
    return UploadRun(seconds, peak)


def stored_sha256(server: Server, page: str) -> str:
    """SHA-256 of the stored plaintext: Intake's blob opened offline, or the baseline's file."""
    digest = hashlib.sha256()
    if server.kind != "intake":
        (path,) = [p for p in (server.directory / "uploads").iterdir() if p.stat().st_size]
        with path.open("rb") as handle:
            while block := handle.read(BLOCK):
                digest.update(block)
        return digest.hexdigest()
    reference = _REFERENCE.search(page)
    if reference is None:
        raise RuntimeError("intake answered without a receipt")
    (manifest,) = server.sql("SELECT manifest_blob FROM submission WHERE id = ?", reference[1])
    blobs = server.directory / "data" / "store" / "blobs"
    doc = Submission.from_json(
        open_bytes((blobs / str(manifest[0])).read_bytes(), [server.investigator])
    )
    with (blobs / doc.files[0].blob_name).open("rb") as handle:
        for chunk in open_stream(handle, [server.investigator]):
            digest.update(chunk)
    return digest.hexdigest()


def run_testimonies(server: Server, count: int, threads: int) -> float:
    """Short testimonies per second: `count` form POSTs from `threads` client threads."""
    if server.kind == "intake":
        # Each submission needs its own one-time token: fetch the forms first, untimed.
        forms = [server.form() for _ in range(count)]
    else:
        forms = [("", "/testimony")] * count
    body = Body.form()

    def post(form: tuple[str, str]) -> None:
        if 'id="reference"' not in send(server.port, "POST", form[1], body, form[0]):
            raise RuntimeError(f"{server.kind}: a testimony was not received")

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, forms))
    seconds = time.perf_counter() - start
    table = "submission" if server.kind == "intake" else "testimony"
    (stored,) = server.sql(f"SELECT count(*) FROM {table}")  # noqa: S608 - our own table name
    if stored[0] != count:
        raise RuntimeError(f"{server.kind}: {stored[0]} rows for {count} testimonies")
    return count / seconds


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"


@dataclass
class Figures:
    """Every run's numbers, per configuration ("intake large", "baseline+kdf" …)."""

    uploads: dict[str, list[UploadRun]] = field(default_factory=dict)
    rates: dict[str, list[float]] = field(default_factory=dict)

    def upload_rate(self, kind: str, size: int) -> float:
        """MB/s of the median run."""
        return size / statistics.median(r.seconds for r in self.uploads[f"{kind} large"]) / 1e6

    def peak_rss(self, key: str) -> int:
        """The highest worker peak of the runs (the worst case is what the target is about)."""
        return max(run.peak_rss for run in self.uploads[key])

    def rate(self, kind: str) -> float:
        return statistics.median(self.rates[kind])


def report(args: argparse.Namespace, figures: Figures) -> dict[str, object]:
    """Print the medians, the spread and the targets; return them as one JSON-able dict."""
    rate = {kind: figures.upload_rate(kind, args.size) for kind in ("baseline", "intake")}
    rss = {key: figures.peak_rss(key) for key in figures.uploads}
    growth = rss["intake large"] - rss["intake small"]
    print(f"\nupload of {_mib(args.size)} in one POST, median of {args.repeat} run(s)")
    for kind in ("baseline", "intake"):
        runs = ", ".join(
            f"{args.size / r.seconds / 1e6:.0f}" for r in figures.uploads[f"{kind} large"]
        )
        print(
            f"  {kind:<9} {rate[kind]:6.1f} MB/s ({runs})   worker peak RSS at {_mib(args.small)}:"
            f" {_mib(rss[f'{kind} small'])}, at {_mib(args.size)}: {_mib(rss[f'{kind} large'])}"
        )
    ratio = rate["intake"] / rate["baseline"]
    print(f"  intake / baseline: {ratio:.2f} (target >= 0.80)")
    sizes = f"{_mib(args.small)} -> {_mib(args.size)}"
    print(f"  intake worker RSS growth {sizes}: {_mib(growth)} (target <= 16 MiB)")
    summary: dict[str, object] = {
        "size": args.size,
        "small": args.small,
        "repeat": args.repeat,
        "upload_mb_per_s": rate,
        "upload_ratio": ratio,
        "peak_rss": rss,
        "intake_rss_growth": growth,
        "upload_runs_s": {k: [r.seconds for r in v] for k, v in figures.uploads.items()},
    }
    if not figures.rates:
        return summary
    print(f"\nshort testimonies: {args.testimonies} POSTs from {args.threads} client threads")
    rates = {kind: figures.rate(kind) for kind in figures.rates}
    for kind, per_second in rates.items():
        runs = ", ".join(f"{r:.1f}" for r in figures.rates[kind])
        print(f"  {kind:<13} {per_second:7.1f} /s ({runs})")
    print(f"  intake / baseline+kdf: {rates['intake'] / rates['baseline+kdf']:.2f} (target >= 0.9)")
    print(f"  intake / baseline:     {rates['intake'] / rates['baseline']:.2f}")
    return summary | {
        "testimonies_per_s": rates,
        "testimony_ratio_kdf": rates["intake"] / rates["baseline+kdf"],
        "testimony_ratio_plain": rates["intake"] / rates["baseline"],
        "testimony_runs_per_s": figures.rates,
    }


def run_round(args: argparse.Namespace, workdir: Path, figures: Figures) -> None:
    """One of each: both apps at both sizes, then the three testimony servers."""
    for kind in ("baseline", "intake"):
        for label, size in (("small", args.small), ("large", args.size)):
            with running(kind, workdir) as server:
                run = run_upload(server, size)
            figures.uploads.setdefault(f"{kind} {label}", []).append(run)
            print(f"  {kind} {_mib(size)}: {run.seconds:.1f} s", flush=True)
    for kind in ("baseline", "baseline+kdf", "intake") if args.testimonies else ():
        with running(kind, workdir) as server:
            per_second = run_testimonies(server, args.testimonies, args.threads)
        figures.rates.setdefault(kind, []).append(per_second)
        print(f"  {kind} testimonies: {per_second:.1f} /s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("1GiB"))
    parser.add_argument("--small", type=parse_size, default=parse_size("10MiB"))
    parser.add_argument("--testimonies", type=int, default=300, help="0 skips them")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported")
    parser.add_argument("--dir", type=Path, default=Path("/var/tmp"), help="where servers store")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="intake-bench-", dir=args.dir))
    print(f"load average at start: {os.getloadavg()[0]:.2f}; files under {workdir}", flush=True)
    figures = Figures()
    try:
        for number in range(args.repeat):
            print(f"round {number + 1} (load average {os.getloadavg()[0]:.2f})", flush=True)
            run_round(args, workdir, figures)
    finally:
        shutil.rmtree(workdir)
    summary = report(args, figures)
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
