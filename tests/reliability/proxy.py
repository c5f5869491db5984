"""A loopback TCP proxy the test controls: cut it (every connection closed, new ones refused)
and restore it, to take a database away from a running server without touching the database,
or a server away from a browser in the middle of an upload.

`hold_after` arms a tripwire for the browser's case: the bytes a client sends stop going
upstream a set number of bytes after a pattern (a file part's name in a multipart body), so a
cut made then lands exactly there, wherever the browser's own writes happened to fall.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.reliability.harness import free_port

_POLL = 0.1


@dataclass
class TcpProxy:
    """Forwards `host`:`port` to `target` while up; starts down (call `restore`)."""

    target: tuple[str, int]
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sockets: set[socket.socket] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _acceptor: threading.Thread | None = None
    _wire: Tripwire | None = None

    def hold_after(self, pattern: bytes, extra: int) -> threading.Event:
        """Hold the next connection whose client sends `pattern`: `extra` more bytes go
        upstream, then nothing (both sockets stay open until `cut`). Set once it holds."""
        self._wire = Tripwire(pattern, extra)
        return self._wire.tripped

    def disarm(self) -> None:
        """Let every connection through whole again."""
        self._wire = None

    def restore(self) -> None:
        """Listen again on the same port."""
        self._stop = threading.Event()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        listener.settimeout(_POLL)
        self._acceptor = threading.Thread(target=self._accept, args=(listener, self._stop))
        self._acceptor.start()

    def cut(self) -> None:
        """Refuse new connections (nothing listens) and close every open one."""
        self._stop.set()
        if self._acceptor is not None:
            self._acceptor.join()
            self._acceptor = None
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            _close(sock)

    def _armed(self) -> Tripwire | None:
        return self._wire

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        with listener:
            while not stop.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                except OSError:
                    _close(client)
                    continue
                client.settimeout(None)
                upstream.settimeout(None)
                with self._lock:
                    self._sockets |= {client, upstream}
                watched = threading.Thread(
                    target=_pump_watched, args=(client, upstream, self._armed), daemon=True
                )
                watched.start()
                threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()


@dataclass
class Tripwire:
    """Where one connection's upload stops: `extra` bytes after `pattern` (taken once)."""

    pattern: bytes
    extra: int
    tripped: threading.Event = field(default_factory=threading.Event)
    _taken: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> bool:
        """Claim the tripwire for this connection (the first to see the pattern)."""
        return self._taken.acquire(blocking=False)


def _pump_watched(
    src: socket.socket, dst: socket.socket, armed: Callable[[], Tripwire | None]
) -> None:
    """Like `_pump`, but once the armed tripwire's pattern and its extra bytes went through,
    stop: return with both sockets open, so that the server waits for the rest until the test
    cuts. (Read at each chunk: a browser may send the upload on a connection opened before.)"""
    seen, budget = b"", None  # the last bytes (a pattern may span two reads); bytes left
    try:
        while data := src.recv(65536):
            wire = armed()
            if budget is None and wire is not None and not wire.tripped.is_set():
                haystack = seen + data
                at = haystack.find(wire.pattern)
                if at >= 0 and wire.take():
                    budget = at + len(wire.pattern) - len(seen) + wire.extra
                seen = haystack[-len(wire.pattern) :]
            if budget is None or wire is None:
                dst.sendall(data)
                continue
            dst.sendall(data[:budget])
            budget -= min(budget, len(data))
            if budget == 0:
                wire.tripped.set()
                return
    except OSError:
        pass
    _close(src)
    _close(dst)


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        _close(src)
        _close(dst)


def _close(sock: socket.socket) -> None:
    # shutdown() first: it wakes a thread blocked in recv() on this socket, close() does not.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
