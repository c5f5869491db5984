"""`intake stats --live` and `intake doctor` read a real HAProxy (shipped config) and a real tor.

HAProxy runs from deploy/haproxy.cfg with its stats socket in the test's directory; slow
heads on a few simulated circuits are what the admin must see. tor runs the shipped torrc on
a one-node "network" whose only directory authority is a closed port on 127.0.0.1 (it never
reaches anything), its MetricsPort on a free port: the onion services and their PoW effort
appear there as on the server.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from intake.cli import main as cli
from tests.deploy.conftest import DEPLOY, installable_copy
from tests.deploy.haproxy import Front, free_port, front, on_circuit, stats_socket

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

HEADS, CIRCUITS = 24, 3
# Nobody listens here: tor's sources are then reported unavailable, not fatal.
NOWHERE = f"127.0.0.1:{free_port()}"


def live(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["stats", "--live", "--json", *args])
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def ask(path: Path, command: str) -> str:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(path))
        sock.sendall(command.encode() + b"\n")
        return b"".join(iter(lambda: sock.recv(65536), b"")).decode()


@pytest.fixture
def haproxy(tmp_path: Path) -> Iterator[Front]:
    # No gunicorn behind it: slow heads never reach a backend anyway.
    with front(tmp_path, free_port()) as running:
        yield running


def test_stats_live_shows_the_front_under_slow_heads(haproxy: Front) -> None:
    sock = stats_socket(haproxy.workdir)
    assert sock.stat().st_mode & 0o777 == 0o600  # root only on the server
    heads = [on_circuit(haproxy.port, 4000 + i % CIRCUITS) for i in range(HEADS)]
    try:
        for head in heads:
            head.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")
        time.sleep(1)
        status = live("--haproxy-socket", str(sock), "--tor-metrics", NOWHERE)
    finally:
        for head in heads:
            head.close()
    front_status = status["front"]
    # 16 per circuit are kept (deploy/haproxy.cfg), the rest refused: 24 over 3 circuits all fit.
    assert front_status["connections"] >= HEADS
    assert front_status["waiting_at_front"] >= HEADS
    assert front_status["circuits_tracked"]["circuits"] == CIRCUITS
    slots = {b["name"]: b["slots"] for b in front_status["backends"]}
    assert slots == {"pages": 96, "uploads": 384, "codenames": 32}
    assert status["tor"]["unavailable"].startswith("tor's MetricsPort")


def test_the_stats_socket_reads_no_circuit_and_changes_nothing(haproxy: Front) -> None:
    sock = stats_socket(haproxy.workdir)
    head = on_circuit(haproxy.port, 4242)
    try:
        head.sendall(b"GET / HTTP/1.1\r\n")
        time.sleep(0.5)
        assert "not dumped due to insufficient privileges" in ask(sock, "show table circuits")
        assert "fc00" not in ask(sock, "show table circuits")
        ask(sock, "clear table circuits")
        assert "used:1" in ask(sock, "show table circuits")
        assert "Permission denied" in ask(sock, "show sess")
        assert "Permission denied" in ask(sock, "disable frontend witness")
    finally:
        head.close()


def test_stats_live_text_and_an_unreachable_front(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sock"
    result = CliRunner().invoke(
        cli, ["stats", "--live", "--haproxy-socket", str(missing), "--tor-metrics", NOWHERE]
    )
    assert result.exit_code == 0, result.output
    assert f"front: unavailable: HAProxy's stats socket {missing}" in result.stdout
    assert "front: fix: check that haproxy runs" in result.stdout
    assert "tor: unavailable:" in result.stdout


def _tor_config(tmp_path: Path, metrics_port: int) -> Path:
    shipped = (DEPLOY / "torrc").read_text(encoding="utf-8")
    assert "MetricsPort 127.0.0.1:9035\n" in shipped
    torrc = installable_copy(
        tmp_path, shipped.replace("127.0.0.1:9035", f"127.0.0.1:{metrics_port}")
    )
    fake = "A" * 40
    with torrc.open("a", encoding="utf-8") as out:
        out.write(
            "TestingTorNetwork 1\n"
            f"DirAuthority nowhere orport={free_port()} no-v2 v3ident={fake} "
            f"127.0.0.1:{free_port()} {fake}\n"
            f"DataDirectory {tmp_path / 'data'}\n"
            f"__OwningControllerProcess {os.getpid()}\n"
        )
    return torrc


@pytest.fixture
def tor_metrics(tor: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real tor on the shipped torrc: (its MetricsPort HOST:PORT, the witness onion)."""
    port = free_port()
    torrc = _tor_config(tmp_path, port)
    empty = tmp_path / "empty-defaults"
    empty.write_text("", encoding="utf-8")
    with (tmp_path / "tor.out").open("wb") as out:
        process = subprocess.Popen(
            [tor, "-f", str(torrc), "--defaults-torrc", str(empty)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        hostname = tmp_path / "witness" / "hostname"
        deadline = time.monotonic() + 60
        while not hostname.exists() or f"127.0.0.1:{port}" not in _listening():
            assert process.poll() is None, (tmp_path / "tor.out").read_text()
            assert time.monotonic() < deadline, (tmp_path / "tor.out").read_text()
            time.sleep(0.2)
        yield f"127.0.0.1:{port}", hostname.read_text().strip().removesuffix(".onion")
    finally:
        process.terminate()
        process.wait(timeout=30)


def _listening() -> str:
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    ports = [int(row.split()[1].split(":")[1], 16) for row in rows if row.split()[3] == "0A"]
    return " ".join(f"127.0.0.1:{port}" for port in ports)


def test_stats_and_doctor_show_the_pow_effort_tor_reports(
    tor_metrics: tuple[str, str], tmp_path: Path
) -> None:
    address, onion = tor_metrics
    status = live("--haproxy-socket", str(tmp_path / "none.sock"), "--tor-metrics", address)
    onions = {o["onion"]: o for o in status["tor"]}
    assert onions[onion]["pow_effort"] == 0  # no flood: the puzzle is off
    assert onions[onion]["pow_queue"] == 0
    text = CliRunner().invoke(cli, ["stats", "--live", "--tor-metrics", address]).stdout
    assert onion in text
    assert "PoW effort" in text
