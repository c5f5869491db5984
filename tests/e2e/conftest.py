"""A real Intake behind a real gunicorn on 127.0.0.1, made the way an operator makes one.

`intake init` creates the data directory, `intake keys add` adds a test investigator, and
`intake serve` execs gunicorn with deploy/gunicorn.conf.py (2 gthread workers, no access log)
on a free loopback port. The codename KDF runs at its production cost (Argon2id, 64 MiB): the
point of these tests is the real thing. Every gunicorn is stopped in the fixture's finaliser,
its whole process group killed if it does not stop in time.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crypto.age import open_bytes, open_stream
from crypto.minisign import SigningKey
from crypto.x25519 import X25519Identity
from intake.cli import main
from protocol.schema import Submission
from tests.conftest import keyring_env
from tests.e2e.chromium import chromium

READY_SECONDS = 30
STOP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of(pid: int) -> list[int]:
    """The direct children of `pid` (gunicorn's workers, for its master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii")
        except OSError:
            continue
        # The command name in parentheses may contain spaces; the ppid follows the ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


@dataclass(frozen=True)
class LiveSite:
    """One running installation: where it listens, its files, its investigator, its processes."""

    base_url: str
    port: int
    data_dir: Path
    env: dict[str, str]
    investigator: X25519Identity
    signing_key: SigningKey
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def database(self) -> Path:
        return self.data_dir / "intake.sqlite3"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "store" / "blobs"

    @property
    def temp_dir(self) -> Path:
        """Where uploads in progress are sealed (the only place a worker may write a file)."""
        return self.data_dir / "store" / "tmp"

    def workers(self) -> list[int]:
        return children_of(self.process.pid)

    def cli(self, *args: str) -> str:
        """Run `intake ARGS` against this installation (in-process, as the operator would)."""
        result = CliRunner().invoke(main, list(args), env=self.env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    def blob_names(self, submission_id: str) -> set[str]:
        with sqlite3.connect(self.database) as conn:
            rows = conn.execute("SELECT name FROM blob WHERE submission_id = ?", (submission_id,))
            return {name for (name,) in rows}

    def manifest_blob(self, submission_id: str) -> str:
        """The blob name of the submission's sealed submission.json."""
        with sqlite3.connect(self.database) as conn:
            row = conn.execute(
                "SELECT manifest_blob FROM submission WHERE id = ?", (submission_id,)
            ).fetchone()
        assert row is not None, f"no submission {submission_id} in the database"
        return str(row[0])

    def submission(self, submission_id: str) -> Submission:
        """The sealed submission.json of `submission_id`, opened with the investigator key."""
        return Submission.from_json(self.open_blob(self.manifest_blob(submission_id)))

    def open_blob(self, name: str) -> bytes:
        return open_bytes((self.blob_dir / name).read_bytes(), [self.investigator])

    def open_with_age(self, name: str, workdir: Path) -> bytes:
        """The blob opened by the real `age` binary, the investigator's key written to `workdir`."""
        identity = workdir / "investigator.key"
        identity.write_text(str(self.investigator) + "\n", encoding="ascii")
        identity.chmod(0o600)
        done = subprocess.run(
            ["age", "-d", "-i", str(identity), str(self.blob_dir / name)],
            capture_output=True,
            check=True,
            timeout=60,
        )
        return done.stdout

    def count(self, table: str, where: str = "1") -> int:
        """Rows of `table` (a name from the test, never from input) matching `where`."""
        with sqlite3.connect(self.database) as conn:
            query = f"SELECT count(*) FROM {table} WHERE {where}"  # noqa: S608 - test's own
            return int(conn.execute(query).fetchone()[0])

    def blob_sha256(self, name: str) -> tuple[str, int]:
        """SHA-256 and size of a blob's plaintext, decrypted as a stream (for large files)."""
        digest, size = hashlib.sha256(), 0
        with (self.blob_dir / name).open("rb") as handle:
            for chunk in open_stream(handle, [self.investigator]):
                digest.update(chunk)
                size += len(chunk)
        return digest.hexdigest(), size


def _server_env(data_dir: Path, port: int, extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("INTAKE_")}
    env.update(INTAKE_DATA_DIR=str(data_dir), INTAKE_BIND=f"127.0.0.1:{port}", **extra)
    env.update(keyring_env(data_dir.parent))
    return env


def _wait_until_serving(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until a worker answers the landing page (the master binds before workers boot)."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=READY_SECONDS)
            conn.request("GET", "/")
            status = conn.getresponse().status
            conn.close()
        except OSError:
            time.sleep(0.1)
            continue
        if status == 200:
            return
        pytest.fail(f"the landing page answered {status}:\n{log.read_text()}")
    pytest.fail(f"gunicorn did not answer within {READY_SECONDS} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes], workers: list[int]) -> None:
    """SIGTERM (graceful), then SIGKILL to the whole process group we started."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_SECONDS)
    for pid in workers:  # a worker outliving its master would keep the port and the files
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)


def _prepare(env: dict[str, str], investigator: X25519Identity, pub: Path) -> None:
    """`intake init`, then `intake keys add` for the test investigator."""
    runner = CliRunner()
    for args in (
        ["init"],
        ["keys", "add", str(investigator.recipient()), "--name", "E2E", "--signing-key", str(pub)],
    ):
        result = runner.invoke(main, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output


@contextmanager
def serve(tmp_path: Path, *, extra_env: dict[str, str] | None = None) -> Iterator[LiveSite]:
    """`intake init`, `intake keys add` and `intake serve` in `tmp_path`; stopped on exit."""
    data_dir, port = tmp_path / "data", free_port()
    env = _server_env(data_dir, port, extra_env or {})
    investigator, signing_key = X25519Identity.generate(), SigningKey.generate()
    pub = tmp_path / "investigator.pub"
    pub.write_text(signing_key.verify_key().to_file_text(), encoding="utf-8")
    _prepare(env, investigator, pub)
    log = tmp_path / "gunicorn.log"
    intake = Path(sys.executable).with_name("intake")
    with log.open("wb") as out:
        # A new session, so that the finaliser can kill exactly this group and nothing else.
        process = subprocess.Popen(
            [str(intake), "serve", "--bind", f"127.0.0.1:{port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    site = LiveSite(
        f"http://127.0.0.1:{port}", port, data_dir, env, investigator, signing_key, process, log
    )
    try:
        _wait_until_serving(port, process, log)
        yield site
    finally:
        _stop(process, site.workers())


@pytest.fixture
def live_site(tmp_path: Path) -> Iterator[LiveSite]:
    """A served installation with one active investigator key, stopped after the test."""
    with serve(tmp_path) as site:
        yield site


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for a module's tests (each opens its own contexts)."""
    with chromium() as launched:
        yield launched
