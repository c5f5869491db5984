"""`intake stats --live` and `intake doctor` read a real HAProxy (shipped config) and a real tor.

HAProxy runs from deploy/haproxy.cfg with its stats socket in the test's directory; slow
heads on a few simulated circuits are what the admin must see. tor runs the shipped torrc on
a one-node "network" whose only directory authority is a closed port on 127.0.0.1 (it never
reaches anything), its MetricsPort on a free port: the onion services and their PoW effort
appear there as on the server, the admin's SSH onion among them: its address must never be
printed.
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from intake.cli import ExitCode
from intake.cli import main as cli
from intake.front_status import ask
from tests.deploy.conftest import DEPLOY, installable_copy
from tests.deploy.haproxy import Front, free_port, front, on_circuit, stats_socket

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

HEADS, CIRCUITS = 24, 3
# Nobody listens here: tor's sources are then reported unavailable, not fatal.
NOWHERE = f"127.0.0.1:{free_port()}"


def live(*args: str, code: int | None = 0) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["stats", "--live", "--json", *args])
    assert code is None or result.exit_code == code, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def doctor_as_another_user(tmp_path: Path, *args: str) -> dict[str, dict[str, Any]]:
    """doctor as an account that is not root, as `intake-admin doctor` runs on the server."""
    if os.geteuid() != 0:
        return doctor(tmp_path, *args)
    data = Path(tempfile.mkdtemp(prefix="intake-doctor-"))
    try:
        data.chmod(0o777)
        result = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            + [sys.executable, "-c", "from intake.cli import main; main()"]
            + ["doctor", "--json", "--data-dir", str(data / "intake"), *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=data,
            check=False,  # doctor exits 8 for the empty data directory
        )
    finally:
        shutil.rmtree(data)
    assert result.stdout, result.stderr
    return {f["check"]: f for f in json.loads(result.stdout) if f["check"] in ("front", "tor pow")}


def doctor(tmp_path: Path, *args: str) -> dict[str, dict[str, Any]]:
    """`intake doctor --json`'s live findings (the rest concerns an empty data directory)."""
    result = CliRunner().invoke(
        cli, ["doctor", "--json", "--data-dir", str(tmp_path / "intake"), *args]
    )
    assert result.stdout, result.output
    return {f["check"]: f for f in json.loads(result.stdout) if f["check"] in ("front", "tor pow")}


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
    assert front_status["max_connections"] == 4000  # the witness frontend's, not the process's
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


def test_stats_live_fails_when_it_can_read_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sock"
    result = CliRunner().invoke(
        cli, ["stats", "--live", "--haproxy-socket", str(missing), "--tor-metrics", NOWHERE]
    )
    assert result.exit_code == ExitCode.LIVE_UNAVAILABLE, result.output
    assert f"front: unavailable: HAProxy's stats socket {missing}" in result.stdout
    assert "front: fix: check that haproxy runs" in result.stdout
    assert "tor: unavailable:" in result.stdout
    assert "intake: error: neither HAProxy's stats socket nor tor's MetricsPort" in result.stderr


def test_doctor_reads_the_front_and_warns_of_what_it_cannot_read(
    haproxy: Front, tmp_path: Path
) -> None:
    sock = stats_socket(haproxy.workdir)
    found = doctor(tmp_path, "--haproxy-socket", str(sock), "--tor-metrics", NOWHERE)
    assert found["front"]["severity"] == "ok", found
    assert found["front"]["message"].startswith("0/4000 connections")
    assert found["tor pow"]["severity"] == "warning"
    found = doctor_as_another_user(
        tmp_path, "--haproxy-socket", str(sock), "--tor-metrics", NOWHERE
    )
    assert found["front"]["severity"] == "warning"  # unchecked is never "ok"
    assert found["front"]["message"] == f"not checked: {sock} is readable by root only"
    assert "sudo /opt/intake/venv/bin/intake stats --live" in found["front"]["fix"]


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
def tor_metrics(tor: str, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A real tor on the shipped torrc: its MetricsPort HOST:PORT, the witness onion, the SSH
    onion."""
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
        hostnames = [tmp_path / name / "hostname" for name in ("witness", "admin")]
        deadline = time.monotonic() + 60
        while not all(h.exists() for h in hostnames) or f"127.0.0.1:{port}" not in _listening():
            assert process.poll() is None, (tmp_path / "tor.out").read_text()
            assert time.monotonic() < deadline, (tmp_path / "tor.out").read_text()
            time.sleep(0.2)
        witness, ssh = (h.read_text().strip().removesuffix(".onion") for h in hostnames)
        yield f"127.0.0.1:{port}", witness, ssh
    finally:
        process.terminate()
        process.wait(timeout=30)


def _listening() -> str:
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    ports = [int(row.split()[1].split(":")[1], 16) for row in rows if row.split()[3] == "0A"]
    return " ".join(f"127.0.0.1:{port}" for port in ports)


def test_stats_and_doctor_show_the_witness_pow_effort_and_never_the_ssh_onion(
    tor_metrics: tuple[str, str, str], tmp_path: Path
) -> None:
    address, witness, ssh = tor_metrics
    assert ssh in _metrics(address)  # tor does publish the SSH onion's address there
    status = live("--haproxy-socket", str(tmp_path / "none.sock"), "--tor-metrics", address)
    assert status["tor"]["onion"] == witness
    assert status["tor"]["pow_effort"] == 0  # no flood: the puzzle is off
    assert status["tor"]["pow_queue"] == 0
    text = CliRunner().invoke(cli, ["stats", "--live", "--tor-metrics", address]).stdout
    assert f"witness onion: {witness}.onion" in text
    assert "PoW effort" in text
    found = doctor(
        tmp_path, "--haproxy-socket", str(tmp_path / "none.sock"), "--tor-metrics", address
    )
    assert found["tor pow"]["severity"] == "ok", found
    everything = json.dumps(status) + text + json.dumps(found)
    assert ssh not in everything


def _metrics(address: str) -> str:
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def test_a_refusal_by_metrics_port_policy_names_the_policy(
    tor_metrics: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """tor closes a connection from an address MetricsPortPolicy rejects without a word."""
    address, _witness, _ssh = tor_metrics
    from_elsewhere = functools.partial(http.client.HTTPConnection, source_address=("127.0.0.2", 0))
    monkeypatch.setattr(http.client, "HTTPConnection", from_elsewhere)
    status = live("--haproxy-socket", "/nonexistent.sock", "--tor-metrics", address, code=None)
    assert "closed the connection without answering" in status["tor"]["unavailable"]
    assert "MetricsPortPolicy" in status["tor"]["fix"]
