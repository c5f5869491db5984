"""Bring up a private Tor network on 127.0.0.1: three authorities, relays, a service, a client.

`bring_up` makes the keys (tor-gencert for the authorities, `tor --list-fingerprint` for the
relay identities), starts every tor in its own process group, and returns once the client has
bootstrapped and the service's descriptors are uploaded, or raises TornetError naming the
step that did not finish in time. `Network.stop` ends every process it started, whatever
happened before.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from tests.tornet import socks, torrc
from tests.tornet.control import Controller
from tests.tornet.keys import TornetError, binary, client_auth_keys, free_port, make_authorities

AUTHORITIES = 3
__all__ = ["Network", "TornetError", "binary", "bring_up", "client_auth_keys"]
RELAYS = 3
BRING_UP_SECONDS = 300.0
STOP_SECONDS = 5.0


@dataclass
class Network:
    """The running network: the client's ports, the service's addresses, every process."""

    root: Path
    socks_port: int = 0
    client_control_port: int = 0
    service_control_port: int = 0
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def hostname(self, service: str) -> str:
        """The onion address of "witness" or "admin-ssh" (tor writes it once it starts)."""
        return (self.root / "service" / service / "hostname").read_text().strip()

    @property
    def onion(self) -> str:
        return self.hostname("witness")

    def control(self, node: str) -> Controller:
        port = {"client": self.client_control_port, "service": self.service_control_port}[node]
        return Controller.connect(port, self.root / node / "control_auth_cookie")

    def log(self, node: str) -> str:
        path = self.root / node / "notice.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, name: str, config: str) -> None:
        datadir = self.root / name
        (datadir / "torrc").write_text(config, encoding="utf-8")
        (datadir / "defaults").write_text("", encoding="utf-8")
        with (datadir / "stdout.log").open("wb") as out:
            self.processes[name] = subprocess.Popen(
                [
                    binary("tor"),
                    "-f",
                    str(datadir / "torrc"),
                    "--defaults-torrc",
                    str(datadir / "defaults"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise TornetError(
                    f"tor {name} exited with {process.returncode}:\n"
                    + (self.root / name / "stdout.log").read_text(errors="replace")[-3000:]
                )

    def stop(self) -> None:
        """SIGTERM every tor, then SIGKILL the process group of any that lingers.

        A relay sometimes logs "exiting cleanly" and then never exits (seen with 0.4.9.11 and
        ShutdownWaitLength 0); nothing of a test network is worth waiting long for.
        """
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _step(network: Network, name: str, started: float) -> None:
    network.timings[name] = round(time.monotonic() - started, 1)


def _wait(network: Network, what: str, deadline: float, ready: Callable[[], bool]) -> None:
    """Poll `ready()` until true; TornetError naming `what` at the deadline."""
    while time.monotonic() < deadline:
        network.check_alive()
        if ready():
            return
        time.sleep(0.5)
    raise TornetError(f"timed out waiting for: {what}")


def _bootstrapped(network: Network) -> bool:
    controller = network.control("client")
    try:
        return "PROGRESS=100" in controller.getinfo("status/bootstrap-phase")
    finally:
        controller.close()


# Replies that mean "not yet" on a network minutes old: the client's view of the onion
# directories may lag the service's uploads by a consensus or two.
_TRANSIENT = {socks.ONION_NOT_FOUND, 0xF2, 0xF3, 0xF7}


def reach(
    network: Network, host: str, port: int, timeout: float = 120, *, fresh: bool = False
) -> socket.socket:
    """A SOCKS connection to host:port, retried while tor says the onion is not found yet.

    Between tries the client is sent NEWNYM, which also forgets which onion directories it has
    already asked (tor would otherwise not ask them again for 15 minutes). Raises the last
    SocksError, or any other, at once. `fresh`: NEWNYM before the first try too.
    """
    deadline = time.monotonic() + timeout
    if fresh:
        _newnym(network)
    while True:
        try:
            return socks.connect(network.socks_port, host, port)
        except socks.SocksError as error:
            if error.code not in _TRANSIENT or time.monotonic() > deadline:
                raise
        except TimeoutError:  # a busy service (a flooded queue) may leave a request unanswered
            if time.monotonic() > deadline:
                raise
        _newnym(network)
        time.sleep(2)


def _newnym(network: Network) -> None:
    controller = network.control("client")
    try:
        controller.command("SIGNAL NEWNYM")
    finally:
        controller.close()


def _start_all(
    network: Network,
    front_port: int,
    admin_port: int,
    admin_auth: str,
    changes: torrc.Changes,
) -> None:
    root = network.root
    authorities = make_authorities(root, AUTHORITIES)
    for authority in authorities:
        network.start(
            authority.nickname,
            torrc.common(root / authority.nickname, authority.nickname, authorities)
            + torrc.relay(authority.or_port)
            + torrc.authority(authority.dir_port),
        )
    for index in range(RELAYS):
        name = f"relay{index}"
        (root / name).mkdir(mode=0o700)
        network.start(name, torrc.common(root / name, name, authorities) + torrc.relay(free_port()))
    network.socks_port, network.client_control_port = free_port(), free_port()
    (root / "client").mkdir(mode=0o700)
    network.start(
        "client",
        torrc.common(root / "client", "client", authorities)
        + torrc.client(root / "client", network.socks_port, network.client_control_port),
    )
    service = root / "service"
    service.mkdir(mode=0o700)
    for directory in ("witness", "admin-ssh", "admin-ssh/authorized_clients"):
        (service / directory).mkdir(mode=0o700)
    (service / "admin-ssh/authorized_clients/admin.auth").write_text(admin_auth + "\n")
    network.service_control_port = free_port()
    network.start(
        "service",
        torrc.common(service, "service", authorities)
        + torrc.shipped_service(
            service,
            front_port=front_port,
            admin_port=admin_port,
            changes=changes,
            control_port=network.service_control_port,
            metrics_port=free_port(),
        ),
    )


@contextmanager
def bring_up(
    root: Path,
    *,
    front_port: int,
    admin_port: int,
    admin_auth: str,
    changes: torrc.Changes = torrc.SHIPPED,
    timeout: float = BRING_UP_SECONDS,
) -> Iterator[Network]:
    """The running network (stopped on exit, even after a failure); TornetError on timeout."""
    root.mkdir(parents=True, exist_ok=True)
    network, started = Network(root), time.monotonic()
    deadline = started + timeout
    try:
        _start_all(network, front_port, admin_port, admin_auth, changes)
        _step(network, "started", started)
        _wait(
            network,
            "the service's onion addresses",
            deadline,
            lambda: all(
                (root / "service" / s / "hostname").exists() for s in ("witness", "admin-ssh")
            ),
        )
        watcher = network.control("service")
        watcher.command("SETEVENTS HS_DESC")
        _wait(
            network,
            "the client's bootstrap (a consensus and enough relays)",
            deadline,
            lambda: _bootstrapped(network),
        )
        _step(network, "client bootstrapped", started)
        for service in ("witness", "admin-ssh"):
            address = network.hostname(service).removesuffix(".onion")
            remaining = deadline - time.monotonic()
            try:
                watcher.wait_event(f"UPLOADED {address}", max(remaining, 0))
            except TimeoutError as error:
                raise TornetError(f"timed out waiting for: {service} descriptor upload") from error
            _step(network, f"{service} descriptor uploaded", started)
        watcher.close()
        try:
            reach(network, network.onion, 80, max(deadline - time.monotonic(), 0)).close()
        except socks.SocksError as error:
            raise TornetError(f"the client never reached the witness onion: {error}") from error
        _step(network, "client reached the witness onion", started)
        yield network
    except TornetError as error:
        elapsed = time.monotonic() - started
        raise TornetError(
            f"{error} (after {elapsed:.0f} s of {timeout:.0f}; steps done: {network.timings})\n"
            f"--- service log ---\n{network.log('service')[-2000:]}\n"
            f"--- client log ---\n{network.log('client')[-2000:]}"
        ) from None
    finally:
        network.stop()
