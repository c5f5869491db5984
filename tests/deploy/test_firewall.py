"""deploy/README.md step 10's nftables rule set, loaded into a network namespace of the test's
own: only root reaches tor's MetricsPort (issue 15, T3), which names the admin's SSH onion.

The rule set is the README's, as an operator pastes it; `flush ruleset` inside the namespace
touches only that namespace. A listener on the MetricsPort address stands for tor, another on
the next port shows that each refused client can otherwise connect. The refused clients differ
in uid range and group, so that a rule narrower than "every uid but 0" fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.deploy.conftest import readme_block
from tests.deploy.netns import available, namespace

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="ip netns and nft need root (CI runs as root)"),
    pytest.mark.skipif(shutil.which("nft") is None, reason="no nft: install Debian's nftables"),
    pytest.mark.skipif(os.geteuid() == 0 and not available(), reason="ip netns add is refused"),
]

METRICS = ("127.0.0.1", 9035)  # deploy/torrc: MetricsPort 127.0.0.1:9035
OTHER = ("127.0.0.1", 9036)


def _as(uid: int, gid: int) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]


# Everyone the rule must refuse, so that a rule naming one uid, a uid range or a group fails:
# nobody; a system account (uid < 1000); a service user whose group has another number, as
# debian-tor and intake are made by adduser --system; and a user in root's group.
REFUSED = {
    "nobody": _as(65534, 65534),
    "system uid": _as(100, 100),
    "service user": _as(108, 115),
    "root's group": _as(100, 0),
}
# Accepts and closes connections on both ports until killed; says when it listens.
_LISTENER = """
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in (9035, 9036):
    s = socket.create_server(("127.0.0.1", port))
    sel.register(s, selectors.EVENT_READ)
print("listening", flush=True)
while True:
    for key, _ in sel.select():
        key.fileobj.accept()[0].close()
"""
# Prints how a connection to argv[1]:argv[2] went: "connected" or the error's name.
_CLIENT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5).close()
    print("connected")
except OSError as exc:
    print(type(exc).__name__)
"""


def rule_set() -> str:
    """/etc/nftables.conf as step 10's heredoc writes it."""
    found = re.search(r"<<'EOF'\n(.*?)\nEOF\n", readme_block("nftables"), re.S)
    assert found, "step 10 writes /etc/nftables.conf with a heredoc"
    return found.group(1) + "\n"


@contextmanager
def listening(inside: list[str]) -> Iterator[None]:
    """Stand-ins for tor's MetricsPort and another port, inside the namespace."""
    with subprocess.Popen(
        [*inside, sys.executable, "-I", "-c", _LISTENER], stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "listening"
            yield
        finally:
            proc.kill()


def connect(inside: list[str], address: tuple[str, int], user: list[str] | None = None) -> str:
    command = [*inside, *(user or []), sys.executable, "-I", "-c", _CLIENT, *map(str, address)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=30)
    return done.stdout.strip()


def test_only_root_reaches_the_metrics_port_behind_the_shipped_rule_set(tmp_path: Path) -> None:
    conf = tmp_path / "nftables.conf"
    conf.write_text(rule_set())
    with namespace("fw") as name:
        inside = ["ip", "netns", "exec", name]
        subprocess.run([*inside, "ip", "link", "set", "lo", "up"], check=True, timeout=10)
        with listening(inside):
            # Without the rule set anyone may connect: what follows is the rules' doing.
            before = {who: connect(inside, METRICS, user) for who, user in REFUSED.items()}
            assert before == dict.fromkeys(REFUSED, "connected")
            subprocess.run(
                [*inside, "nft", "-f", str(conf)], check=True, capture_output=True, timeout=10
            )
            assert connect(inside, METRICS) == "connected"
            metrics = {who: connect(inside, METRICS, user) for who, user in REFUSED.items()}
            assert metrics == dict.fromkeys(REFUSED, "ConnectionRefusedError")
            other = {who: connect(inside, OTHER, user) for who, user in REFUSED.items()}
            assert other == dict.fromkeys(REFUSED, "connected")
