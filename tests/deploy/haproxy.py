"""A real HAProxy from deploy/haproxy.cfg, and clients that arrive on simulated Tor circuits.

The test config is the shipped file with only what a test cannot have rewritten: the ports
(free ones on the loopback), the error pages' directory (deploy/errors/ itself), and the
chroot/user/group lines (they need root and a `haproxy` user). Everything else, the timeouts,
limits, stick tables and backends, runs as shipped.

tor's HiddenServiceExportCircuitID haproxy opens every connection with a PROXY v1 line whose
source address is fc00:dead:beef:4dad::/64 with the circuit's global id in the low 32 bits;
`proxy_v1` writes the same line, `proxy_v2` its binary equivalent.
"""

from __future__ import annotations

import http.client
import re
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, checked

SHIPPED = DEPLOY / "haproxy.cfg"
FRONT_BIND = "127.0.0.1:8000"
APP_BIND = "127.0.0.1:8080"
INSTALLED_ERRORS = "/etc/haproxy/errors/intake"
STATS_SOCKET = "/run/haproxy/intake-stats.sock"
_PRIVILEGED = re.compile(r"^\s*(chroot|user|group)\s.*$", re.MULTILINE)
_V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shipped() -> str:
    return SHIPPED.read_text(encoding="utf-8")


def sections(text: str) -> dict[str, list[str]]:
    """Each section ("global", "defaults", "frontend witness", ...) with its directive lines."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not raw[0].isspace():
            current = found.setdefault(line, [])
        else:
            current.append(line)
    return found


def config_for_test(text: str, *, front_port: int, app_port: int) -> str:
    """The shipped config on test ports, with the repository's error pages, unprivileged."""
    for needed in (f"bind {FRONT_BIND} ", f"server gunicorn {APP_BIND} ", INSTALLED_ERRORS):
        assert needed in text, f"the shipped haproxy.cfg no longer says {needed!r}"
    text = text.replace(f"bind {FRONT_BIND} ", f"bind 127.0.0.1:{front_port} ")
    text = text.replace(f"server gunicorn {APP_BIND} ", f"server gunicorn 127.0.0.1:{app_port} ")
    text = text.replace(INSTALLED_ERRORS, str(DEPLOY / "errors"))
    return _PRIVILEGED.sub("", text)


def stats_socket(workdir: Path) -> Path:
    """Where a test's HAProxy puts the shipped stats socket (not /run/haproxy: that needs root)."""
    return workdir / "intake-stats.sock"


def _private_stats(text: str, workdir: Path) -> str:
    assert f"stats socket {STATS_SOCKET} " in text, "the shipped stats socket moved"
    return text.replace(f"stats socket {STATS_SOCKET} ", f"stats socket {stats_socket(workdir)} ")


_FIRST_BACKEND = "\nbackend pages\n"
_SERVER = re.compile(r"^(\s*server (\S+) )\S+:\d+ ", re.MULTILINE)


def with_backends(text: str, backends: str) -> str:
    """The shipped config with its three backends (the file's last sections) replaced."""
    assert _FIRST_BACKEND in text, "the shipped haproxy.cfg no longer ends with backend pages"
    return text[: text.index(_FIRST_BACKEND) + 1] + backends


def config_for_hosts(text: str, *, front_port: int, hosts: Mapping[str, int | str]) -> str:
    """A several-hosts config on test ports: every `server NAME` line points at hosts[NAME], a
    loopback port or an "address:port" (an app host in its own network namespace)."""
    assert f"bind {FRONT_BIND} " in text
    assert INSTALLED_ERRORS in text
    named = {match.group(2) for match in _SERVER.finditer(text)}
    assert named == set(hosts), f"servers {sorted(named)}, expected {sorted(hosts)}"
    text = text.replace(f"bind {FRONT_BIND} ", f"bind 127.0.0.1:{front_port} ")
    text = _SERVER.sub(lambda m: f"{m.group(1)}{_address(hosts[m.group(2)])} ", text)
    text = text.replace(INSTALLED_ERRORS, str(DEPLOY / "errors"))
    return _PRIVILEGED.sub("", text)


def _address(host: int | str) -> str:
    return f"127.0.0.1:{host}" if isinstance(host, int) else host


def haproxy_binary() -> str:
    path = shutil.which("haproxy")
    if path is None:
        pytest.skip("haproxy is not installed (make tools installs it from Debian)")
    return path


def check_config(config: Path) -> str:
    """`haproxy -c` on `config`: its output; the test fails when HAProxy refuses the file."""
    return checked([haproxy_binary(), "-c", "-f", str(config)])


def haproxy_version(binary: str) -> tuple[int, int]:
    """(major, minor) of the installed HAProxy, from `haproxy -v`."""
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"version (\d+)\.(\d+)", out)
    assert match, out
    return int(match.group(1)), int(match.group(2))


@dataclass(frozen=True)
class Front:
    """A running HAProxy: its port, its process, and the directory it ran in (which holds its
    stats socket, `stats_socket(workdir)`)."""

    port: int
    process: subprocess.Popen[bytes]
    workdir: Path

    def output(self) -> str:
        return (self.workdir / "haproxy.out").read_text(errors="replace")


@contextmanager
def front(
    tmp_path: Path, app_port: int | Mapping[str, int | str], text: str | None = None
) -> Iterator[Front]:
    """HAProxy in the foreground (-db: one process, no daemon) in front of `app_port`.

    A mapping gives each `server` name of `text` (a several-hosts config) its app host: a
    loopback port or an "address:port".
    """
    workdir = tmp_path / "haproxy"
    workdir.mkdir()
    port = free_port()
    config = workdir / "haproxy.cfg"
    if not isinstance(app_port, int):
        assert text is not None, "several hosts need their config"
        generated = config_for_hosts(text, front_port=port, hosts=app_port)
    else:
        generated = config_for_test(text or shipped(), front_port=port, app_port=app_port)
    config.write_text(_private_stats(generated, workdir))
    with (workdir / "haproxy.out").open("wb") as out:
        process = subprocess.Popen(
            [haproxy_binary(), "-db", "-f", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            start_new_session=True,
        )
    running = Front(port, process, workdir)
    try:
        _wait_for(running)
        yield running
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for(running: Front) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            pytest.fail(f"haproxy exited with {running.process.returncode}:\n{running.output()}")
        try:
            socket.create_connection(("127.0.0.1", running.port), timeout=1).close()
        except OSError:
            time.sleep(0.05)
        else:
            return
    pytest.fail(f"haproxy did not start listening:\n{running.output()}")


def circuit_address(circuit: int) -> str:
    """The source address tor puts in the PROXY line for a circuit's global id."""
    return f"fc00:dead:beef:4dad::{circuit >> 16:x}:{circuit & 0xFFFF:x}"


def proxy_v1(circuit: int) -> bytes:
    """The line tor sends first on every stream of `circuit` (source port 65535, as tor)."""
    return f"PROXY TCP6 {circuit_address(circuit)} ::1 65535 80\r\n".encode()


def proxy_v2(circuit: int) -> bytes:
    """The same in PROXY protocol v2 (binary): version 2 PROXY, TCP over IPv6."""
    addresses = socket.inet_pton(socket.AF_INET6, circuit_address(circuit))
    addresses += socket.inet_pton(socket.AF_INET6, "::1") + struct.pack("!HH", 65535, 80)
    return _V2_SIGNATURE + bytes([0x21, 0x21]) + struct.pack("!H", len(addresses)) + addresses


def on_circuit(port: int, circuit: int, *, timeout: float = 30, version: int = 1) -> socket.socket:
    """A connected socket that has already said which circuit it comes on."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(proxy_v1(circuit) if version == 1 else proxy_v2(circuit))
    return sock


class CircuitConnection(http.client.HTTPConnection):
    """http.client, on a simulated Tor circuit."""

    def __init__(self, port: int, circuit: int, timeout: float = 30, version: int = 1) -> None:
        super().__init__("127.0.0.1", port, timeout=timeout)
        self.circuit, self.version = circuit, version

    def connect(self) -> None:
        super().connect()
        self.sock.sendall(proxy_v1(self.circuit) if self.version == 1 else proxy_v2(self.circuit))


def connector(circuit: int) -> Callable[[int, float], http.client.HTTPConnection]:
    """For tests/e2e/streaming.py: connections on `circuit`."""
    return lambda port, timeout: CircuitConnection(port, circuit, timeout)


def request(
    port: int,
    circuit: int,
    method: str = "GET",
    path: str = "/",
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    version: int = 1,
) -> tuple[http.client.HTTPResponse, bytes]:
    """One request on its own connection on `circuit`; the response and its body."""
    conn = CircuitConnection(port, circuit, version=version)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()
