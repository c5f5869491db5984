"""What committing each file as it arrives costs: a 20-file testimony, per-file against single.

Usage: .venv/bin/python bench/commit.py [--files 20] [--sizes 64KiB,2MiB] [--repeat 5]
                                        [--dir /var/tmp] [--database-url URL]

Intake commits every file part to the witness's draft the moment its closing boundary arrives
(issue 14: a cut loses only the part in flight): per file, the blob is named (fsync of the
file and its directory) and a transaction adds its row and its metadata, sealed to the
witness's reply key and the session cookie's key. The baseline (bench/commit_baseline.py) is
the behaviour before: parts sealed into temporary blobs while they arrive, everything named
and committed once at the end. Both are the same Intake app in this process, driven through
its WSGI interface with Werkzeug's test client (no sockets, so the difference is not lost in
network noise); only the keeper differs. See bench/README.md.

Each run is a new witness (codename step outside the timing) sending one testimony with
`--files` files of one size; the clock covers the POST of the whole body up to the receipt's
303. Runs alternate between the two, `--repeat` rounds per size, and medians are reported with
the ratio per-file / single (above 1.00: per-file commit costs that much more) and the extra
milliseconds per file. After the timed part each submission's sealed submission.json is
opened with the investigator key and must list exactly the files sent, with their hashes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from typing import Any

# bench/crypto.py sits beside this script and would shadow the crypto package: drop the
# script's folder from the import path, and put the repository's there (for bench.*).
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import stream_encode_multipart

from bench.commit_baseline import SingleCommitKeeper
from crypto.age import open_bytes
from crypto.minisign import SigningKey
from crypto.witness import FAST_TEST_COST
from crypto.x25519 import X25519Identity
from intake.app import build_services, create_app
from intake.config import load_config
from intake.datadir import init_data_dir
from intake.keyring import NewKey, add_to_file
from intake.models import Submission as SubmissionRow
from intake.web import receiving
from intake.web.services.context import KDF_COST_KEY
from protocol.schema import Submission

UNITS = {"b": 1, "kib": 1 << 10, "mib": 1 << 20}
ANSWERS = {
    "consent": "y",
    "recipients": "investigators",
    "identify": "no",
    "contact": "no",
    "contact_how": "receipt-code",
    "account": "Soldiers took my neighbour away on the second day. " * 8,
}
_FORM = re.compile(r'<form id="([a-z-]+)" method="post"[^>]*action="([^"]+)"')
_CODENAME = re.compile(r'<p class="codename" id="codename">([a-z ]+)</p>')
_WORD = re.compile(r'<input [^>]*data-position="(\d)" id="word[12]"[^>]* name="(word[12])"')
PER_FILE, SINGLE = "per-file commit", "single commit"


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+)([a-zA-Z]*)", text.strip())
    if not match or match.group(2).lower() not in UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 64KiB, 2MiB)")
    return int(match.group(1)) * UNITS[match.group(2).lower()]


def make_site(root: Path, database_url: str | None) -> tuple[Flask, Any, X25519Identity]:
    """An Intake app on a new data directory under `root`, with one investigator key."""
    folder = root / "etc-intake"
    folder.mkdir(parents=True)
    env = {
        "INTAKE_DATA_DIR": str(root / "data"),
        "INTAKE_KEYRING_FILE": str(folder / "keyring.json"),
        "INTAKE_KEYRING_OWNER_UID": str(os.geteuid()),
    }
    config = load_config(env)
    if database_url:
        config = config.replace(database_url=database_url)
    services = build_services(config)
    init_data_dir(config, services.engine)
    investigator = X25519Identity.generate()
    signing = SigningKey.generate().verify_key().to_file_text()
    key = NewKey.parse(str(investigator.recipient()), name="Bench", signing_key=signing)
    add_to_file(config.keyring_file, key)
    app = create_app(config, services=services)
    # The codename step is outside the timing: a fast KDF keeps the benchmark short.
    app.config[KDF_COST_KEY] = FAST_TEST_COST
    return app, services, investigator


def _action(html: str, form_id: str) -> str:
    for found, action in _FORM.findall(html):
        if found == form_id:
            return unescape(action)
    raise SystemExit(f"no form {form_id!r} on the page")


def testimony_form(client: Any) -> str:
    """A new witness through the codename step; the testimony form's action URL."""
    start = client.get("/start").get_data(as_text=True)
    issued = client.post(_action(start, "start-form"), follow_redirects=True)
    html = issued.get_data(as_text=True)
    found = _CODENAME.search(html)
    if found is None:
        raise SystemExit("no codename on the page")
    words = found.group(1).split(" ")
    answer = {name: words[int(position) - 1] for position, name in _WORD.findall(html)}
    client.post(_action(html, "confirm-form"), data=answer)
    return _action(client.get("/testimony").get_data(as_text=True), "testimony-form")


def encode(files: list[bytes]) -> tuple[bytes, str]:
    """The multipart body a browser sends: the answers first, then the files."""
    fields: MultiDict[str, Any] = MultiDict(ANSWERS)
    for index, data in enumerate(files):
        fields.add("group1-files", FileStorage(io.BytesIO(data), f"clip-{index:02d}.mp4"))
    stream, _length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return stream.read(), f"multipart/form-data; boundary={boundary}"


@contextmanager
def keeper(name: str) -> Iterator[None]:
    """Intake's DraftKeeper, or the single-commit baseline in its place."""
    names = vars(receiving)  # the module's globals: `receiving()` looks DraftKeeper up there
    original = names["DraftKeeper"]
    if name == SINGLE:
        names["DraftKeeper"] = SingleCommitKeeper
    try:
        yield
    finally:
        names["DraftKeeper"] = original


def one_run(app: Flask, name: str, files: list[bytes]) -> tuple[float, str]:
    """Seconds for one testimony's POST, and its reference (from the 303's Location)."""
    client = app.test_client()
    action = testimony_form(client)
    body, content_type = encode(files)
    with keeper(name):
        started = time.perf_counter()
        answer = client.post(action, data=body, content_type=content_type)
        seconds = time.perf_counter() - started
    if answer.status_code != 303:
        raise SystemExit(f"{name}: the POST answered {answer.status_code}")
    receipt = client.get(answer.headers["Location"]).get_data(as_text=True)
    reference = re.search(r'<strong id="reference">([^<]+)</strong>', receipt)
    if reference is None:
        raise SystemExit(f"{name}: no receipt")
    return seconds, reference.group(1)


def check(services: Any, investigator: X25519Identity, reference: str, files: list[bytes]) -> None:
    """The sealed submission.json lists exactly the files sent, with their hashes."""
    with services.sessions() as session:
        row = session.get(SubmissionRow, reference)
        manifest = row.manifest_blob
    with services.store.open(manifest) as handle:
        doc = Submission.from_json(open_bytes(handle.read(), [investigator]))
    sent = sorted(hashlib.sha256(data).hexdigest() for data in files)
    if sorted(entry.plaintext_sha256 for entry in doc.files) != sent:
        raise SystemExit(f"{reference}: the stored files are not the ones sent")


def bench_size(
    site: tuple[Flask, Any, X25519Identity], size: int, count: int, repeat: int
) -> dict[str, list[float]]:
    app, services, investigator = site
    runs: dict[str, list[float]] = {PER_FILE: [], SINGLE: []}
    for round_number in range(repeat):
        order = (PER_FILE, SINGLE) if round_number % 2 == 0 else (SINGLE, PER_FILE)
        for name in order:
            files = [secrets.token_bytes(size) for _ in range(count)]
            seconds, reference = one_run(app, name, files)
            check(services, investigator, reference, files)
            runs[name].append(seconds)
    return runs


def report(size: int, count: int, runs: dict[str, list[float]]) -> dict[str, float]:
    per_file, single = (statistics.median(runs[name]) for name in (PER_FILE, SINGLE))
    for name in (PER_FILE, SINGLE):
        listed = ", ".join(f"{s * 1000:.0f}" for s in runs[name])
        print(f"  {name:>15}: median {statistics.median(runs[name]) * 1000:7.1f} ms ({listed})")
    ratio = per_file / single
    extra = (per_file - single) * 1000 / count
    print(f"  ratio per-file / single: {ratio:.2f}  ({extra:+.1f} ms per file)")
    return {"size": size, "per_file_ms": per_file * 1000, "single_ms": single * 1000,
            "ratio": ratio, "extra_ms_per_file": extra}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--sizes", default="64KiB,2MiB")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path("/var/tmp"))
    parser.add_argument("--database-url", default=None, help="default: SQLite in the data dir")
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    figures = []
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="intake-bench-commit-") as root:
        site = make_site(Path(root), args.database_url)
        database = "PostgreSQL" if args.database_url else "SQLite"
        for size in sizes:
            print(f"{args.files} files of {size:,} bytes ({database}, {args.dir}):")
            runs = bench_size(site, size, args.files, args.repeat)
            figures.append(report(size, args.files, runs))
        site[1].engine.dispose()
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(json.dumps({"files": args.files, "figures": figures}))


if __name__ == "__main__":
    main()
