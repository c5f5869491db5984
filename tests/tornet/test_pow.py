"""Proof-of-work under a flood: the service raises its suggested effort, and a client that
fetches the new descriptor solves the puzzle and completes a testimony while the flood goes on.

This test runs its own network, the one exception to the shipped torrc: the witness service's
HiddenServicePoWQueueRate/Burst are lowered from tor's defaults (250/s, 2500) to 1/s and 2,
because a test client on a shared 2-core machine cannot open introductions by the thousand;
at 1/s a dozen circuits fill the queue as a real flood fills the default one. The service
also logs its onion-service domain at info level, where tor says the effort changed. tor
recomputes the suggested effort every 300 s (HS_UPDATE_PERIOD, not configurable): the test
floods until that update, so it takes about six minutes.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.streaming import (
    GeneratedFile,
    multipart,
    open_form,
    post_stream,
    required_answers,
)
from tests.tornet import socks
from tests.tornet.network import reach
from tests.tornet.stack import Stack, running
from tests.tornet.torrc import Changes

pytestmark = [pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

FLOOD_THREADS = 12
# tor's 300 s update, plus the time for the flood to fill the queue before it.
EFFORT_DEADLINE = 420
_SOLVING = re.compile(r"Solving proof of work \(effort (\d+)\)")


@pytest.fixture
def pow_stack(tmp_path: Path) -> Iterator[Stack]:
    changes = Changes(
        witness_lines=("HiddenServicePoWQueueRate 1", "HiddenServicePoWQueueBurst 2"),
        lines=(f"Log [rend]info file {tmp_path / 'tor' / 'service' / 'rend.log'}",),
    )
    with running(tmp_path, changes=changes) as stack:
        yield stack


class Flood:
    """Threads opening streams to the onion, each on a new circuit (a new SOCKS username)."""

    def __init__(self, stack: Stack) -> None:
        self.stack, self.stopping, self.attempts = stack, threading.Event(), 0
        self.threads = [
            threading.Thread(target=self._run, daemon=True) for _ in range(FLOOD_THREADS)
        ]

    def _run(self) -> None:
        network = self.stack.network
        while not self.stopping.is_set():
            self.attempts += 1
            try:
                socks.connect(
                    network.socks_port, network.onion, 80, 20, isolation=secrets.token_hex(8)
                ).close()
            except (OSError, socks.SocksError):
                continue

    def __enter__(self) -> Flood:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)


def _wait_for(path: Path, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return True
        time.sleep(5)
    return False


def test_a_flood_raises_the_effort_and_a_solving_client_still_testifies(
    pow_stack: Stack,
) -> None:
    network = pow_stack.network
    service_log = network.root / "service" / "rend.log"
    client_log = network.root / "client" / "rend.log"
    with Flood(pow_stack) as flood:
        assert _wait_for(service_log, "Suggested effort changed", EFFORT_DEADLINE), (
            f"no effort change after {EFFORT_DEADLINE} s and {flood.attempts} flood attempts"
        )
    # The flood's own circuits share this tor and would solve the same puzzle as the witness:
    # stop them, then a fresh client (NEWNYM forgets the cached descriptor) fetches the one
    # carrying the new effort, solves the puzzle and testifies while the queue drains.
    reach(network, network.onion, 80, timeout=240, fresh=True).close()
    connect = socks.connector(network.socks_port, network.onion)
    form = open_form(80, connect)
    fields = required_answers("Sent while the service was flooded")
    file = GeneratedFile.random(4096, b"POW")
    content_type, length, body = multipart(fields, "group1-files", "photo.jpg", file)
    status, page = post_stream(80, form, content_type, length, body, connect=connect)
    assert status == 200, page[-2000:]
    assert file.sha256() in page  # the receipt names the file
    efforts = [int(effort) for effort in _SOLVING.findall(client_log.read_text(errors="replace"))]
    assert efforts, "the client never solved a puzzle"
    assert max(efforts) > 0
    print(f"PoW: {flood.attempts} flood attempts; the client solved at effort {max(efforts)}")
