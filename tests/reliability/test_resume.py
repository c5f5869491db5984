"""A cut after two of three files, against a real gunicorn: both kept the moment they arrived;
the witness, back with the codename in a fresh client, sees them, sends only the third, and one
testimony holds all three (opened with the real `age`, hashes equal). No plaintext on disk."""

from __future__ import annotations

import hashlib
import secrets
import socket
import time

from sqlalchemy import func, select

from intake.models import DraftBlob, PendingDraft
from tests.reliability.client import (
    MINIMAL_TESTIMONY,
    FilePart,
    Multipart,
    Witness,
    confirm_words,
)
from tests.reliability.harness import Grep, Installation
from tests.reliability.live import LiveServer

MIB = 1024 * 1024


def _file(canary: bytes, size: int) -> bytes:
    block = bytearray(secrets.token_bytes(size))
    for offset in range(0, size - len(canary), 64 * 1024):
        block[offset : offset + len(canary)] = canary
    return bytes(block)


def _draft_files(installation: Installation) -> int:
    engine = installation.engine()
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(DraftBlob)) or 0)
    finally:
        engine.dispose()


def _send_cut(witness: Witness, action: str, body: bytes, cut_at: int, length: int) -> None:
    """Send the head and `body[:cut_at]` with the whole length declared, then vanish."""
    extra = [
        ("Content-Type", "multipart/form-data; boundary=" + body.split(b"\r\n", 1)[0][2:].decode())
    ]
    extra += [("Content-Length", str(length)), ("Connection", "close")]
    sock = witness.connect()
    try:
        sock.sendall(witness.head("POST", action, extra))
        sock.sendall(body[:cut_at])
        time.sleep(1)  # the server reads what came before the connection drops
    finally:
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()


def test_a_cut_after_two_of_three_files_resumes_with_the_codename_in_a_fresh_client(
    installation: Installation, server: LiveServer
) -> None:
    canary = b"CANARY-" + secrets.token_hex(8).encode()
    data = {f"clip-{i}.mp4": _file(canary, 2 * MIB + i) for i in range(3)}
    first = Witness(server.port)
    issued = first.post(first.get("/start").action("start-form"), Multipart([]))
    codename = issued.codename()
    confirmed = first.post(issued.action("confirm-form"), Multipart(confirm_words(issued.body)))
    form = Multipart(
        [*MINIMAL_TESTIMONY, ("settlement", "Izium")],
        [FilePart.of(f"group{i + 1}-files", n, d) for i, (n, d) in enumerate(data.items())],
    )
    body = b"".join(form.chunks())
    third = body.index(b'filename="clip-2.mp4"')
    _send_cut(first, confirmed.action("testimony-form"), body, third + MIB, form.length)

    deadline = time.monotonic() + 30
    while _draft_files(installation) < 2 or installation.temp_files():
        assert time.monotonic() < deadline, "the two whole files were not kept"
        time.sleep(0.1)
    assert _draft_files(installation) == 2
    assert installation.submission_count() == 0

    back = Witness(server.port)  # "New Identity": a fresh browser, only the codename
    assert back.login(codename).status == 200
    page = back.get("/testimony")
    assert page.status == 200, page.body
    for name in ("clip-0.mp4", "clip-1.mp4"):
        assert name in page.body
        assert hashlib.sha256(data[name]).hexdigest() in page.body
    assert "clip-2.mp4" not in page.body
    assert 'value="Izium"' in page.body  # the answers came back too
    assert "do not press Reload" in page.body

    rest = Multipart(
        list(MINIMAL_TESTIMONY), [FilePart.of("group3-files", "clip-2.mp4", data["clip-2.mp4"])]
    )
    receipt = back.post(page.action("testimony-form"), rest)
    assert receipt.status == 200, receipt.body
    doc, files = installation.opened_submission(receipt.reference())
    assert installation.submission_count() == 1
    assert sorted(files) == sorted(data)
    for name, content in data.items():
        assert hashlib.sha256(files[name]).digest() == hashlib.sha256(content).digest()
    entries = {f["original_name"]: f for f in doc["files"]}
    assert [entries[f"clip-{i}.mp4"]["group"] for i in range(3)] == [1, 2, 3]
    engine = installation.engine()
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(PendingDraft)) == 0
    finally:
        engine.dispose()
    assert installation.temp_files() == []
    assert Grep(canary).hits(installation.root) == []
    assert Grep(b"Izium").hits(installation.root) == []  # the answers were sealed too
