"""`triage encrypt` / `triage decrypt` in-process (CliRunner): every option and error path."""

from __future__ import annotations

import base64
import getpass
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crypto.keyfile import write_identity_file
from crypto.x25519 import X25519Identity
from tests.triage.helpers import AgeKey, payload
from triage.cli import _passphrase, _streams, triage
from triage.cli._age_keys import is_passphrase_sealed
from triage.errors import ExitCode

CHUNK = 64 * 1024
ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
SCRYPT_START = b"age-encryption.org/v1\n-> scrypt "


def run(runner: CliRunner, *args: str | Path, stdin: bytes | None = None) -> Result:
    return runner.invoke(triage, [str(a) for a in args], input=stdin)


def seal(runner: CliRunner, tmp_path: Path, data: bytes, *args: str | Path) -> Path:
    """Seal `data` with `triage encrypt ARGS`, into a file; returns its path."""
    (tmp_path / "plain").write_bytes(data)
    sealed = tmp_path / "sealed.age"
    result = run(runner, "encrypt", *args, "-o", sealed, tmp_path / "plain")
    assert result.exit_code == 0, result.stderr
    return sealed


def lines(result: Result) -> list[str]:
    return result.stderr.splitlines()


# --- round trips through every option ---------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7])
def test_round_trip_through_files(runner: CliRunner, tmp_path: Path, age_key: AgeKey, size: int):
    sealed = seal(runner, tmp_path, payload(size), "-r", age_key.recipient)
    out = tmp_path / "opened"
    result = run(runner, "decrypt", "-i", age_key.identity_file, "-o", out, sealed)
    assert result.exit_code == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    assert out.read_bytes() == payload(size)


def test_stdin_to_stdout_both_ways(runner: CliRunner, age_key: AgeKey):
    sealed = run(runner, "encrypt", "-r", age_key.recipient, stdin=payload(1000))
    assert sealed.exit_code == 0, sealed.stderr
    assert sealed.stdout_bytes.startswith(b"age-encryption.org/v1\n-> X25519 ")
    opened = run(runner, "decrypt", "-i", age_key.identity_file, "-", stdin=sealed.stdout_bytes)
    assert opened.exit_code == 0, opened.stderr
    assert opened.stdout_bytes == payload(1000)


def test_armor(runner: CliRunner, tmp_path: Path, age_key: AgeKey):
    sealed = seal(runner, tmp_path, b"armored words", "-a", "-r", age_key.recipient)
    assert sealed.read_bytes().startswith(ARMOR_BEGIN + b"\n")
    opened = run(runner, "decrypt", "-i", age_key.identity_file, sealed)
    assert opened.stdout_bytes == b"armored words"


def test_several_recipients_and_a_recipients_file(
    runner: CliRunner, tmp_path: Path, make_key: Callable[[str], AgeKey]
):
    alice, bob, carol = make_key("alice"), make_key("bob"), make_key("carol")
    listed = tmp_path / "recipients.txt"
    listed.write_text(f"# the investigators\n{bob.recipient}\n\n{carol.recipient}\n")
    sealed = seal(runner, tmp_path, b"to three", "-r", alice.recipient, "-R", listed)
    for key in (alice, bob, carol):
        opened = run(runner, "decrypt", "-i", key.identity_file, sealed)
        assert opened.stdout_bytes == b"to three", key


def test_repeated_identity_files_any_one_may_match(
    runner: CliRunner, tmp_path: Path, make_key: Callable[[str], AgeKey]
):
    alice, bob = make_key("alice"), make_key("bob")
    sealed = seal(runner, tmp_path, b"for bob", "-r", bob.recipient)
    opened = run(runner, "decrypt", "-i", alice.identity_file, "-i", bob.identity_file, sealed)
    assert opened.stdout_bytes == b"for bob"


def test_passphrase_from_file_both_ways(runner: CliRunner, tmp_path: Path):
    secret = tmp_path / "pass.txt"
    secret.write_bytes(b"correct horse battery staple\r\nignored second line\n")
    sealed = seal(runner, tmp_path, b"by passphrase", "-p", "--passphrase-file", secret)
    assert b"\n-> scrypt " in sealed.read_bytes()
    opened = run(runner, "decrypt", "--passphrase-file", secret, sealed)
    assert opened.exit_code == 0, opened.stderr
    assert opened.stdout_bytes == b"by passphrase"


def test_passphrase_asked_twice_on_the_terminal(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    asked: list[str] = []

    def answer(prompt: str = "") -> str:
        asked.append(prompt)
        return "typed secret"

    monkeypatch.setattr(_passphrase, "_require_terminal", lambda: None)
    monkeypatch.setattr(getpass, "getpass", answer)
    sealed = seal(runner, tmp_path, b"typed", "-a", "-p")
    assert asked == ["Enter passphrase: ", "Confirm passphrase: "]
    opened = run(runner, "decrypt", sealed)
    assert opened.stdout_bytes == b"typed"
    assert asked[2:] == ["Enter passphrase: "]


def test_existing_output_is_replaced_as_age_does(
    runner: CliRunner, tmp_path: Path, age_key: AgeKey
):
    sealed = seal(runner, tmp_path, b"new", "-r", age_key.recipient)
    out = tmp_path / "out"
    out.write_bytes(b"old contents")
    assert run(runner, "decrypt", "-i", age_key.identity_file, "-o", out, sealed).exit_code == 0
    assert out.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_output_through_a_symlink_replaces_the_file_it_points_to(
    runner: CliRunner, tmp_path: Path, age_key: AgeKey
):
    sealed = seal(runner, tmp_path, b"via link", "-r", age_key.recipient)
    (tmp_path / "real").write_bytes(b"old")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    run(runner, "decrypt", "-i", age_key.identity_file, "-o", tmp_path / "link", sealed)
    assert (tmp_path / "link").is_symlink()
    assert (tmp_path / "real").read_bytes() == b"via link"


def test_output_to_a_fifo_is_written_in_place(runner: CliRunner, tmp_path: Path, age_key: AgeKey):
    # A FIFO stands for /dev/stdout and other devices: a rename would replace the node itself.
    sealed = seal(runner, tmp_path, payload(3 * CHUNK), "-r", age_key.recipient)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = run(runner, "decrypt", "-i", age_key.identity_file, "-o", fifo, sealed)
    reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert received == [payload(3 * CHUNK)]
    assert fifo.is_fifo()


def test_help_documents_the_failure_semantics(runner: CliRunner):
    decrypt_help = " ".join(run(runner, "decrypt", "--help").stdout.split())
    assert "streamed as each 64 KiB chunk authenticates" in decrypt_help
    assert "exits non-zero" in decrypt_help
    assert "nothing is left at OUTPUT" in decrypt_help
    assert "replacing an existing file, as age does" in decrypt_help
    encrypt_help = " ".join(run(runner, "encrypt", "--help").stdout.split())
    assert "Binary output is refused when it would go to a terminal" in encrypt_help


# --- refusing binary output to a terminal -----------------------------------------------


def test_encrypt_refuses_binary_output_to_a_terminal(
    runner: CliRunner, age_key: AgeKey, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(_streams, "is_terminal", lambda stream: True)
    result = run(runner, "encrypt", "-r", age_key.recipient, stdin=b"x")
    assert result.exit_code == 2
    assert result.stdout_bytes == b""
    assert lines(result) == [
        "triage: error: refusing to write binary output to the terminal",
        "triage: hint: write to a file with -o OUTPUT, or use -a/--armor for text",
    ]
    armored = run(runner, "encrypt", "-a", "-r", age_key.recipient, stdin=b"x")
    assert armored.exit_code == 0
    assert armored.stdout_bytes.startswith(ARMOR_BEGIN)


def test_decrypt_refuses_control_characters_to_a_terminal(
    runner: CliRunner, tmp_path: Path, age_key: AgeKey, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(_streams, "is_terminal", lambda stream: True)
    text = seal(runner, tmp_path, "Київ, 24 лютого\ttabs\r\n".encode(), "-r", age_key.recipient)
    assert run(runner, "decrypt", "-i", age_key.identity_file, text).exit_code == 0
    for hostile in (b"plain \x1b]0;title\x07", b"nul\x00byte", "c1 \u009b31m".encode()):
        sealed = seal(runner, tmp_path, hostile, "-r", age_key.recipient)
        result = run(runner, "decrypt", "-i", age_key.identity_file, sealed)
        assert result.exit_code == 2, hostile
        assert result.stdout_bytes == b""
        assert lines(result) == [
            "triage: error: refusing to write binary output to the terminal",
            "triage: hint: write to a file with -o OUTPUT",
        ]


def test_passphrase_protected_identity_file(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    identity = X25519Identity.generate()
    protected = tmp_path / "key.age"
    write_identity_file(protected, identity, passphrase=b"key passphrase", log_n=10)
    sealed = seal(runner, tmp_path, b"for the key", "-r", str(identity.recipient()))
    (tmp_path / "pass").write_text("key passphrase\n")
    via_file = run(
        runner, "decrypt", "-i", protected, "--passphrase-file", tmp_path / "pass", sealed
    )
    assert (via_file.exit_code, via_file.stdout_bytes) == (0, b"for the key")

    asked: list[str] = []

    def wrong_passphrase(prompt: str = "") -> str:
        asked.append(prompt)
        return "nope"

    monkeypatch.setattr(_passphrase, "_require_terminal", lambda: None)
    monkeypatch.setattr(getpass, "getpass", wrong_passphrase)
    wrong = run(runner, "decrypt", "-i", protected, sealed)
    assert asked == [f"Enter passphrase for identity file '{protected}': "]
    assert wrong.exit_code == ExitCode.KEY
    assert wrong.stderr.splitlines() == [
        f"triage: error: wrong passphrase for identity file {protected}",
        "triage: hint: type the passphrase that protects this identity file",
    ]


@pytest.mark.parametrize(
    ("head", "sealed_with_passphrase"),
    [
        (b"age-encryption.org/v1\n-> scrypt c2FsdA 18\n", True),
        (b"age-encryption.org/v1\n-> X25519 abc\n", False),
        (
            b"\n " + ARMOR_BEGIN + b"\n" + base64.b64encode(b"age-encryption.org/v1\n-> scrypt x"),
            True,
        ),
        (ARMOR_BEGIN + b"\n" + base64.b64encode(b"age-encryption.org/v1\n-> X25519 xyz"), False),
        (ARMOR_BEGIN + b"\n!!!!not base64", False),
        (ARMOR_BEGIN, False),
        (b"", False),
    ],
)
def test_passphrase_sealed_files_are_recognised(head: bytes, sealed_with_passphrase: bool):
    assert is_passphrase_sealed(head) is sealed_with_passphrase
