"""The test Firefox (tests/e2e/firefox.py) reaches nothing outside the loopback, DNS included.

Release builds of Firefox ignore the profile's remote-settings server and look up
firefox.settings.services.mozilla.com a few seconds after start: prefs alone do not keep the
browser quiet, MOZ_DISABLE_NONLOCAL_CONNECTIONS does. The proof watches the browser from the
outside: every process of it runs under `strace -f`, which logs each connect, sendto and
sendmmsg with its address, while it loads a page from the loopback and then idles. Any address
outside the loopback, or a DNS query (even to a loopback resolver) for any name but this
machine's own, is a call home.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import socket
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
# Every string in hex (-xx) and whole (-s): a DNS query's name is read from its bytes.
WATCH = ["-f", "-qq", "-xx", "-s", "1024", "-e", "trace=connect,sendto,sendmmsg"]
_CALL = re.compile(r"^(\d+)\s+(connect|sendto|sendmmsg)\((\d+),")
_INET = re.compile(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)')
_INET6 = re.compile(r'sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, "([^"]+)"')
_BYTES = re.compile(r'"((?:\\x[0-9a-f]{2})+)"')


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def own_names() -> set[str]:
    """This machine's name, bare and with resolv.conf's search domains. Firefox's profile lock
    looks it up at start (nsProfileLock, for its symlink lock): a question about this machine,
    asked only where /etc/hosts does not name it, and no call home."""
    host = socket.gethostname().lower()
    conf = Path("/etc/resolv.conf")
    lines = conf.read_text(encoding="utf-8").splitlines() if conf.is_file() else []
    domains = [
        d for line in lines if line.startswith(("search", "domain")) for d in line.split()[1:]
    ]
    return {host, *(f"{host}.{domain.lower().rstrip('.')}" for domain in domains)}


def _question(hex_text: str) -> str:
    """The name a DNS query asks for (its first question), or "" if it is not one."""
    data = bytes.fromhex(hex_text.replace("\\x", ""))
    labels, at = [], 12  # the header's 12 bytes, then length-prefixed labels up to a 0
    while at < len(data) and data[at]:
        labels.append(data[at + 1 : at + 1 + data[at]].decode("ascii", "replace"))
        at += 1 + data[at]
    return ".".join(labels).lower() if at < len(data) else ""


def _address(line: str) -> tuple[int, str] | None:
    """(port, address) of an internet socket address on the line; -xx prints the address in hex."""
    match = _INET.search(line) or _INET6.search(line)
    if match is None:
        return None
    text = match.group(2)
    if text.startswith("\\x"):
        text = bytes.fromhex(text.replace("\\x", "")).decode("ascii")
    return int(match.group(1)), text


def calls_home(trace: str, allowed: set[str]) -> list[str]:
    """The strace lines (of `WATCH`) that reach outside the loopback, or that ask DNS for any
    name but `allowed`. An internet address or a query not parsed here counts too: unknown is
    not quiet."""
    found, dns = [], set()  # dns: (pid, fd) of sockets connected to a DNS port
    for line in trace.splitlines():
        call = _CALL.match(line)
        if call is None:
            continue  # signals and exits
        pid, name, fd = call.groups()
        address = _address(line) if "sa_family=AF_INET" in line else None
        if "sa_family=AF_INET" in line and address is None:
            found.append(line)
            continue
        if name == "connect" and address is not None:  # a socket reused for another peer
            dns.discard((pid, fd))
        if address is not None and address[0] == 53:
            dns.add((pid, fd))
        elif address is not None and not _is_loopback(address[1]):
            found.append(line)
            continue
        if name != "connect" and (pid, fd) in dns:
            asked = {_question(payload) for payload in _BYTES.findall(line)}
            if not asked or not asked <= allowed:
                found.append(line)
    return found


def _dns_send(query_id: int, name: str) -> str:
    """A sendto line as `WATCH` prints a DNS query for `name` (type A)."""
    qname = b"".join(bytes([len(part)]) + part.encode() for part in name.split(".")) + b"\0"
    data = query_id.to_bytes(2, "big") + bytes.fromhex("01000001000000000000") + qname + b"\0\1\0\1"
    hex_text = "".join(f"\\x{byte:02x}" for byte in data)
    return f'9 sendto(13, "{hex_text}", {len(data)}, MSG_NOSIGNAL, NULL, 0) = {len(data)}'


def test_calls_home_sees_a_lookup_and_passes_the_loopback() -> None:
    resolver = (
        "9 connect(13, {sa_family=AF_INET, sin_port=htons(53), "
        'sin_addr=inet_addr("10.255.255.53")}, 16) = 0'
    )
    own = _dns_send(1, "x")  # the profile lock's question about this machine
    home = _dns_send(2, "firefox.settings.services.mozilla.com")  # the broken browser's
    outside6 = (
        "9 connect(7, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "2a00:1450::1", &sin6_addr), sin6_scope_id=0}, 28) = -1'
    )
    page = (  # as -xx prints the address
        "9 connect(7, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("
        '"\\x31\\x32\\x37\\x2e\\x30\\x2e\\x30\\x2e\\x31")}, 16) = 0'
    )
    page6 = (
        "9 connect(8, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0'
    )
    unix = '9 connect(4, {sa_family=AF_UNIX, sun_path="/run/dbus/system_bus_socket"}, 110) = 0'
    sent = '9 sendto(7, "\\x32\\x35", 2, 0, NULL, 0) = 2'  # on the page's socket
    quiet = [resolver, own, page, page6, unix, sent]
    assert calls_home("\n".join(quiet), {"x"}) == []
    assert calls_home("\n".join([*quiet, resolver, home, outside6]), {"x"}) == [home, outside6]
    assert calls_home("\n".join(quiet), {"y"}) == [own]  # another machine's name is a call


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
    with firefox(wrapper=[str(STRACE), *WATCH, "-o", str(trace)]) as client:
        client.navigate(page_url)
        assert client.title == "quiet"  # the watch saw a real page load
        time.sleep(IDLE_SECONDS)
    text = trace.read_text(encoding="utf-8", errors="replace")
    port = int(page_url.rsplit(":", 1)[1].strip("/"))
    seen = {_address(line) for line in text.splitlines()}
    assert (port, "127.0.0.1") in seen  # strace watched the browser load the page
    assert calls_home(text, own_names()) == []
