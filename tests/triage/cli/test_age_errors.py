"""`triage encrypt` / `triage decrypt` failures: exact messages, exit codes, nothing left behind."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crypto.keyfile import fingerprint
from crypto.x25519 import X25519Recipient
from tests.triage.helpers import AgeKey, payload, run_triage
from triage.cli import _passphrase, triage
from triage.errors import ExitCode

CHUNK = 64 * 1024
SEALED_CHUNK = CHUNK + 16


def run(runner: CliRunner, *args: str | Path, stdin: bytes | None = None) -> Result:
    return runner.invoke(triage, [str(a) for a in args], input=stdin)


def failed(result: Result, code: ExitCode, *stderr: str) -> None:
    """The command failed with `code` and printed exactly `stderr` (one item per line)."""
    assert result.stderr.splitlines() == list(stderr)
    assert result.exit_code == code


@pytest.fixture
def sealed(runner: CliRunner, tmp_path: Path, age_key: AgeKey) -> Path:
    """Four full chunks and a bit, sealed to `age_key`."""
    plain, path = tmp_path / "plain", tmp_path / "sealed.age"
    plain.write_bytes(payload(4 * CHUNK + 100))
    assert run(runner, "encrypt", "-r", age_key.recipient, "-o", path, plain).exit_code == 0
    return path


# --- usage ---------------------------------------------------------------------------------


def test_no_recipients(runner: CliRunner):
    failed(
        run(runner, "encrypt", stdin=b"x"),
        ExitCode.USAGE,
        "triage: error: no recipients given",
        "triage: hint: seal to keys with -r RECIPIENT or -R FILE, or to a passphrase with -p",
    )


def test_passphrase_and_recipients_together(runner: CliRunner, age_key: AgeKey):
    failed(
        run(runner, "encrypt", "-p", "-r", age_key.recipient, stdin=b"x"),
        ExitCode.USAGE,
        "triage: error: -p/--passphrase can't be combined with -r or -R",
        "triage: hint: run 'triage encrypt --help' for usage",
    )


def test_passphrase_file_without_passphrase(runner: CliRunner, age_key: AgeKey, tmp_path: Path):
    args = ("--passphrase-file", tmp_path / "p", "-r", age_key.recipient)
    failed(
        run(runner, "encrypt", *args, stdin=b"x"),
        ExitCode.USAGE,
        "triage: error: --passphrase-file is only used with -p/--passphrase",
        "triage: hint: run 'triage encrypt --help' for usage",
    )


def test_unknown_option_gets_click_suggestion_as_a_hint(runner: CliRunner):
    failed(
        run(runner, "decrypt", "--identiy", "k"),
        ExitCode.USAGE,
        "triage: error: no such option '--identiy'",
        "triage: hint: did you mean '--identity'?",
        "triage: hint: run 'triage decrypt --help' for usage",
    )


def test_output_is_a_directory(runner: CliRunner, sealed: Path, age_key: AgeKey, tmp_path: Path):
    failed(
        run(runner, "decrypt", "-i", age_key.identity_file, "-o", tmp_path, sealed),
        ExitCode.USAGE,
        f"triage: error: {tmp_path}: is a directory",
        "triage: hint: give -o the path of a file to create or replace",
    )


def test_output_in_a_missing_directory(
    runner: CliRunner, sealed: Path, age_key: AgeKey, tmp_path: Path
):
    target = tmp_path / "nowhere" / "out"
    failed(
        run(runner, "decrypt", "-i", age_key.identity_file, "-o", target, sealed),
        ExitCode.USAGE,
        f"triage: error: {target}: no such directory: {target.parent}",
        "triage: hint: give -o the path of a file to create or replace",
    )


# --- files and keys ------------------------------------------------------------------------


def test_missing_input(runner: CliRunner, age_key: AgeKey, tmp_path: Path):
    missing = tmp_path / "missing.txt"
    failed(
        run(runner, "encrypt", "-r", age_key.recipient, "-o", tmp_path / "out", missing),
        ExitCode.IO,
        f"triage: error: {missing}: no such file or directory",
        "triage: hint: check the path",
    )
    assert not (tmp_path / "out").exists()


def test_missing_recipients_file(runner: CliRunner, tmp_path: Path):
    missing = tmp_path / "nobody.txt"
    failed(
        run(runner, "encrypt", "-R", missing, stdin=b"x"),
        ExitCode.IO,
        f"triage: error: {missing}: no such file or directory",
        "triage: hint: check the path",
    )


def test_malformed_recipient(runner: CliRunner):
    failed(
        run(runner, "encrypt", "-r", "age1notakey", stdin=b"x"),
        ExitCode.KEY,
        "triage: error: malformed recipient: invalid character in bech32 data",
        "triage: hint: age recipients start with age1, identity files hold AGE-SECRET-KEY-1 lines",
    )


def test_not_an_age_file(runner: CliRunner, age_key: AgeKey):
    failed(
        run(runner, "decrypt", "-i", age_key.identity_file, stdin=b"hello\n"),
        ExitCode.DAMAGED,
        "triage: error: not an age file: the first line is not the version line",
        "triage: hint: is this an age file? check that it was copied completely",
    )


def test_wrong_key_names_your_fingerprint(
    runner: CliRunner, sealed: Path, make_key: Callable[[str], AgeKey]
):
    mallory = make_key("mallory")
    theirs = fingerprint(X25519Recipient.parse(mallory.recipient))
    failed(
        run(runner, "decrypt", "-i", mallory.identity_file, sealed),
        ExitCode.NO_MATCH,
        "triage: error: no identity matched any of the recipients",
        "triage: hint: is this file sealed to another key? check the fingerprint with the "
        f"sender; yours: {theirs}",
    )


def test_no_identity_for_a_key_sealed_file(runner: CliRunner, sealed: Path):
    failed(
        run(runner, "decrypt", sealed),
        ExitCode.USAGE,
        "triage: error: no identity given, and INPUT is not sealed with a passphrase",
        "triage: hint: pass -i IDENTITY, the key file the sender sealed to",
    )


def test_identity_for_a_passphrase_sealed_file(runner: CliRunner, tmp_path: Path, age_key: AgeKey):
    secret = tmp_path / "pass.txt"
    secret.write_text("hunter2 hunter2\n")
    (tmp_path / "plain").write_bytes(b"x")
    for armor in ((), ("-a",)):
        sealed = tmp_path / "p.age"
        args = ("-p", "--passphrase-file", secret, *armor, "-o", sealed, tmp_path / "plain")
        assert run(runner, "encrypt", *args).exit_code == 0
        failed(
            run(runner, "decrypt", "-i", age_key.identity_file, sealed),
            ExitCode.USAGE,
            "triage: error: INPUT is sealed with a passphrase, not to a key",
            "triage: hint: run without -i; the passphrase is asked on the terminal "
            "(or --passphrase-file)",
        )


def test_wrong_and_empty_passphrase(runner: CliRunner, tmp_path: Path):
    right, wrong, empty = tmp_path / "right", tmp_path / "wrong", tmp_path / "empty"
    right.write_text("right one\n")
    wrong.write_text("wrong one\n")
    empty.write_text("\nsecond line does not count\n")
    (tmp_path / "plain").write_bytes(b"x")
    sealed = tmp_path / "p.age"
    run(runner, "encrypt", "-p", "--passphrase-file", right, "-o", sealed, tmp_path / "plain")
    failed(
        run(runner, "decrypt", "--passphrase-file", wrong, sealed),
        ExitCode.NO_MATCH,
        "triage: error: the passphrase does not open this file",
        "triage: hint: check the passphrase and try again",
    )
    failed(
        run(runner, "decrypt", "--passphrase-file", empty, sealed),
        ExitCode.KEY,
        f"triage: error: empty passphrase from {empty}",
        "triage: hint: an empty passphrase protects nothing; give a real one",
    )


def test_no_terminal_to_ask_on(tmp_path: Path):
    # A new session has no controlling terminal, like a cron job or a pipeline in a service.
    result = run_triage("encrypt", "-p", stdin=b"x", start_new_session=True)
    assert result.stderr.decode().splitlines() == [
        "triage: error: no terminal to ask for the passphrase on",
        "triage: hint: pass --passphrase-file FILE (its first line is the passphrase)",
    ]
    assert (result.returncode, result.stdout) == (ExitCode.USAGE, b"")


def test_mismatched_confirmation(runner: CliRunner, monkeypatch: pytest.MonkeyPatch):
    typed = iter(["one thing", "another"])
    monkeypatch.setattr(_passphrase, "_require_terminal", lambda: None)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))
    failed(
        run(runner, "encrypt", "-a", "-p", stdin=b"x"),
        ExitCode.KEY,
        "triage: error: the passphrases did not match",
        "triage: hint: type the same passphrase twice",
    )
