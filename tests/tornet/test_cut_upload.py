"""A Tor circuit closed in the middle of an upload: the file that had arrived whole is kept in the
witness's draft, the one cut mid-way is not half-stored, and the witness comes back with the
codename (after "New Identity") to a form that shows what was kept and completes the testimony.

The cut is tor's own: CLOSECIRCUIT on the client's rendezvous circuit to the onion, as when
Tor Browser's circuit dies. NEWNYM would not do: it leaves open streams alone.
"""

from __future__ import annotations

import hashlib
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.streaming import GeneratedFile
from tests.reliability.client import MINIMAL_TESTIMONY, FilePart, Multipart, Witness, confirm_words
from tests.tornet import socks
from tests.tornet.stack import Stack

pytestmark = [pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

MIB = 1 << 20
SIZE = 100 * MIB
CUT_AFTER = 16 * MIB


@dataclass
class TorWitness(Witness):
    """The reliability tests' browser, reaching the onion through the tor client."""

    socks_port: int = 0
    onion: str = ""

    def connect(self) -> socket.socket:
        return socks.connect(self.socks_port, self.onion, 80, self.timeout)


def _close_rendezvous_circuits(tornet: Stack) -> list[str]:
    """CLOSECIRCUIT every client circuit to the witness onion; the ids closed."""
    address = tornet.network.onion.removesuffix(".onion")
    controller = tornet.network.control("client")
    try:
        status = controller.getinfo("circuit-status").splitlines()
        closed = [line.split()[0] for line in status if f"REND_QUERY={address}" in line]
        for circuit in closed:
            controller.command(f"CLOSECIRCUIT {circuit}")
    finally:
        controller.close()
    return closed


def _count(tornet: Stack, table: str) -> int:
    with sqlite3.connect(tornet.site.database) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


def _submissions(tornet: Stack) -> int:
    return _count(tornet, "submission")


def test_a_circuit_cut_mid_upload_keeps_the_whole_file_and_the_codename_completes_it(
    tornet: Stack,
) -> None:
    network = tornet.network
    witness = TorWitness(port=80, timeout=120, socks_port=network.socks_port, onion=network.onion)
    issued = witness.post(witness.get("/start").action("start-form"), Multipart([]))
    codename = issued.codename()
    confirmed = witness.post(issued.action("confirm-form"), Multipart(confirm_words(issued.body)))
    action = confirmed.action("testimony-form")
    before = _submissions(tornet)

    sent = [0]
    cut = threading.Event()

    def blocks() -> Iterator[bytes]:
        for block in GeneratedFile.random(SIZE, b"CUT").blocks():
            sent[0] += len(block)
            yield block
            # Past half way the sender waits for the cut, so it always lands mid-body: the
            # local tor's buffers can otherwise swallow the rest before the cut is made (a run
            # under load saw the whole body leave first).
            if sent[0] >= SIZE // 2:
                cut.wait(120)

    whole = b"a photo that arrives whole before the cut" * 50_000  # 2 MB
    files = [
        FilePart.of("group1-files", "whole.jpg", whole),
        FilePart("group2-files", "cut.mp4", SIZE, blocks),
    ]
    form = Multipart([*MINIMAL_TESTIMONY, ("settlement", "Izium")], files)
    outcome: list[object] = []

    def upload() -> None:
        try:
            outcome.append(witness.post(action, form).status)
        except (OSError, ValueError) as error:  # http.client's errors are OSError/ValueError
            outcome.append(error)

    uploader = threading.Thread(target=upload, daemon=True)
    uploader.start()
    deadline = time.monotonic() + 120
    # Cut once the server has kept the whole first file in the draft (so it provably arrived
    # before the cut) and is sealing the video, well before its end. What the client pushed is
    # no measure: tor's buffers hold megabytes the server has not read yet.
    temp = tornet.site.temp_dir
    while (
        sent[0] < CUT_AFTER or _count(tornet, "draft_blob") < 1 or not any(temp.iterdir())
    ) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sent[0] >= CUT_AFTER, "the upload never got going"
    assert _count(tornet, "draft_blob") == 1, "the whole first file was not kept before the cut"
    assert any(temp.iterdir()), "the server never started sealing the video"
    assert _close_rendezvous_circuits(tornet), "no circuit to the onion was open"
    cut.set()
    uploader.join(timeout=120)
    assert not uploader.is_alive(), "the upload went on after its circuit was closed"
    assert sent[0] < SIZE, "the whole body went out before the cut"
    assert outcome, "the upload thread ended without an outcome"
    assert outcome[0] != 200, outcome

    # The server noticed the cut: the cut file's sealed temp file is gone, nothing was
    # committed as a testimony, and the file that had arrived whole waits in the draft.
    deadline = time.monotonic() + 60
    while any(temp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert list(temp.iterdir()) == []
    assert _submissions(tornet) == before
    assert _count(tornet, "draft_blob") == 1

    # "New Identity": a fresh browser, the codename typed in; the form shows what was kept.
    back = TorWitness(port=80, timeout=120, socks_port=network.socks_port, onion=network.onion)
    assert back.login(codename).status == 200
    again = back.get("/testimony")
    assert again.status == 200
    assert "whole.jpg" in again.body
    assert hashlib.sha256(whole).hexdigest() in again.body
    assert "cut.mp4" not in again.body
    assert 'value="Izium"' in again.body  # the typed answers came back too
    content = b"the same video, sent again" * 1000
    receipt = back.post(
        again.action("testimony-form"),
        Multipart(list(MINIMAL_TESTIMONY), [FilePart.of("group2-files", "again.mp4", content)]),
    )
    assert receipt.status == 200, receipt.body[-2000:]
    kept = {e.original_name: e for e in tornet.site.submission(receipt.reference()).files}
    assert sorted(kept) == ["again.mp4", "whole.jpg"]
    assert tornet.site.open_blob(kept["whole.jpg"].blob_name) == whole
    assert tornet.site.open_blob(kept["again.mp4"].blob_name) == content
    assert _submissions(tornet) == before + 1
