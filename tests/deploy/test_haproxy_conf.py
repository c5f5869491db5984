"""deploy/haproxy.cfg and deploy/errors/: HAProxy accepts them, and they keep the front's rules."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from intake.security_headers import HEADERS
from tests.deploy.conftest import DEPLOY
from tests.deploy.haproxy import (
    APP_BIND,
    FRONT_BIND,
    INSTALLED_ERRORS,
    check_config,
    config_for_test,
    sections,
    shipped,
)

ERRORS = DEPLOY / "errors"


def all_lines() -> list[str]:
    return [line for lines in sections(shipped()).values() for line in lines]


def seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h)?", value).groups()  # type: ignore[union-attr]
    return int(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 0.001}[unit]


def timeouts() -> dict[str, float]:
    return {
        line.split()[1]: seconds(line.split()[2])
        for line in sections(shipped())["defaults"]
        if line.startswith("timeout ")
    }


def test_real_haproxy_accepts_the_shipped_config(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    config.write_text(config_for_test(shipped(), front_port=18000, app_port=18080))
    assert "Configuration file is valid" in check_config(config)


def test_nothing_is_logged_exposed_spooled_or_forwarded() -> None:
    lines = all_lines()
    assert not [line for line in lines if line.split()[0] == "log"]  # no log target at all
    # The one runtime API: a root-only unix socket at the read-only level; no page, no port.
    assert [line for line in lines if "stats" in line.split()[:2]] == [
        "stats socket /run/haproxy/intake-stats.sock mode 600 level user"
    ]
    assert not [line for line in lines if re.search(r"option (forwardfor|forwarded)", line)]
    assert not [line for line in lines if "send-proxy" in line]  # no circuit id to gunicorn
    # Bodies stream: buffering is switched off explicitly and nothing caches.
    assert "no option http-buffer-request" in sections(shipped())["defaults"]
    assert not [line for line in lines if line == "option http-buffer-request"]
    assert not [name for name in sections(shipped()) if name.startswith("cache")]
    assert not [line for line in lines if "filter cache" in line or "cache-store" in line]
    assert "http-response del-header Server" in sections(shipped())["frontend witness"]


def test_timeouts_stop_slow_heads_but_not_stalled_uploads() -> None:
    found = timeouts()
    assert found["http-request"] <= 15  # a whole request head, however slowly sent
    assert found["client"] > 120  # an honest upload survives a two-minute stall
    # The server side is silent during the same stall, and its timeout cuts it too.
    assert found["server"] >= found["client"]
    assert found["queue"] <= 60
    assert found["http-keep-alive"] <= 30


def test_haproxy_reaches_gunicorn_default_bind(monkeypatch: pytest.MonkeyPatch) -> None:
    # tests/deploy/test_torrc.py checks that tor's onion port reaches this bind.
    assert f"bind {FRONT_BIND} accept-proxy" in sections(shipped())["frontend witness"]
    monkeypatch.delenv("INTAKE_BIND", raising=False)
    gunicorn = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert gunicorn["bind"] == [APP_BIND]
    servers = [line for line in all_lines() if line.startswith("server ")]
    assert servers
    assert all(line.split()[2] == APP_BIND for line in servers)
    # The backends' slots never promise more than gunicorn's threads.
    slots = sum(int(line.split("maxconn")[1].split()[0]) for line in servers)
    assert slots <= gunicorn["workers"] * gunicorn["threads"]


def test_circuit_tables_live_in_memory_only() -> None:
    tables = [line for line in all_lines() if line.startswith("stick-table")]
    assert tables
    for line in tables:
        assert "type ipv6" in line  # keyed on the PROXY source address tor fills in
        assert "peers" not in line  # never sent to another process or host
        assert re.search(r"expire \d+m", line)


def error_pages() -> dict[int, bytes]:
    referenced = {
        int(line.split()[1]): line.split()[2]
        for line in sections(shipped())["defaults"]
        if line.startswith("errorfile ")
    }
    assert all(path.startswith(INSTALLED_ERRORS + "/") for path in referenced.values())
    return {code: (ERRORS / Path(path).name).read_bytes() for code, path in referenced.items()}


def test_every_error_page_is_referenced_and_answers_with_the_site_headers() -> None:
    pages = error_pages()
    assert {400, 408, 429, 502, 503, 504} <= set(pages)
    assert sorted(p.name for p in ERRORS.iterdir()) == sorted(f"{c}.http" for c in pages)
    for code, page in pages.items():
        head, _, body = page.partition(b"\r\n\r\n")
        status, *fields = head.decode("ascii").split("\r\n")
        assert status.startswith(f"HTTP/1.1 {code} ")
        headers = dict(field.split(": ", 1) for field in fields)
        for name, value in HEADERS.items():
            assert headers.get(name) == value, f"{code}.http: {name}"
        assert "Server" not in headers
        assert int(headers["Content-Length"]) == len(body)
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        # Nothing from another origin, no script: the pages obey the CSP they carry.
        assert b"<script" not in body
        assert b"http" not in body.lower()
