"""Fixtures for triage's tests: sockets off, a CliRunner, keys from the real age-keygen."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner

import crypto.scrypt
from crypto.scrypt import ScryptRecipient
from tests.triage.helpers import AgeKey


@pytest.fixture(autouse=True)
def _offline(socket_disabled: None) -> None:
    """Every triage test runs with sockets disabled: the tool must work air-gapped.

    (pytest-socket patches this process only; subprocesses are checked by test_offline.py.)
    """


@pytest.fixture(autouse=True)
def _fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process sealing to a passphrase uses scrypt work factor 10 instead of age's 18.

    At 18 every seal costs about a second and 256 MiB; subprocess tests keep the real cost.
    """
    monkeypatch.setattr(crypto.scrypt, "ScryptRecipient", partial(ScryptRecipient, log_n=10))


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def make_key(tmp_path: Path) -> Callable[[str], AgeKey]:
    def make(name: str) -> AgeKey:
        path = tmp_path / f"{name}.key"
        subprocess.run(["age-keygen", "-o", str(path)], check=True, capture_output=True)
        recipient = subprocess.run(
            ["age-keygen", "-y", str(path)], check=True, capture_output=True, text=True
        ).stdout.strip()
        return AgeKey(path, recipient)

    return make


@pytest.fixture
def age_key(make_key: Callable[[str], AgeKey]) -> AgeKey:
    return make_key("alice")
