"""What HAProxy's runtime API says about the front right now: connections, queues, refusals.

Read through the stats socket of deploy/haproxy.cfg (root only, mode 600, level "user"): at
that level HAProxy answers `show info`, `show stat` and the size of each stick table, and
refuses to dump a table's entries, so no circuit id ever reaches this code or a terminal.
Nothing here changes HAProxy's state; the socket's level forbids it anyway.
"""

from __future__ import annotations

import csv
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from intake.errors import IntakeError

__all__ = [
    "HAPROXY_SOCKET",
    "BackendStatus",
    "FrontStatus",
    "FrontUnavailable",
    "ask",
    "read_front",
]

# deploy/haproxy.cfg: `stats socket /run/haproxy/intake-stats.sock mode 600 level user`.
HAPROXY_SOCKET = Path("/run/haproxy/intake-stats.sock")
FRONTEND = "witness"
_TABLE = re.compile(r"^# table: (\S+), type: \S+, size:\d+, used:(\d+)", re.MULTILINE)


class FrontUnavailable(IntakeError):
    """The stats socket could not be read; `fix` (the hint) says what to do."""

    category = "live"

    def __init__(self, reason: str, fix: str, *, not_root: bool = False) -> None:
        super().__init__(reason, hint=fix)
        self.reason, self.fix, self.not_root = reason, fix, not_root


@dataclass(frozen=True)
class BackendStatus:
    """One backend (pages, uploads, codenames): requests at gunicorn, its slots, its queue."""

    name: str
    in_flight: int
    slots: int
    queued: int
    queued_max: int


@dataclass(frozen=True)
class FrontStatus:
    """The front as a whole, since HAProxy started (counters) and now (current values)."""

    connections: int
    max_connections: int  # the witness frontend's maxconn (4000), not the process's (4096)
    # Connections at the front that gunicorn does not hold: request heads still arriving (slow
    # or not), idle keep-alive connections, and requests waiting in a queue.
    waiting_at_front: int
    backends: tuple[BackendStatus, ...]
    refused_connections: int  # per-circuit connection limit (tcp-request session reject)
    # Requests denied at the front: per-circuit request, upload and codename limits (429) and
    # upload paths with `%` or `//` (400); HAProxy counts both in one `dreq`.
    refused_requests: int
    bad_or_slow_heads: int  # request heads cut at the 10 s deadline (408) or malformed (400)
    circuits_tracked: dict[str, int]

    @classmethod
    def parse(cls, stat_csv: str, tables: str) -> FrontStatus:
        """From the answers to `show stat` and `show table`. Raises ValueError, KeyError."""
        rows = list(csv.DictReader(stat_csv.removeprefix("# ").splitlines()))
        front = next(r for r in rows if r["pxname"] == FRONTEND and r["svname"] == "FRONTEND")
        backends = _backends(rows)
        held = sum(backend.in_flight for backend in backends)
        return cls(
            connections=_int(front["scur"]),
            max_connections=int(front["slim"]),
            waiting_at_front=max(0, _int(front["scur"]) - held),
            backends=backends,
            refused_connections=_int(front["dses"]) + _int(front["dcon"]),
            refused_requests=_int(front["dreq"]),
            bad_or_slow_heads=_int(front["ereq"]),
            circuits_tracked={name: int(used) for name, used in _TABLE.findall(tables)},
        )

    @property
    def queued(self) -> int:
        return sum(backend.queued for backend in self.backends)

    def as_json(self) -> dict[str, object]:
        return {
            "connections": self.connections,
            "max_connections": self.max_connections,
            "waiting_at_front": self.waiting_at_front,
            "backends": [vars(backend) for backend in self.backends],
            "refused_connections": self.refused_connections,
            "refused_requests": self.refused_requests,
            "bad_or_slow_heads": self.bad_or_slow_heads,
            "circuits_tracked": self.circuits_tracked,
        }


def _int(value: str) -> int:
    return int(value) if value else 0


def _backends(rows: list[dict[str, str]]) -> tuple[BackendStatus, ...]:
    """Backends with servers (the stick-table-only ones have none), in the config's order.

    A request waits in its backend's queue, or its server's once one was chosen for it.
    """
    servers: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        if row["svname"] not in ("FRONTEND", "BACKEND"):
            servers.setdefault(row["pxname"], []).append(row)
    return tuple(
        BackendStatus(
            name=row["pxname"],
            in_flight=sum(_int(server["scur"]) for server in servers[row["pxname"]]),
            slots=sum(_int(server["slim"]) for server in servers[row["pxname"]]),
            queued=_int(row["qcur"]) + sum(_int(s["qcur"]) for s in servers[row["pxname"]]),
            queued_max=_int(row["qmax"]),
        )
        for row in rows
        if row["svname"] == "BACKEND" and row["pxname"] in servers
    )


def ask(path: Path, command: str, timeout: float = 5.0) -> str:
    """One command on the stats socket, its whole answer (HAProxy closes after answering)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def read_front(path: Path = HAPROXY_SOCKET, timeout: float = 5.0) -> FrontStatus:
    """Ask HAProxy through its stats socket. Raises FrontUnavailable."""
    try:
        answers = [ask(path, command, timeout) for command in ("show stat", "show table")]
    except PermissionError:
        raise FrontUnavailable(
            f"{path} is readable by root only",
            "as root: sudo /opt/intake/venv/bin/intake stats --live",
            not_root=True,
        ) from None
    except OSError as exc:
        raise FrontUnavailable(
            f"HAProxy's stats socket {path} cannot be reached ({exc.strerror or exc})",
            "check that haproxy runs with deploy/haproxy.cfg: systemctl status haproxy",
        ) from None
    try:
        return FrontStatus.parse(*answers)
    except (ValueError, KeyError, StopIteration):
        raise FrontUnavailable(
            f"{path} did not answer as deploy/haproxy.cfg's front would",
            f"check that /etc/haproxy/haproxy.cfg is deploy/haproxy.cfg (frontend {FRONTEND})",
        ) from None
