"""The workspace workflows' test bench: cheap key costs, an investigator, a workspace, a runner.

The fixtures that hand these out live in tests/triage/conftest.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from crypto.minisign import ScryptCost
from triage.cli import triage
from triage.keys import investigator as keys

# libsodium's minimum scrypt limits and age work factor 10: milliseconds instead of seconds.
FAST = keys.KeyCosts(age_log_n=10, minisign=ScryptCost(opslimit=32768, memlimit=16 * 1024 * 1024))
PASSPHRASE = "correct horse battery staple"
GROUPS = {"incident", "case", "log", "replies", "team", "media"}


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


def new_investigator(tmp_path: Path, runner: CliRunner, name: str) -> Investigator:
    """An investigator made by `triage keygen`, with a passphrase file beside the key."""
    keydir = tmp_path / f"keys-{name}"
    keydir.mkdir(mode=0o700)
    secret = keydir / "passphrase.txt"
    secret.write_text(PASSPHRASE + "\n")
    identity = keydir / f"{name}.age"
    result = run_triage(runner, "keygen", "-o", str(identity), "--passphrase-file", str(secret))
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    return Investigator(identity, secret, lines["recipient"], lines["fingerprint"])


def new_bench(tmp_path: Path, runner: CliRunner, investigator: Investigator) -> Bench:
    """A workspace made by `triage init` for this investigator."""
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
