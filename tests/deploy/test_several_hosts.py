"""Two app hosts behind one HAProxy, as deploy/README.md ("Several servers") lays them out.

Two gunicorn processes (the shipped deploy/gunicorn.conf.py), each in a network namespace of
its own (tests/deploy/netns.py; on loopback where namespaces are refused), stand for two app
hosts: one database (PostgreSQL as deployed; a shared SQLite file as a second check), one
blob store, the same keyring file, and each its own data directory holding a copy of the same
`secret_key`. HAProxy runs the shipped haproxy.cfg with the README's
tested several-hosts backends (ports rewritten, tests/deploy/haproxy.py). One host is killed
whole (SIGKILL to its process group) in the middle of an upload, after a sweep that must leave
that upload alone; the other host carries on, and one export holds every testimony once.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast
from urllib.parse import urlencode

import pytest

from crypto.age import seal_bytes
from crypto.x25519 import X25519Identity
from tests.conftest import schema_url
from tests.deploy.conftest import readme_block
from tests.deploy.haproxy import Front, front, on_circuit, shipped, with_backends
from tests.deploy.netns import app_hosts, available, backend
from tests.reliability.client import (
    MINIMAL_TESTIMONY,
    FilePart,
    Multipart,
    Response,
    Witness,
    confirm_words,
)
from tests.reliability.harness import Installation, InvestigatorKey, install, run
from tests.reliability.live import LiveServer

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

MIB = 1024 * 1024
BIG_MIB = 96
RATE = 8 * MIB
KILL_AT = 16 * MIB  # sealed bytes in the shared temp area when the receiving host dies
TRIAGE = Path(sys.executable).with_name("triage")
# Each app host in its own network namespace, as separate machines; separate processes on
# loopback where this machine refuses namespaces (not root).
NETNS = available()


@dataclass
class CircuitWitness(Witness):
    """A witness's browser arriving through tor: every connection opens with its circuit's PROXY
    line (HAProxy drops a connection without one)."""

    circuit: int = 1

    def connect(self) -> socket.socket:
        return on_circuit(self.port, self.circuit, timeout=self.timeout)


@pytest.fixture(
    params=["sqlite", "postgresql"],
    ids=lambda db: f"{db}-{'namespaces' if NETNS else 'loopback'}",
)
def database(request: pytest.FixtureRequest) -> tuple[str, str] | None:
    """The shared database: PostgreSQL as deployed (base url, schema), and one SQLite file shared
    by the two hosts (None: the default install) as a second check."""
    if request.param == "sqlite":
        return None
    return cast(tuple[str, str], request.getfixturevalue("pg_schema"))


@pytest.fixture
def layout(
    tmp_path: Path, database: tuple[str, str] | None
) -> Iterator[tuple[Installation, list[LiveServer], Front]]:
    url = None if database is None else schema_url(*database)
    installation = install(
        tmp_path / "site", key=InvestigatorKey.triage_keygen(tmp_path), database_url=url
    )
    with app_hosts(installation, database, in_namespaces=NETNS) as hosts:
        config = with_backends(shipped(), readme_block("haproxy-several-hosts"))
        ends = {f"app{n}": backend(host) for n, host in enumerate(hosts, start=1)}
        with front(tmp_path, ends, config) as haproxy:
            yield installation, hosts, haproxy


def _new_witness(port: int, circuit: int) -> tuple[CircuitWitness, str, str]:
    """A witness through the front: its codename, and its testimony form's action."""
    witness = CircuitWitness(port, circuit=circuit)
    issued = witness.post(witness.get("/start").action("start-form"), Multipart([]))
    confirmed = witness.post(issued.action("confirm-form"), Multipart(confirm_words(issued.body)))
    return witness, issued.codename(), confirmed.action("testimony-form")


def _paused_file(name: str, mib: int, pause_at: int, go: threading.Event) -> FilePart:
    """`mib` MiB of noise whose sender waits at `pause_at` bytes until `go` is set: the test's
    next step (a kill, a sweep) always lands mid-body however slowly a CLI starts on a loaded
    machine."""
    block = os.urandom(MIB)

    def blocks() -> Iterator[bytes]:
        for n in range(mib):
            if n * MIB >= pause_at:
                go.wait(120)
            yield block

    return FilePart("group2-files", name, mib * MIB, blocks)


def _in_thread(
    witness: Witness, action: str, form: Multipart
) -> tuple[threading.Thread, list[object]]:
    """POST `form` at RATE in a thread; its outcome (a Response, or the error of a dead host)."""
    outcome: list[object] = []

    def send() -> None:
        try:
            outcome.append(witness.post(action, form, rate=RATE))
        except (OSError, ValueError) as exc:  # the connection dies with the host
            outcome.append(exc)

    thread = threading.Thread(target=send)
    thread.start()
    return thread, outcome


def _temp_file(installation: Installation, size: int, known: frozenset[str] = frozenset()) -> Path:
    """A temp file in the shared area, not one of `known`, once it holds `size` bytes."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for name in set(installation.temp_files()) - known:
            path = installation.blob_dir / "tmp" / name
            if path.exists() and path.stat().st_size >= size:
                return path
        time.sleep(0.02)
    raise AssertionError("the upload never reached the shared temp area")


def _receiving_host(installation: Installation, hosts: list[LiveServer]) -> tuple[LiveServer, Path]:
    """The upload's temp file once it has KILL_AT bytes, and the host whose worker holds it."""
    path = _temp_file(installation, KILL_AT)
    holders = [host for host in hosts if host.pids_holding(path)]
    assert len(holders) == 1, holders
    return holders[0], path


def test_a_host_killed_mid_upload_loses_nothing_and_the_other_serves_the_witness(
    layout: tuple[Installation, list[LiveServer], Front], tmp_path: Path
) -> None:
    installation, hosts, haproxy = layout
    earlier, codename, action = _new_witness(haproxy.port, 1)
    ref = earlier.post(
        action, Multipart(list(MINIMAL_TESTIMONY), [FilePart.of("group1-files", "a.jpg", b"x")])
    ).reference()
    blobs_before = installation.blob_files()

    uploader, _, big_action = _new_witness(haproxy.port, 2)
    killed = threading.Event()
    photo = os.urandom(MIB)  # arrives whole before the video: kept in the shared draft
    form = Multipart(
        list(MINIMAL_TESTIMONY),
        [
            FilePart.of("group1-files", "photo.jpg", photo),
            _paused_file("video.mp4", BIG_MIB, 2 * KILL_AT, killed),
        ],
    )
    thread, outcome = _in_thread(uploader, big_action, form)
    try:
        victim, temp = _receiving_host(installation, hosts)
        # A sweep run meanwhile (on any host: they share the store) leaves the live upload alone.
        assert installation.intake("sweep").startswith("removed 0 abandoned upload(s)")
        assert temp.exists()
        assert victim.proc is not None
        os.killpg(victim.proc.pid, signal.SIGKILL)  # the whole host: master and workers
    finally:
        killed.set()
    assert victim.proc is not None
    victim.proc.wait(timeout=10)
    victim.proc = None
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert not any(isinstance(o, Response) and o.status == 200 for o in outcome), outcome

    # Nothing half-stored: no new submission row, no new blob row; the photo that arrived whole
    # waits in the draft (in the shared database and store); one temp file of ciphertext is left.
    assert installation.submission_count() == 1
    assert set(installation.blob_rows()) == set(blobs_before)
    (kept,) = set(installation.blob_files()) - set(blobs_before)
    assert installation.temp_files() == [temp.name]

    # The other host serves the earlier witness's return with the codename, and the uploader's
    # session (in the shared database) lets it go on through the survivor: the form there shows
    # the photo kept by the dead host's worker, and only the video is sent again.
    back = CircuitWitness(haproxy.port, circuit=3).login(codename)
    assert back.status == 200
    assert ref in back.body
    page = uploader.get("/testimony")
    assert "photo.jpg" in page.body
    assert hashlib.sha256(photo).hexdigest() in page.body

    # The sweep, on any host, takes the dead upload's orphan once idle for hours, never the
    # upload the survivor is receiving at that moment.
    swept = threading.Event()
    resend = Multipart(list(MINIMAL_TESTIMONY), [_paused_file("video.mp4", 8, 4 * MIB, swept)])
    thread, outcome = _in_thread(uploader, page.action("testimony-form"), resend)
    try:
        live = _temp_file(installation, 2 * MIB, frozenset({temp.name}))
        hours_ago = time.time() - 7 * 3600
        os.utime(temp, (hours_ago, hours_ago))
        assert installation.intake("sweep").startswith("removed 1 abandoned upload(s)")
        assert not temp.exists()
        assert live.exists()
    finally:
        swept.set()
    thread.join(timeout=120)
    (again,) = outcome
    assert isinstance(again, Response), again
    assert again.status == 200, again.body[-2000:]
    refs = sorted([ref, again.reference()])
    assert set(installation.blob_rows()) == set(installation.blob_files())
    assert kept in installation.blob_rows()
    assert installation.temp_files() == []

    # One export holds each testimony once; a second finds nothing new.
    bundle = tmp_path / "export.bundle"
    assert "exported 2 submission(s) with 3 file(s)" in installation.intake(
        "export", "--out", str(bundle)
    )
    assert installation.intake("export", "--out", str(tmp_path / "again.bundle")).startswith(
        "nothing to export"
    )
    workspace = tmp_path / "ws"
    run([str(TRIAGE), "init", str(workspace), "-i", str(installation.identity_file)], os.environ)
    imported = run([str(TRIAGE), "import", str(bundle), "-w", str(workspace)], os.environ)
    assert "imported: 2 new, 0 already in the workspace" in imported
    listed = run([str(TRIAGE), "list", "--json", "-w", str(workspace)], os.environ)
    assert sorted(json.loads(line)["id"] for line in listed.splitlines() if line.strip()) == refs


PART = 4 * MIB  # intake.partstore.PART_SIZE: the page's parts


def _parts_url(page: Response) -> str:
    found = re.search(r'data-parts-url="([^"]+)"', page.body)
    assert found, "the testimony form names its parts endpoint"
    return html.unescape(found.group(1))


def _at(url: str, *path: object) -> str:
    base, _, query = url.partition("?")
    return "/".join([base, *map(str, path)]) + "?" + query


def _send_form(witness: Witness, path: str, fields: dict[str, str]) -> Response:
    body = urlencode(fields).encode()
    form = "application/x-www-form-urlencoded"
    return witness.send(path, [body], content_type=form, length=len(body))


def _send_part(witness: Witness, url: str, upload: str, sealed: bytes, index: int) -> int:
    part = sealed[index * PART : (index + 1) * PART]
    path = _at(url, upload, index)
    return witness.send(
        path, [part], content_type="application/octet-stream", length=len(part)
    ).status


def test_a_file_sent_in_parts_goes_on_through_the_other_host(
    layout: tuple[Installation, list[LiveServer], Front],
) -> None:
    """Issue 19, section 3: the parts of a browser-sealed upload (issue 16) live in the shared
    store, so when the host that took the first parts dies, the survivor takes the rest, the
    upload's end and the form, and the testimony holds the file whole."""
    installation, hosts, haproxy = layout
    witness, _, _action = _new_witness(haproxy.port, 4)
    page = witness.get("/testimony")
    url = _parts_url(page)
    content = os.urandom(3 * PART - 100_000)  # sealed: three parts (age adds 16 B per 64 KiB)
    secret = next(
        line
        for line in installation.identity_file.read_text().splitlines()
        if line.startswith("AGE-SECRET-KEY-")
    )
    recipient = X25519Identity.parse(secret).recipient()
    sealed = seal_bytes(content, [recipient])
    assert 2 * PART < len(sealed) <= 3 * PART
    fields = {"group": "1", "size": str(len(content)), "sealed_size": str(len(sealed))}
    started = _send_form(witness, url, {**fields, "keys": str(recipient)})  # as the page says
    assert started.status == 201, started.body
    upload = str(json.loads(started.body)["id"])
    # The first parts go while both hosts serve (HAProxy spreads them); then one host dies.
    assert _send_part(witness, url, upload, sealed, 0) == 200
    assert _send_part(witness, url, upload, sealed, 1) == 200
    victim = hosts[0]
    assert victim.proc is not None
    os.killpg(victim.proc.pid, signal.SIGKILL)
    victim.proc.wait(timeout=10)
    victim.proc = None
    # Until its health check marks the dead host down, the front may answer a request sent
    # there with a 502; the page's script retries, as this does.
    status = witness.get(_at(url, upload))
    for _ in range(20):
        if status.status != 502:
            break
        time.sleep(0.5)
        status = witness.get(_at(url, upload))
    assert status.status == 200, status.body
    assert json.loads(status.body)["have"] == 2  # what the dead host stored is there
    assert _send_part(witness, url, upload, sealed, 2) == 200
    meta = json.dumps({"size": len(content), "sha256": hashlib.sha256(content).hexdigest()})
    done = _send_form(
        witness, _at(url, upload, "done"), {"name": "drone.mp4", "type": "video/mp4", "meta": meta}
    )
    assert done.status == 200, done.body
    receipt = witness.post(page.action("testimony-form"), Multipart(list(MINIMAL_TESTIMONY)))
    assert receipt.status == 200, receipt.body[-2000:]
    _doc, files = installation.opened_submission(receipt.reference())
    assert files == {"drone.mp4": content}
