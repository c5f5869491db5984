"""A loopback TCP proxy the test controls: cut it (every connection closed, new ones refused)
and restore it, to take a database away from a running server without touching the database.
"""

from __future__ import annotations

import contextlib
import socket
import threading
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
                for src, dst in ((client, upstream), (upstream, client)):
                    threading.Thread(target=_pump, args=(src, dst), daemon=True).start()


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
