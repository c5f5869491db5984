"""The test Firefox (tests/e2e/firefox.py) reaches nothing outside the loopback, DNS included.

Release builds of Firefox ignore the profile's remote-settings server and look up
firefox.settings.services.mozilla.com a few seconds after start: prefs alone do not keep the
browser quiet, MOZ_DISABLE_NONLOCAL_CONNECTIONS does. The proof watches the browser from the
outside: every process of it runs under `strace -f`, which logs each connect, sendto and
sendmmsg with its address, while it loads a page from the loopback and then idles. Any address
outside the loopback, or anything sent to a DNS port (even a loopback resolver's), is a call
home.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.e2e.firefox import FIREFOX_MARKS, firefox

pytestmark = FIREFOX_MARKS
STRACE = shutil.which("strace")
# After the page: the broken browser looked its remote-settings server up ~4 s after start.
IDLE_SECONDS = 15
PAGE = b"<!doctype html><title>quiet</title><p>Nothing but the loopback.</p>"
_INET = re.compile(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)')
_INET6 = re.compile(r'sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, "([^"]+)"')


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def calls_home(trace: str) -> list[str]:
    """The strace lines that reach outside the loopback or send to a DNS port. An internet
    address strace printed in a shape not parsed here counts too: unknown is not quiet."""
    found = []
    for line in trace.splitlines():
        if "sa_family=AF_INET" not in line:
            continue  # unix and netlink sockets, and sends on already-connected sockets
        match = _INET.search(line) or _INET6.search(line)
        if match is None or match.group(1) == "53" or not _is_loopback(match.group(2)):
            found.append(line)
    return found


def test_calls_home_sees_a_lookup_and_passes_the_loopback() -> None:
    # Lines as strace printed them from the broken browser, and from a quiet one.
    lookup = (
        "2933 connect(69, {sa_family=AF_INET, sin_port=htons(53), "
        'sin_addr=inet_addr("10.255.255.53")}, 16) = 0'
    )
    local_dns = (
        '9 connect(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}'
    )
    outside6 = (
        "9 connect(7, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "2a00:1450::1", &sin6_addr), sin6_scope_id=0}, 28) = -1'
    )
    page = '9 connect(7, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}'
    page6 = (
        "9 connect(7, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0'
    )
    unix = '9 connect(4, {sa_family=AF_UNIX, sun_path="/run/dbus/system_bus_socket"}, 110) = 0'
    sent = '9 sendto(59, "25:[1,3,null]", 28, 0, NULL, 0) = 28'
    trace = "\n".join([lookup, local_dns, outside6, page, page6, unix, sent])
    assert calls_home(trace) == [lookup, local_dns, outside6]


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test's output is its assertion."""


def _serving() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def page_url() -> Iterator[str]:
    """A page on the loopback, served from a thread of the test."""
    yield from _serving()


@pytest.mark.skipif(STRACE is None, reason="no strace: make tools installs it")
def test_firefox_reaches_nothing_outside_the_loopback(page_url: str, tmp_path: Path) -> None:
    trace = tmp_path / "firefox.strace"
    watch = [str(STRACE), "-f", "-qq", "-e", "trace=connect,sendto,sendmmsg", "-o", str(trace)]
    with firefox(wrapper=watch) as client:
        client.navigate(page_url)
        assert client.title == "quiet"  # the watch saw a real page load
        time.sleep(IDLE_SECONDS)
    text = trace.read_text(encoding="utf-8", errors="replace")
    assert "127.0.0.1" in text  # strace did watch the browser's own connections
    assert calls_home(text) == []
