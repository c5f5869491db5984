"""Fixtures for the workspace workflows: cheap key costs, an investigator, a workspace."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crypto.minisign import ScryptCost
from triage import keys
from triage.cli import triage

# libsodium's minimum scrypt limits and age work factor 10: milliseconds instead of seconds.
FAST = keys.KeyCosts(age_log_n=10, minisign=ScryptCost(opslimit=32768, memlimit=16 * 1024 * 1024))
PASSPHRASE = "correct horse battery staple"
GROUPS = {"incident", "case", "log", "replies", "team"}


@pytest.fixture(autouse=True)
def _no_network(socket_disabled: None) -> None:
    """The workflows run air-gapped (tests/triage/conftest.py does the same for all of triage;
    stated here too so these tests stay offline whatever happens to that file)."""


@pytest.fixture(autouse=True)
def _fast_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys, "default_costs", lambda: FAST)


@dataclass(frozen=True)
class Investigator:
    identity: Path
    passphrase_file: Path
    recipient: str
    fingerprint: str


@dataclass(frozen=True)
class Bench:
    """A workspace and a way to run triage commands in it."""

    root: Path
    investigator: Investigator
    run: Callable[..., Result]  # in the workspace, with the passphrase file
    cli: Callable[..., Result]  # bare, as a recipient runs `triage case verify`


def run_triage(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(triage, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def make_investigator(tmp_path: Path, runner: CliRunner) -> Callable[[str], Investigator]:
    def make(name: str) -> Investigator:
        keydir = tmp_path / f"keys-{name}"
        keydir.mkdir(mode=0o700)
        secret = keydir / "passphrase.txt"
        secret.write_text(PASSPHRASE + "\n")
        identity = keydir / f"{name}.age"
        result = run_triage(runner, "keygen", "-o", str(identity), "--passphrase-file", str(secret))
        assert result.exit_code == 0, result.output
        lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
        return Investigator(identity, secret, lines["recipient"], lines["fingerprint"])

    return make


@pytest.fixture
def investigator(make_investigator: Callable[[str], Investigator]) -> Investigator:
    return make_investigator("olena")


@pytest.fixture
def bench(tmp_path: Path, runner: CliRunner, investigator: Investigator) -> Bench:
    root = tmp_path / "ws"
    pf = str(investigator.passphrase_file)
    result = run_triage(
        runner, "init", str(root), "-i", str(investigator.identity), "--passphrase-file", pf
    )
    assert result.exit_code == 0, result.output

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        depth = 2 if args[0] in GROUPS else 1
        options = ["-w", str(root), "--passphrase-file", pf]
        return runner.invoke(triage, [*args[:depth], *options, *args[depth:]], env=env)

    def cli(*args: str) -> Result:
        return runner.invoke(triage, list(args))

    return Bench(root, investigator, run, cli)
