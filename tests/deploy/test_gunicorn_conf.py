"""deploy/gunicorn.conf.py: gunicorn accepts every value, and it stays on the loopback and quiet."""

from __future__ import annotations

import logging
import runpy
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn.config import Config

from tests.deploy.conftest import DEPLOY

CONF = DEPLOY / "gunicorn.conf.py"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.delenv("INTAKE_BIND", raising=False)
    return runpy.run_path(str(CONF))


@pytest.fixture
def cfg(settings: dict[str, Any]) -> Config:
    """The settings applied to gunicorn's own Config, as gunicorn applies a config file."""
    config = Config()
    for key, value in settings.items():
        if key in config.settings:
            config.set(key.lower(), value)
    return config


def filesystem_type(path: str) -> str:
    """The filesystem type of the mount holding `path`, from /proc/self/mounts."""
    best = ("", "")
    for line in Path("/proc/self/mounts").read_text(encoding="utf-8").splitlines():
        _, mount_point, fs_type, *_ = line.split()
        if (path + "/").startswith(mount_point.rstrip("/") + "/") and len(mount_point) >= len(
            best[0]
        ):
            best = (mount_point, fs_type)
    return best[1]


def test_binds_only_the_loopback_by_default(cfg: Config) -> None:
    assert cfg.bind == ["127.0.0.1:8080"]
    assert cfg.wsgi_app == "intake.wsgi:app"


def test_no_access_log_and_no_syslog(cfg: Config) -> None:
    assert cfg.accesslog is None
    assert cfg.syslog is False
    assert cfg.disable_redirect_access_to_syslog is True
    assert cfg.errorlog == "-"


def test_threads_not_processes_carry_slow_uploads(cfg: Config) -> None:
    assert cfg.worker_class_str == "gthread"
    assert cfg.workers == 2
    assert cfg.threads >= 256
    assert cfg.worker_connections > cfg.threads  # room for idle keep-alive connections
    assert cfg.max_requests == 0
    assert cfg.timeout >= 120
    assert cfg.keepalive >= 5


def test_worker_heartbeat_lives_on_tmpfs(cfg: Config) -> None:
    assert cfg.worker_tmp_dir == "/dev/shm"
    assert filesystem_type("/dev/shm") == "tmpfs"


def test_request_limits_are_explicit(cfg: Config) -> None:
    assert cfg.limit_request_line <= 4094
    assert cfg.limit_request_fields <= 100
    assert cfg.limit_request_field_size <= 8190


def test_no_client_is_trusted_as_a_proxy(cfg: Config) -> None:
    assert cfg.forwarded_allow_ips == []
    assert cfg.proxy_allow_ips == []
    assert cfg.secure_scheme_headers == {}
    assert cfg.umask == 0o077


def test_control_socket_is_off_where_gunicorn_has_one(cfg: Config) -> None:
    if "control_socket_disable" not in cfg.settings:
        pytest.skip("this gunicorn has no control socket")
    assert cfg.control_socket_disable is True


def test_intake_bind_moves_the_listener(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_BIND", "127.0.0.1:9999")
    assert runpy.run_path(str(CONF))["bind"] == ["127.0.0.1:9999"]


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1:8080", "127.0.0.2:80", "[::1]:8080", "localhost:8080", "unix:/run/i.sock"],
)
def test_local_binds_start(settings: dict[str, Any], address: str) -> None:
    server = SimpleNamespace(cfg=SimpleNamespace(bind=[address]))
    settings["on_starting"](server)


@pytest.mark.parametrize(
    "address",
    ["0.0.0.0:8080", "[::]:8080", "192.0.2.7:8080", "tcp://203.0.113.1:80", "example.org"],
)
def test_public_binds_are_refused(
    settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    monkeypatch.delenv("INTAKE_ALLOW_PUBLIC_BIND", raising=False)
    server = SimpleNamespace(cfg=SimpleNamespace(bind=["127.0.0.1:8080", address]))
    with pytest.raises(RuntimeError, match="refusing to listen"):
        settings["on_starting"](server)
    monkeypatch.setenv("INTAKE_ALLOW_PUBLIC_BIND", "1")
    settings["on_starting"](server)


def record(
    name: str, msg: str, args: tuple[object, ...] = (), exc_info: Any = None
) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)


def test_log_filter_withholds_request_data(settings: dict[str, Any]) -> None:
    canary = "CANARY-7f3a"
    no_request_data = settings["logconfig_dict"]["filters"]["no_request_data"]["()"]()
    formatter = logging.Formatter("%(message)s")
    try:
        raise ValueError(f"bad value {canary}")
    except ValueError:
        exc_info = sys.exc_info()
    records = [
        record(
            "gunicorn.error", "Error handling request %s %s", ("POST", f"/s?t={canary}"), exc_info
        ),
        record("gunicorn.error", f"Invalid request from ip=127.0.0.1: Invalid header '{canary}'"),
        record("intake", f"Exception on /r/{canary} [POST]", (), exc_info),
        record("gunicorn.error", "Closing connection. %s", (OSError(canary),)),
    ]
    for rec in records:
        assert no_request_data.filter(rec) is True
        text = formatter.format(rec)
        assert canary not in text
        assert text
    # What stays is what an admin needs: which exception, where in the code.
    assert "builtins.ValueError (message withheld)" in formatter.format(records[0])
    assert "test_gunicorn_conf.py" in formatter.format(records[0])


def test_log_filter_keeps_ordinary_messages(settings: dict[str, Any]) -> None:
    no_request_data = settings["logconfig_dict"]["filters"]["no_request_data"]["()"]()
    record = logging.LogRecord(
        "gunicorn.error", logging.INFO, __file__, 1, "Booting worker with pid: %s", (1234,), None
    )
    no_request_data.filter(record)
    assert record.getMessage() == "Booting worker with pid: 1234"


class _Socket:
    """Enough of a socket for the linger wrapper: counts closes."""

    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_the_close_linger_runs_once_per_socket_and_never_raises(
    settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review finding: gthread's error path asked twice for one socket (two threads closing one
    descriptor), and a thread that could not start made gunicorn count the close twice."""
    started: list[object] = []
    release = threading.Event()

    def slow_linger(sock: _Socket, *_args: object, **_kwargs: object) -> None:
        started.append(sock)
        release.wait(5)
        sock.close()

    wrapper = settings["_close_graceful_in_a_thread"]
    monkeypatch.setitem(wrapper.__globals__, "_close_graceful", slow_linger)
    sock = _Socket()
    wrapper(sock)
    wrapper(sock)  # the second request for the same socket is dropped
    for _ in range(100):
        if started:
            break
        time.sleep(0.01)
    assert started == [sock]

    def no_thread(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("can't start new thread")

    other = _Socket()
    monkeypatch.setattr(threading.Thread, "start", no_thread)
    wrapper(other)  # must not raise
    assert other.closed == 1
    release.set()
