"""A tiny SOCKS5 client (RFC 1928, no authentication) for reaching onions through the tor client.

The onion name goes to tor unresolved (address type 3), as Tor Browser sends it. tor's
`ExtendedErrors` reply codes (0xF0-0xF7, tor's socks-extensions.txt) say why an onion was not
reached; `SocksError.code` keeps the code so tests can tell "no client key" from "unreachable".
"""

from __future__ import annotations

import http.client
import socket
import struct
from collections.abc import Callable

# tor's extended SOCKS5 replies for onion services (socks-extensions.txt, "Extended error codes").
ONION_NOT_FOUND = 0xF0
ONION_MISSING_CLIENT_AUTH = 0xF4


class SocksError(Exception):
    """The proxy refused the connection; `code` is the SOCKS5 reply code."""

    def __init__(self, code: int) -> None:
        super().__init__(f"SOCKS5 reply {code:#04x}")
        self.code = code


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the SOCKS proxy closed the connection")
        data += chunk
    return data


def _greet(sock: socket.socket, isolation: str | None) -> None:
    """No authentication, or a username/password (RFC 1929) that tor uses only to keep apart
    streams on different circuits (IsolateSOCKSAuth, on by default): one circuit per value."""
    if isolation is None:
        sock.sendall(b"\x05\x01\x00")
        if _read(sock, 2) != b"\x05\x00":
            raise ConnectionError("the SOCKS proxy wants an authentication we do not offer")
        return
    sock.sendall(b"\x05\x01\x02")
    if _read(sock, 2) != b"\x05\x02":
        raise ConnectionError("the SOCKS proxy refused username/password")
    name = isolation.encode()
    sock.sendall(b"\x01" + bytes([len(name)]) + name + b"\x01x")
    if _read(sock, 2)[1] != 0:
        raise ConnectionError("the SOCKS proxy refused the username")


def connect(
    socks_port: int, host: str, port: int, timeout: float = 120, isolation: str | None = None
) -> socket.socket:
    """A socket connected through the proxy to host:port; SocksError if the proxy refuses.

    Streams with different `isolation` values never share a circuit."""
    sock = socket.create_connection(("127.0.0.1", socks_port), timeout=timeout)
    try:
        _greet(sock, isolation)
        name = host.encode("ascii")
        sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack("!H", port))
        version, code, _reserved, kind = _read(sock, 4)
        if code != 0:
            raise SocksError(code)
        _read(sock, {1: 4, 4: 16}.get(kind, 0) or _read(sock, 1)[0])
        _read(sock, 2)  # the bound port
        assert version == 5
    except BaseException:
        sock.close()
        raise
    return sock


class OnionConnection(http.client.HTTPConnection):
    """http.client to an onion, through the tor client's SOCKS port."""

    def __init__(self, socks_port: int, onion: str, port: int = 80, timeout: float = 120) -> None:
        super().__init__(onion, port, timeout=timeout)
        self.socks_port = socks_port

    def connect(self) -> None:
        self.sock = connect(self.socks_port, self.host, self.port, self.timeout or 120)


def connector(socks_port: int, onion: str) -> Callable[[int, float], http.client.HTTPConnection]:
    """For tests/e2e/streaming.py: its `port` is the onion's port (80)."""
    return lambda port, timeout: OnionConnection(socks_port, onion, port, timeout)
