"""A real HAProxy from deploy/haproxy.cfg in front of a real Intake under gunicorn.

Every client here arrives as tor delivers it: a PROXY line naming its circuit first. The site
is made the way an operator makes one (tests/e2e/conftest.py: `intake init`, `intake serve`
with deploy/gunicorn.conf.py); HAProxy runs the shipped config with only ports and paths
changed (tests/deploy/haproxy.py).
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import pytest

from intake.security_headers import CSP, HEADERS
from tests.deploy.haproxy import (
    Front,
    connector,
    front,
    haproxy_binary,
    haproxy_version,
    on_circuit,
    request,
    stats_socket,
)
from tests.e2e.conftest import LiveSite, serve
from tests.e2e.streaming import GeneratedFile, multipart, open_form, post_stream, required_answers

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

MIB = 1 << 20
# What a HAProxy process may hold open: sockets, its event poller, pipes, /dev/null. A regular
# file (a spool, a cache, a log) would be something a body could rest in.
_HARMLESS = re.compile(r"^(socket:|pipe:|anon_inode:|/dev/null$)")


@pytest.fixture
def fronted(tmp_path: Path) -> Iterator[tuple[LiveSite, Front]]:
    with serve(tmp_path) as site, front(tmp_path, site.port) as haproxy:
        yield site, haproxy


def assert_site_headers(headers: Message) -> None:
    """Names compare without case (HAProxy sends them in lower case, as HTTP/2 would)."""
    for name, value in HEADERS.items():
        assert headers.get(name) == value, name
    assert "Server" not in headers


@pytest.mark.parametrize("version", [1, 2])
def test_pages_pass_through_with_the_site_headers_and_no_server(
    fronted: tuple[LiveSite, Front], version: int
) -> None:
    _, haproxy = fronted
    response, body = request(haproxy.port, 1, version=version)
    assert response.status == 200
    assert b"<form" in body or b"testimony" in body.lower()
    assert_site_headers(response.headers)


def test_a_connection_without_a_proxy_line_is_dropped_unanswered(
    fronted: tuple[LiveSite, Front],
) -> None:
    _, haproxy = fronted
    with socket.create_connection(("127.0.0.1", haproxy.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert _closed_without_answer(sock)


def test_a_malformed_head_gets_a_fixed_page_that_echoes_nothing(
    fronted: tuple[LiveSite, Front],
) -> None:
    # HAProxy 2.6 (Debian 12) answers a head it cannot parse from its connection layer, with
    # its built-in page and not our errorfile (haproxy issue #3032, fixed upstream in 3.2):
    # fixed text without our headers, and nothing of the request in it. Later versions must
    # send ours.
    _, haproxy = fronted
    canary = b"CANARY-" + secrets.token_hex(4).encode()
    with on_circuit(haproxy.port, 2) as sock:
        sock.sendall(b"GET /" + canary + b" HTTP/1.1\r\nHost: a\r\nBad " + canary + b": x\r\n\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert canary not in answer
    assert b"\r\nserver:" not in answer.lower()
    if haproxy_version(haproxy_binary()) >= (3, 2):
        assert f"content-security-policy: {CSP}".encode() in answer.lower()


def test_when_gunicorn_is_down_the_503_page_carries_the_site_headers(tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead = int(unused.getsockname()[1])
    with front(tmp_path, dead) as haproxy:
        response, body = request(haproxy.port, 3)
    assert response.status == 503
    assert b"very busy" in body
    assert_site_headers(response.headers)


@dataclass
class FdWatch:
    """Polls /proc/PID/fd of HAProxy while an upload runs; notes anything not a socket/pipe."""

    pid: int
    # Its stdout and stderr (the journal on a server): searched for the canary afterwards.
    output: str
    others: set[str] = field(default_factory=set)
    polls: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.is_set():
            for fd in Path(f"/proc/{self.pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if not _HARMLESS.match(target) and target != self.output:
                    self.others.add(target)
            self.polls += 1
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()


def test_an_upload_streams_through_and_haproxy_keeps_nothing_of_it(
    fronted: tuple[LiveSite, Front],
) -> None:
    site, haproxy = fronted
    canary = f"CANARY-{secrets.token_hex(8)}"
    file = GeneratedFile.random(64 * MIB, canary.encode())
    form = open_form(haproxy.port, connector(4))
    fields = required_answers(f"Seen at the crossing {canary}")
    content_type, length, body = multipart(fields, "group1-files", f"{canary}.mp4", file)
    watch = FdWatch(haproxy.process.pid, str(haproxy.workdir / "haproxy.out"))
    watcher = threading.Thread(target=watch.run, daemon=True)
    watcher.start()
    try:
        status, page = post_stream(
            haproxy.port, form, content_type, length, body, connect=connector(4)
        )
    finally:
        watch.stop()
        watcher.join(timeout=10)
    assert status == 200, page[-2000:]
    assert file.sha256() in page  # the receipt names exactly what arrived
    assert watch.polls > 10
    assert watch.others == set()  # no file of any kind held open while the body passed
    # Nothing written beside its config and output but its stats socket (a socket, no data).
    found = sorted(p.name for p in haproxy.workdir.iterdir())
    assert found == ["haproxy.cfg", "haproxy.out", "intake-stats.sock"]
    assert stat.S_ISSOCK(stats_socket(haproxy.workdir).stat().st_mode)
    assert canary not in haproxy.output()
    assert haproxy.output().count("\n") <= 5  # start-up notices at most, nothing per request
    assert site.process.poll() is None


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _closed_without_answer(sock: socket.socket) -> bool:
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True


def test_a_circuit_holds_at_most_16_connections_and_others_still_get_in(
    fronted: tuple[LiveSite, Front],
) -> None:
    _, haproxy = fronted
    held = [on_circuit(haproxy.port, 5) for _ in range(16)]
    try:
        for sock in held:
            sock.sendall(b"GET / HTTP/1.1\r\n")  # a head that never ends
        time.sleep(0.5)  # HAProxy has counted them all
        with on_circuit(haproxy.port, 5, timeout=10) as extra:
            extra.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            assert _closed_without_answer(extra)
        response, _ = request(haproxy.port, 6)
        assert response.status == 200
    finally:
        for sock in held:
            sock.close()


def test_codename_attempts_are_bounded_per_circuit_not_for_everyone(
    fronted: tuple[LiveSite, Front],
) -> None:
    _, haproxy = fronted
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    statuses = [
        request(haproxy.port, 7, "POST", "/return", body=b"codename=x", headers=form)[0].status
        for _ in range(7)
    ]
    assert 429 not in statuses[:6]
    assert statuses[6] == 429
    refused, page = request(haproxy.port, 7, "POST", "/return", body=b"codename=x", headers=form)
    assert refused.status == 429
    assert b"Too many attempts" in page
    assert "Забагато спроб".encode() in page
    assert_site_headers(refused.headers)
    # Another circuit is not affected, and neither are the first circuit's page views.
    other, _ = request(haproxy.port, 8, "POST", "/return", body=b"codename=x", headers=form)
    assert other.status != 429
    assert request(haproxy.port, 7)[0].status == 200


@pytest.mark.parametrize("path", ["/%72eturn", "//return", "/%73tart", "//start", "/return%2F"])
def test_a_codename_path_spelt_otherwise_cannot_dodge_the_circuit_limit(
    fronted: tuple[LiveSite, Front], path: str
) -> None:
    """Review finding: gunicorn decodes and the app merges slashes, so these reached the same
    views while missing the front's per-circuit codename limit (200 nine times in a row)."""
    _, haproxy = fronted
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    statuses = {
        request(haproxy.port, 11, "POST", path, body=b"codename=x", headers=form)[0].status
        for _ in range(3)
    }
    assert statuses == {400}
    page = request(haproxy.port, 11, "POST", path, body=b"codename=x", headers=form)[1]
    assert "Забагато".encode() not in page  # the 400 page, in all three languages
    assert "Запит не вдалося прочитати".encode() in page


def test_a_circuit_has_at_most_4_uploads_in_flight(fronted: tuple[LiveSite, Front]) -> None:
    _, haproxy = fronted
    head = b"POST /testimony HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\nx"
    slow = [on_circuit(haproxy.port, 9) for _ in range(4)]
    try:
        for sock in slow:
            sock.sendall(head)  # a body that trickles: one byte so far
        time.sleep(0.5)
        with on_circuit(haproxy.port, 9, timeout=10) as fifth:
            fifth.sendall(head)
            assert fifth.recv(4096).startswith(b"HTTP/1.1 429 ")
        response, _ = request(haproxy.port, 10)
        assert response.status == 200
    finally:
        for sock in slow:
            sock.close()
