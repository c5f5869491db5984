"""A tiny client for tor's control protocol (control-spec.txt): enough for the tests' needs.

It authenticates with the cookie tor writes into its data directory, sends one command at a
time and reads the reply; asynchronous events (`SETEVENTS`) are read with a deadline. Written
here rather than taken from `stem` because the tests use five commands and one event type.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from pathlib import Path


class ControlError(Exception):
    """tor answered a control command with an error, or the connection ended."""


@dataclass
class Controller:
    """One authenticated control connection to a tor on the loopback."""

    sock: socket.socket
    _buffer: bytes = b""
    events: list[str] = field(default_factory=list)

    @classmethod
    def connect(cls, port: int, cookie: Path, timeout: float = 30) -> Controller:
        """Connect and AUTHENTICATE with the control cookie; raises ControlError if refused."""
        controller = cls(socket.create_connection(("127.0.0.1", port), timeout=timeout))
        controller.command(f"AUTHENTICATE {cookie.read_bytes().hex()}")
        return controller

    def close(self) -> None:
        self.sock.close()

    def _line(self, deadline: float | None = None) -> str:
        while b"\r\n" not in self._buffer:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no control line before the deadline")
                self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ControlError("tor closed the control connection")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def _reply(self, deadline: float | None = None) -> list[str]:
        """The lines of one reply (data blocks folded in); events met on the way are kept."""
        lines: list[str] = []
        while True:
            line = self._line(deadline)
            if line.startswith("650"):
                self.events.append(line[4:])
                continue
            if line[3:4] == "+":  # a data block runs to a line holding one "."
                block = [line[4:]]
                while (data := self._line(deadline)) != ".":
                    block.append(data)
                lines.append("\n".join(block))
                continue
            lines.append(line)
            if line[3:4] == " ":
                return lines

    def command(self, text: str) -> list[str]:
        """Send one command; its reply lines without the status codes. Raises ControlError."""
        self.sock.settimeout(60)
        self.sock.sendall(text.encode() + b"\r\n")
        lines = self._reply()
        # 2xx is success (ONION_CLIENT_AUTH_ADD answers 251/252 for "replaced", "decrypted").
        if not lines[-1].startswith("2"):
            raise ControlError(f"{text.split(maxsplit=1)[0]}: {' / '.join(lines)}")
        return [line[4:] for line in lines]

    def getinfo(self, key: str) -> str:
        """The value of one GETINFO key (a multi-line value comes back joined by newlines)."""
        first = self.command(f"GETINFO {key}")[0]
        return first.split("=", 1)[1].lstrip("\n")

    def wait_event(self, match: str, timeout: float) -> str:
        """The first event (after SETEVENTS) that contains `match`; TimeoutError if none comes."""
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.events):
                if match in event:
                    del self.events[: index + 1]
                    return event
            self.events.clear()
            line = self._line(deadline)
            if line.startswith("650"):
                self.events.append(line[4:])
