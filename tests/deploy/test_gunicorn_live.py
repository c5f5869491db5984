"""A real gunicorn with deploy/gunicorn.conf.py: no version, no request data in any log, no W^X."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY

# These tests talk to a real gunicorn on the loopback, and to nothing else.
pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

CANARY = "CANARY-b41d"
# A WSGI app that loads the stack Intake runs on and does what a submission does: Argon2id at
# the production cost, ChaCha20-Poly1305 over a chunk, and an SQLite write in WAL mode.
APP = textwrap.dedent(
    """
    import mmap, os, sqlite3
    import flask, psycopg, sqlalchemy, nacl.bindings, nacl.pwhash

    def wx_refused():
        try:
            mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC).close()
        except OSError:
            return "refused"
        return "allowed"

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/boom":
            raise ValueError("boom " + environ["QUERY_STRING"])
        if environ["PATH_INFO"] == "/work":
            key = nacl.pwhash.argon2id.kdf(
                32, b"seven words", b"s" * 16, opslimit=3, memlimit=64 * 1024 * 1024
            )
            chunk = environ["wsgi.input"].read()
            nacl.bindings.crypto_aead_chacha20poly1305_ietf_encrypt(chunk, None, bytes(12), key)
            db = sqlite3.connect(os.path.join(os.environ["WORK_DIR"], "t.sqlite3"))
            db.execute("pragma journal_mode=wal")
            db.execute("pragma secure_delete=on")
            db.execute("create table if not exists t (v blob)")
            db.execute("insert into t values (?)", (key,))
            db.commit()
            start_response("200 OK", [("X-WX", wx_refused())])
            return [b"ok"]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    """
)
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
# Started instead of gunicorn when W^X must hold: set the flag (kept across fork and exec, like
# systemd's MemoryDenyWriteExecute=yes), then exec gunicorn.
MDWE_LAUNCHER = textwrap.dedent(
    f"""
    import ctypes, os, sys
    if ctypes.CDLL(None, use_errno=True).prctl({PR_SET_MDWE}, {PR_MDWE_REFUSE_EXEC_GAIN}, 0, 0, 0):
        sys.exit(77)
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", *sys.argv[1:]])
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(
    tmp_path: Path,
    *,
    launcher: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[int]:
    """Run gunicorn with the shipped config on a free loopback port; logs go to tmp_path."""
    (tmp_path / "dummyapp.py").write_text(APP, encoding="utf-8")
    port = free_port()
    env = {**os.environ, **(env or {})}
    env.update(INTAKE_BIND=f"127.0.0.1:{port}", WORK_DIR=str(tmp_path))
    command = [
        *(launcher or [sys.executable, "-m", "gunicorn"]),
        "--config",
        str(DEPLOY / "gunicorn.conf.py"),
    ]
    with (tmp_path / "stdout").open("wb") as out, (tmp_path / "stderr").open("wb") as err:
        proc = subprocess.Popen(
            [*command, "--workers", "1", "--chdir", str(tmp_path), "dummyapp:app"],
            stdout=out,
            stderr=err,
            env=env,
        )
        try:
            wait_for(port, proc)
            yield port
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def wait_for(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            time.sleep(0.05)
        else:
            return
    pytest.fail("gunicorn did not start listening")


def get(port: int, path: str, body: bytes | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST" if body is not None else "GET", path, body=body)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        return sock.recv(4096)


def logs(tmp_path: Path) -> str:
    return (tmp_path / "stdout").read_text() + (tmp_path / "stderr").read_text()


def test_serves_without_a_version_and_logs_no_request_data(tmp_path: Path) -> None:
    # systemd's Type=notify socket, as intake.service provides it.
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(20)
    with notify, gunicorn(tmp_path, env={"NOTIFY_SOCKET": str(tmp_path / "notify")}) as port:
        assert notify.recv(4096).startswith(b"READY=1")
        ok = get(port, f"/?q={CANARY}", body=CANARY.encode())
        assert ok.status == 200
        servers = ok.headers.get_all("Server") or []
        # Gunicorn >= 20.1 sends "Server: gunicorn" and no version; the app adds no second one.
        assert len(servers) <= 1
        assert not any(ch.isdigit() for ch in "".join(servers))
        assert get(port, f"/boom?secret={CANARY}").status == 500
        assert raw(port, f"GET /x HTTP/1.1\r\nHost: a\r\nX-{CANARY}: \x01{CANARY}\r\n\r\n".encode())
        assert raw(port, f"GET /{CANARY} HTTP/9.{CANARY}\r\n\r\n".encode()).startswith(
            b"HTTP/1.1 4"
        )
        too_long = f"GET /{CANARY * 300} HTTP/1.1\r\nHost: a\r\n\r\n".encode()
        assert raw(port, too_long).startswith(b"HTTP/1.1 414")
    text = logs(tmp_path)
    assert "Listening at: http://127.0.0.1:" in text
    assert "error while handling a request (request withheld)" in text
    assert "refused an invalid request (details withheld)" in text
    assert CANARY not in text
    assert "/?q=" not in text  # no access log line of any shape


def test_public_bind_is_refused_before_listening(tmp_path: Path) -> None:
    (tmp_path / "dummyapp.py").write_text(APP, encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_ALLOW_PUBLIC_BIND"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(DEPLOY / "gunicorn.conf.py"),
            "--bind",
            f"0.0.0.0:{port}",
            "--chdir",
            str(tmp_path),
            "dummyapp:app",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert f"refusing to listen on 0.0.0.0:{port}" in result.stderr


def test_the_stack_runs_with_write_xor_execute_memory(tmp_path: Path) -> None:
    # What MemoryDenyWriteExecute=yes in deploy/systemd/intake.service will enforce.
    launcher = tmp_path / "mdwe.py"
    launcher.write_text(MDWE_LAUNCHER, encoding="utf-8")
    probe = subprocess.run(
        [sys.executable, str(launcher), "--version"], capture_output=True, check=False
    )
    if probe.returncode == 77:
        pytest.skip("this kernel has no PR_SET_MDWE (Linux >= 6.3)")
    with gunicorn(tmp_path, launcher=[sys.executable, str(launcher)]) as port:
        response = get(port, "/work", body=os.urandom(65536))
        assert response.status == 200
        assert response.headers["X-WX"] == "refused"  # the flag really holds in the worker
    assert "[ERROR]" not in logs(tmp_path)
