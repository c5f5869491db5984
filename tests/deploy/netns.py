"""App hosts as Linux network namespaces made by the test: each its own network stack, reached
from the front (in the test's own namespace) over a veth pair, as separate machines would be.

`ip netns` needs root (CAP_SYS_ADMIN); where it is refused the tests fall back to separate
processes on loopback, which issue 19 allows, and say so in the skip/parametrize id.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["NetHost", "available", "net_host"]

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


@contextmanager
def net_host(number: int) -> Iterator[NetHost]:
    """Namespace `number` (1-254), removed with its link at the end, even after a failure."""
    tag = secrets.token_hex(3)
    host = NetHost(f"intake-{tag}-{number}", f"{_PREFIX}.{number}.2", f"{_PREFIX}.{number}.1")
    outer, inner = f"vi{tag}{number}a", f"vi{tag}{number}b"
    _ip("netns", "add", host.name)
    try:
        _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
        _ip("link", "set", inner, "netns", host.name)
        _ip("addr", "add", f"{host.gateway}/24", "dev", outer)
        _ip("link", "set", outer, "up")
        inside = ["netns", "exec", host.name, "ip"]
        _ip(*inside, "addr", "add", f"{host.address}/24", "dev", inner)
        _ip(*inside, "link", "set", inner, "up")
        _ip(*inside, "link", "set", "lo", "up")
        yield host
    finally:
        # Deleting the namespace destroys its end of the pair, and with it the outer end.
        for gone in (["netns", "del", host.name], ["link", "del", outer]):
            subprocess.run(["ip", *gone], check=False, capture_output=True, timeout=10)
