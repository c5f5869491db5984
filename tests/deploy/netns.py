"""App hosts as Linux network namespaces made by the test: each its own network stack, reached
from the front (in the test's own namespace) over a veth pair, as separate machines would be.

`ip netns` needs root (CAP_SYS_ADMIN); where it is refused the tests fall back to separate
processes on loopback, which issue 19 allows, and the test's id says which ran. `app_hosts`
starts Intake's app hosts in them, each reaching the test's PostgreSQL through a relay on its
link; `namespace` alone is a bare one (tests/deploy/test_firewall.py loads nftables there).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from sqlalchemy import make_url

from tests.conftest import schema_url
from tests.reliability.harness import Installation
from tests.reliability.live import LiveServer
from tests.reliability.proxy import TcpProxy

__all__ = ["NetHost", "app_hosts", "available", "backend", "namespace", "net_host"]

# A /24 per host inside 10.231.0.0/16: far from Docker's and libvirt's usual ranges.
_PREFIX = "10.231"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def available() -> bool:
    """Whether this machine lets the test make a network namespace."""
    name = f"intake-probe-{secrets.token_hex(3)}"
    try:
        _ip("netns", "add", name)
    except (OSError, subprocess.SubprocessError):
        return False
    _ip("netns", "del", name)
    return True


@dataclass(frozen=True)
class NetHost:
    """A namespace and its veth link: `address` inside it, `gateway` on the test's side."""

    name: str
    address: str
    gateway: str

    def prefix(self) -> list[str]:
        """The command prefix that runs a program inside the namespace."""
        return ["ip", "netns", "exec", self.name]


def _output(*args: str) -> str:
    done = subprocess.run(["ip", *args], check=False, capture_output=True, text=True, timeout=10)
    return done.stdout


def _remove_stale() -> None:
    """Namespaces a killed run left behind (its pid is in the name and no longer runs)."""
    for line in _output("netns", "list").splitlines():
        name = line.split()[0] if line.split() else ""
        parts = name.split("-")
        stale = len(parts) == 4 and parts[0] == "intake" and parts[1].isdigit()
        if stale and not os.path.exists(f"/proc/{parts[1]}"):
            _output("netns", "del", name)


def _free_subnet() -> int:
    """A third octet no link on this machine uses yet: runs side by side get their own /24s."""
    used = _output("-o", "addr")
    free = [n for n in range(1, 255) if f" {_PREFIX}.{n}." not in used]
    if not free:
        raise RuntimeError(f"no free /24 left in {_PREFIX}.0.0/16")
    return secrets.choice(free)


@contextmanager
def net_host(number: int) -> Iterator[NetHost]:
    """Host `number` of this run in a namespace of its own on a free /24, removed with its link
    at the end, even after a failure."""
    with namespace(str(number)) as name:
        tag = name.split("-")[2]
        outer, inner = f"vi{tag}{number}a", f"vi{tag}{number}b"
        subnet = _free_subnet()
        host = NetHost(name, f"{_PREFIX}.{subnet}.2", f"{_PREFIX}.{subnet}.1")
        try:
            yield _linked(host, outer, inner)
        finally:
            # Deleting the namespace (next) would destroy the pair; this removes the outer end
            # too when the namespace never got the inner one.
            subprocess.run(
                ["ip", "link", "del", outer], check=False, capture_output=True, timeout=10
            )


def _linked(host: NetHost, outer: str, inner: str) -> NetHost:
    """`host`'s namespace joined to the test's by the veth pair `outer`/`inner`, both up."""
    _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
    _ip("link", "set", inner, "netns", host.name)
    _ip("addr", "add", f"{host.gateway}/24", "dev", outer)
    _ip("link", "set", outer, "up")
    inside = ["netns", "exec", host.name, "ip"]
    _ip(*inside, "addr", "add", f"{host.address}/24", "dev", inner)
    _ip(*inside, "link", "set", inner, "up")
    _ip(*inside, "link", "set", "lo", "up")
    return host


@contextmanager
def namespace(label: str) -> Iterator[str]:
    """A new network namespace named for this run and `label` (a word without dashes), with no
    link but its loopback (down), removed at the end even after a failure; those that killed
    runs left behind are removed first."""
    _remove_stale()
    name = f"intake-{os.getpid()}-{secrets.token_hex(2)}-{label}"
    _ip("netns", "add", name)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True, timeout=10)


# --- App hosts in those namespaces (tests/deploy/test_several_hosts.py) -----------------------


@contextmanager
def app_hosts(
    installation: Installation,
    database: tuple[str, str] | None,
    *,
    in_namespaces: bool,
    count: int = 2,
) -> Iterator[list[LiveServer]]:
    """`count` app hosts of `installation` sharing `database` (PostgreSQL's base url and schema,
    or None: its SQLite file), each in a namespace of its own when `in_namespaces`, else on
    loopback; all stopped, their namespaces and relays removed, at the end."""
    hosts: list[LiveServer] = []
    with ExitStack() as stack:
        stack.callback(_stop_all, hosts)
        places = [
            stack.enter_context(net_host(n)) if in_namespaces else None for n in range(1, count + 1)
        ]
        for number, place in enumerate(places, start=1):
            env = _database_env(database, place, stack)
            hosts.append(_start_host(installation, number, place, env))
        yield hosts


def _start_host(
    installation: Installation, number: int, place: NetHost | None, env: Mapping[str, str]
) -> LiveServer:
    """App host `number`, in its own network namespace when `place` is one. Every host but the
    first has its own data directory holding a copy of the first's `secret_key`."""
    extra = dict(env)
    if number > 1:
        data_dir = installation.root / f"host{number}"
        data_dir.mkdir(mode=0o700)
        shutil.copy2(installation.data_dir / "secret_key", data_dir / "secret_key")
        extra["INTAKE_DATA_DIR"] = str(data_dir)
    if place is None:
        return LiveServer(installation).start(extra)
    # deploy/README.md's "Several servers": each app host binds its LAN address, allowed there.
    extra["INTAKE_ALLOW_PUBLIC_BIND"] = "1"
    host = LiveServer(installation, host=place.address, prefix=tuple(place.prefix()))
    return host.start(extra)


def _database_env(
    database: tuple[str, str] | None, place: NetHost | None, stack: ExitStack
) -> dict[str, str]:
    """How a host reaches the shared PostgreSQL: from another namespace, through a relay on its
    link's gateway (PostgreSQL listens on the test's loopback only)."""
    if database is None or place is None:
        return {}
    base, schema = database
    url = make_url(base)
    relay = TcpProxy((url.host or "127.0.0.1", url.port or 5432), host=place.gateway)
    relay.restore()
    stack.callback(relay.cut)
    return {"INTAKE_DATABASE_URL": schema_url(base, schema, host=place.gateway, port=relay.port)}


def _stop_all(hosts: list[LiveServer]) -> None:
    for host in hosts:
        host.stop()


def backend(host: LiveServer) -> int | str:
    """How HAProxy's config names `host` (tests/deploy/haproxy.py): a port on loopback, else
    its address and port."""
    return host.port if host.host == "127.0.0.1" else f"{host.host}:{host.port}"
