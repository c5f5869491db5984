"""The whole deployment on the private network: Intake under gunicorn, HAProxy, the onion.

Started in the order a server boots (gunicorn, then HAProxy from deploy/haproxy.cfg, then tor
from deploy/torrc pointing at HAProxy) and stopped in reverse, even after a failure. Used by
the session fixture in tests/tornet/conftest.py and by `make tornet` (python -m tests.tornet).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.deploy.haproxy import Front, front
from tests.e2e.conftest import LiveSite, serve
from tests.tornet.network import BRING_UP_SECONDS, Network, bring_up, client_auth_keys
from tests.tornet.torrc import SHIPPED, Changes

SSH_BANNER = b"SSH-2.0-tornet-admin-stand-in\r\n"


@dataclass(frozen=True)
class Stack:
    """Everything running: the site, its front, the network, and the admin's client key."""

    site: LiveSite
    haproxy: Front
    network: Network
    admin_key: str  # base64 x25519 private key, as ONION_CLIENT_AUTH_ADD takes it
    seconds: float  # from the first tor started to both descriptors uploaded


@contextmanager
def ssh_stand_in() -> Iterator[int]:
    """A listener on the loopback that greets like sshd, where the admin onion points."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    stopping = threading.Event()

    def serve_forever() -> None:
        while not stopping.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(SSH_BANNER)

    thread = threading.Thread(target=serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stopping.set()
        thread.join(timeout=5)
        server.close()


@contextmanager
def running(
    root: Path,
    timeout: float = BRING_UP_SECONDS,
    changes: Changes = SHIPPED,
) -> Iterator[Stack]:
    """gunicorn, HAProxy, the SSH stand-in and the network under `root`; all stopped on exit."""
    with ExitStack() as stack:
        for part in ("site", "front"):
            (root / part).mkdir(parents=True)
        site = stack.enter_context(serve(root / "site"))
        haproxy = stack.enter_context(front(root / "front", site.port))
        admin_port = stack.enter_context(ssh_stand_in())
        auth_line, admin_key = client_auth_keys()
        started = time.monotonic()
        network = stack.enter_context(
            bring_up(
                root / "tor",
                front_port=haproxy.port,
                admin_port=admin_port,
                admin_auth=auth_line,
                changes=changes,
                timeout=timeout,
            )
        )
        yield Stack(site, haproxy, network, admin_key, time.monotonic() - started)
