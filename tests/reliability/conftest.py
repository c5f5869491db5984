"""Fixtures for the reliability tests: a real installation and a real gunicorn, always stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.client import Witness
from tests.reliability.harness import Installation, install
from tests.reliability.live import LiveServer


@pytest.fixture
def installation(tmp_path: Path) -> Installation:
    """`intake init` + `intake keys add` in a fresh data directory (SQLite)."""
    return install(tmp_path)


@pytest.fixture
def server(installation: Installation) -> Iterator[LiveServer]:
    """gunicorn with deploy/gunicorn.conf.py on a free 127.0.0.1 port; killed afterwards."""
    live = LiveServer(installation)
    try:
        yield live.start()
    finally:
        live.stop()


@pytest.fixture
def witness(server: LiveServer) -> Witness:
    return Witness(server.port)
