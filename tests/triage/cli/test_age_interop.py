"""Interop through the installed `triage` command and the real `age` / `age-keygen`, both ways."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.triage.helpers import TRIAGE, AgeKey, binary, payload, run_in_pty, run_triage
from triage.errors import ExitCode

CHUNK = 64 * 1024
SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7]
PASSPHRASE = b"interop passphrase"


def age(*args: str | Path, stdin: bytes = b"") -> bytes:
    done = subprocess.run(["age", *map(str, args)], input=stdin, capture_output=True, check=True)
    return done.stdout


def triage_ok(*args: str | Path, stdin: bytes = b"") -> bytes:
    done = run_triage(*map(str, args), stdin=stdin)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b""
    return done.stdout


@pytest.mark.parametrize("armor", [False, True], ids=["binary", "armored"])
@pytest.mark.parametrize("size", SIZES)
def test_triage_seals_age_opens(tmp_path: Path, age_key: AgeKey, size: int, armor: bool):
    (tmp_path / "plain").write_bytes(payload(size))
    sealed = tmp_path / "sealed.age"
    flags = ["-a"] if armor else []
    triage_ok("encrypt", *flags, "-r", age_key.recipient, "-o", sealed, tmp_path / "plain")
    assert age("-d", "-i", age_key.identity_file, sealed) == payload(size)


@pytest.mark.parametrize("armor", [False, True], ids=["binary", "armored"])
@pytest.mark.parametrize("size", SIZES)
def test_age_seals_triage_opens(tmp_path: Path, age_key: AgeKey, size: int, armor: bool):
    (tmp_path / "plain").write_bytes(payload(size))
    sealed = tmp_path / "sealed.age"
    flags = ["-a"] if armor else []
    age("-e", *flags, "-r", age_key.recipient, "-o", sealed, tmp_path / "plain")
    opened = tmp_path / "opened"
    triage_ok("decrypt", "-i", age_key.identity_file, "-o", opened, sealed)
    assert opened.read_bytes() == payload(size)


def test_several_recipients_and_recipients_files_both_ways(
    tmp_path: Path, make_key: Callable[[str], AgeKey]
):
    alice, bob, carol = make_key("alice"), make_key("bob"), make_key("carol")
    listed = tmp_path / "team.txt"
    listed.write_text(f"# bob\n{bob.recipient}\n# carol\n{carol.recipient}\n")
    to_all = ("-r", alice.recipient, "-R", listed)
    by_triage = triage_ok("encrypt", *to_all, stdin=b"from triage")
    by_age = age("-e", *to_all, stdin=b"from age")
    for key in (alice, bob, carol):
        assert age("-d", "-i", key.identity_file, stdin=by_triage) == b"from triage"
        assert triage_ok("decrypt", "-i", key.identity_file, stdin=by_age) == b"from age"


@pytest.mark.slow
def test_pipes_both_ways_20_mib(age_key: AgeKey):
    data = payload(20 * 1024 * 1024 + 5)
    sealed = triage_ok("encrypt", "-r", age_key.recipient, stdin=data)
    assert age("-d", "-i", age_key.identity_file, stdin=sealed) == data
    sealed = age("-e", "-a", "-r", age_key.recipient, stdin=data)
    assert triage_ok("decrypt", "-i", age_key.identity_file, "-", stdin=sealed) == data


def test_truncated_age_file_to_a_pipe_fails_after_authentic_chunks(age_key: AgeKey):
    data = payload(5 * CHUNK)
    sealed = age("-e", "-r", age_key.recipient, stdin=data)
    done = run_triage("decrypt", "-i", str(age_key.identity_file), stdin=sealed[:-20])
    assert done.returncode == ExitCode.DAMAGED
    assert done.stdout == data[: 4 * CHUNK]
    assert done.stderr.decode().startswith("triage: error: ")


def test_binary_output_to_a_real_terminal_is_refused(tmp_path: Path, age_key: AgeKey):
    (tmp_path / "plain").write_bytes(b"secret")
    argv = [str(TRIAGE), "encrypt", "-r", age_key.recipient, str(tmp_path / "plain")]
    refused = run_in_pty(argv)
    assert refused.exit_code == ExitCode.USAGE
    assert refused.transcript.replace(b"\r\n", b"\n") == (
        b"triage: error: refusing to write binary output to the terminal\n"
        b"triage: hint: write to a file with -o OUTPUT, or use -a/--armor for text\n"
    )
    armored = run_in_pty([*argv[:2], "-a", *argv[2:]])
    assert armored.exit_code == 0
    assert b"-----BEGIN AGE ENCRYPTED FILE-----" in armored.transcript


def test_passphrase_on_the_terminal_both_ways(tmp_path: Path):
    plain, by_triage, by_age = tmp_path / "plain", tmp_path / "t.age", tmp_path / "a.age"
    plain.write_bytes(b"typed on a terminal")
    answer = PASSPHRASE + b"\n"
    sealed = run_in_pty(
        [str(TRIAGE), "encrypt", "-p", "-o", str(by_triage), str(plain)],
        [(b"Enter passphrase:", answer), (b"Confirm passphrase:", answer)],
    )
    assert sealed.exit_code == 0, sealed.transcript
    assert PASSPHRASE not in sealed.transcript  # not echoed
    opened = run_in_pty(
        [binary("age"), "-d", "-o", str(tmp_path / "o1"), str(by_triage)],
        [(b"Enter passphrase:", answer)],
    )
    assert opened.exit_code == 0, opened.transcript
    assert (tmp_path / "o1").read_bytes() == plain.read_bytes()

    age_seal = [binary("age"), "-p", "-o", str(by_age), str(plain)]
    sealed = run_in_pty(age_seal, [(b"passphrase", answer), (b"Confirm passphrase:", answer)])
    assert sealed.exit_code == 0, sealed.transcript
    opened = run_in_pty(
        [str(TRIAGE), "decrypt", "-o", str(tmp_path / "o2"), str(by_age)],
        [(b"Enter passphrase:", answer)],
    )
    assert opened.exit_code == 0, opened.transcript
    assert (tmp_path / "o2").read_bytes() == plain.read_bytes()


def test_passphrase_protected_identity_file_made_by_age(tmp_path: Path, age_key: AgeKey):
    protected = tmp_path / "key.age"
    answer = PASSPHRASE + b"\n"
    made = run_in_pty(
        [binary("age"), "-p", "-a", "-o", str(protected), str(age_key.identity_file)],
        [(b"passphrase", answer), (b"Confirm passphrase:", answer)],
    )
    assert made.exit_code == 0, made.transcript
    sealed = age("-e", "-r", age_key.recipient, stdin=b"for the protected key")
    (tmp_path / "sealed.age").write_bytes(sealed)

    prompted = run_in_pty(
        [str(TRIAGE), "decrypt", "-i", str(protected), "-o", str(tmp_path / "o1")]
        + [str(tmp_path / "sealed.age")],
        [(f"Enter passphrase for identity file '{protected}':".encode(), answer)],
    )
    assert prompted.exit_code == 0, prompted.transcript
    assert (tmp_path / "o1").read_bytes() == b"for the protected key"

    # age made the file with the umask's 0644: triage opens it, and warns (as age-keygen would).
    (tmp_path / "pass").write_bytes(PASSPHRASE + b"\n")
    via_file = ("--passphrase-file", str(tmp_path / "pass"), "-i", str(protected))
    loose = run_triage("decrypt", *via_file, stdin=sealed)
    assert (loose.returncode, loose.stdout) == (0, b"for the protected key")
    assert loose.stderr.decode() == (
        f"triage: warning: {protected} is readable by other users; run 'chmod 600 {protected}'\n"
    )
    protected.chmod(0o600)
    assert triage_ok("decrypt", *via_file, stdin=sealed) == b"for the protected key"

    (tmp_path / "wrong").write_bytes(b"not it\n")
    wrong = run_triage(
        "decrypt", "--passphrase-file", str(tmp_path / "wrong"), "-i", str(protected), stdin=sealed
    )
    assert wrong.returncode == ExitCode.KEY
    assert wrong.stderr.decode().splitlines() == [
        f"triage: error: wrong passphrase for identity file {protected}",
        "triage: hint: type the passphrase that protects this identity file",
    ]
