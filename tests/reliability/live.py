"""gunicorn with the shipped deploy/gunicorn.conf.py on a free loopback port, serving an
installation; in its own process group, which `stop` kills whole (workers included)."""

from __future__ import annotations

import contextlib
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability.harness import REPO, Installation, free_port

GUNICORN_CONF = REPO / "deploy" / "gunicorn.conf.py"
BOOT_SECONDS = 30
# The shipped file's own setting: the tests run gunicorn exactly as deployed.
WORKERS = int(runpy.run_path(str(GUNICORN_CONF))["workers"])


@dataclass
class LiveServer:
    """gunicorn with the shipped config, serving `installation` on `host`:`port`.

    `prefix` runs it elsewhere, e.g. inside a network namespace standing for another machine
    (tests/deploy/netns.py); `host` is then that namespace's address.
    """

    installation: Installation
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    host: str = "127.0.0.1"
    prefix: tuple[str, ...] = ()

    @property
    def log_path(self) -> Path:
        return self.installation.root / "gunicorn.log"

    def start(self, extra_env: Mapping[str, str] | None = None) -> LiveServer:
        env = {
            **self.installation.env,
            "INTAKE_BIND": f"{self.host}:{self.port}",
            **(extra_env or {}),
        }
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*self.prefix, sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF)],
                stdout=log,
                stderr=log,
                env=env,
                cwd=self.installation.root,
                start_new_session=True,  # its own process group: stop() kills it whole
            )
        self._wait_until_serving()
        return self

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + BOOT_SECONDS
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.log_path.read_text()}")
            pids = self.worker_pids()
            if len(pids) == WORKERS and all(map(_booted, pids)) and self._answers():
                return
            time.sleep(0.05)
        raise AssertionError(f"gunicorn did not serve in time:\n{self.log_path.read_text()}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                return sock.recv(12).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        """The master's children (gunicorn workers), from /proc."""
        assert self.proc is not None
        found = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":\t", 1)
                    for line in status.read_text().splitlines()
                    if ":\t" in line
                )
            except OSError:
                continue
            if fields.get("PPid", "").strip() == str(self.proc.pid):
                found.append(int(status.parent.name))
        return sorted(found)

    def pids_holding(self, path: Path) -> list[int]:
        """Workers with `path` open (the one receiving an upload into that temp file)."""
        return pids_holding(self.worker_pids(), path)

    def stop(self) -> None:
        """Quick shutdown, then SIGKILL to the whole process group (workers included)."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        if self.proc.poll() is None:
            os.killpg(pgid, signal.SIGQUIT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=2)  # a worker still holding a connection is killed below
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None


def _booted(pid: int) -> bool:
    """Whether a worker has loaded the app: its main thread waits in the gthread poll loop.

    A forked worker still importing the app (and running the start-up sweep) is not there
    yet; a test that locks the database then would race its boot.
    """
    try:
        return Path(f"/proc/{pid}/wchan").read_text() in {"do_epoll_wait", "ep_poll"}
    except OSError:
        return False


def pids_holding(pids: list[int], path: Path) -> list[int]:
    """Those of `pids` with `path` open, from /proc (the worker receiving into a temp file)."""
    holding = []
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                if Path(os.readlink(fd)) == path:
                    holding.append(pid)
                    break
            except OSError:
                continue
    return holding
