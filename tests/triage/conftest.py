"""Fixtures for triage's tests: sockets off, a CliRunner, keys from the real age-keygen, and the
workspace bench (an investigator and a workspace, made with cheap key costs)."""

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
from tests.triage.workbench import FAST, Bench, Investigator, new_bench, new_investigator
from triage.keys import investigator as keys


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


@pytest.fixture(autouse=True)
def _fast_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys made in-process use libsodium's minimum scrypt limits and age work factor 10."""
    monkeypatch.setattr(keys, "default_costs", lambda: FAST)


@pytest.fixture
def make_investigator(tmp_path: Path, runner: CliRunner) -> Callable[[str], Investigator]:
    return partial(new_investigator, tmp_path, runner)


@pytest.fixture
def investigator(make_investigator: Callable[[str], Investigator]) -> Investigator:
    return make_investigator("olena")


@pytest.fixture
def bench(tmp_path: Path, runner: CliRunner, investigator: Investigator) -> Bench:
    return new_bench(tmp_path, runner, investigator)
