"""Damaged, truncated and tampered files: only authenticated plaintext out, nothing left at -o."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.triage.helpers import AgeKey, payload
from triage.cli import triage
from triage.errors import ExitCode

CHUNK = 64 * 1024
SEALED_CHUNK = CHUNK + 16
PAYLOAD_HINT = "triage: hint: the file is truncated or was changed after sealing; get a fresh copy"
PLAIN = payload(4 * CHUNK + 100)


def run(runner: CliRunner, *args: str | Path) -> Result:
    return runner.invoke(triage, [str(a) for a in args])


@pytest.fixture
def sealed(runner: CliRunner, tmp_path: Path, age_key: AgeKey) -> bytes:
    (tmp_path / "plain").write_bytes(PLAIN)
    path = tmp_path / "sealed.age"
    result = run(runner, "encrypt", "-r", age_key.recipient, "-o", path, tmp_path / "plain")
    assert result.exit_code == 0, result.stderr
    return path.read_bytes()


def payload_start(sealed: bytes) -> int:
    """Where the first STREAM chunk starts: after the MAC line and the 16-byte nonce."""
    return sealed.index(b"\n", sealed.index(b"\n--- ") + 1) + 1 + 16


def damaged(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "damaged.age"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("cut", "authentic_chunks", "error"),
    [
        ((3, 10), 3, "truncated chunk"),  # inside the fourth chunk's tag
        ((3, 3000), 3, "chunk 3 is not authentic"),  # the fourth chunk, cut short
        ((4, 0), 4, "the payload ends before its final chunk"),  # the final chunk is missing
        ((1, 0), 1, "the payload ends before its final chunk"),
    ],
)
def test_truncated_to_stdout_emits_only_authenticated_chunks(
    *,
    runner: CliRunner,
    tmp_path: Path,
    age_key: AgeKey,
    sealed: bytes,
    cut: tuple[int, int],
    authentic_chunks: int,
    error: str,
):
    end = payload_start(sealed) + cut[0] * SEALED_CHUNK + cut[1]
    result = run(runner, "decrypt", "-i", age_key.identity_file, damaged(tmp_path, sealed[:end]))
    assert result.exit_code == ExitCode.DAMAGED
    assert result.stdout_bytes == PLAIN[: authentic_chunks * CHUNK]
    assert result.stderr.splitlines() == [f"triage: error: {error}", PAYLOAD_HINT]


def test_flipped_payload_byte_stops_at_that_chunk(
    runner: CliRunner, tmp_path: Path, age_key: AgeKey, sealed: bytes
):
    at = payload_start(sealed) + 2 * SEALED_CHUNK + 500
    flipped = sealed[:at] + bytes([sealed[at] ^ 1]) + sealed[at + 1 :]
    result = run(runner, "decrypt", "-i", age_key.identity_file, damaged(tmp_path, flipped))
    assert result.exit_code == ExitCode.DAMAGED
    assert result.stdout_bytes == PLAIN[: 2 * CHUNK]


def test_failure_leaves_nothing_at_the_output(
    runner: CliRunner, tmp_path: Path, age_key: AgeKey, sealed: bytes
):
    truncated = damaged(tmp_path, sealed[: payload_start(sealed) + 3 * SEALED_CHUNK + 1])
    target = tmp_path / "out" / "opened.bin"
    target.parent.mkdir()
    result = run(runner, "decrypt", "-i", age_key.identity_file, "-o", target, truncated)
    assert result.exit_code == ExitCode.DAMAGED
    assert result.stdout_bytes == b""
    assert list(target.parent.iterdir()) == []
    # An existing file at the target is left exactly as it was.
    target.write_bytes(b"keep me")
    result = run(runner, "decrypt", "-i", age_key.identity_file, "-o", target, truncated)
    assert result.exit_code == ExitCode.DAMAGED
    assert [p.name for p in target.parent.iterdir()] == ["opened.bin"]
    assert target.read_bytes() == b"keep me"


def test_tampered_header_fails_the_mac(
    runner: CliRunner, tmp_path: Path, age_key: AgeKey, sealed: bytes
):
    # One character of the MAC line changed: the file key still unwraps, the MAC fails.
    mac_at = sealed.index(b"\n--- ") + 5
    forged = sealed[:mac_at] + (b"B" if sealed[mac_at : mac_at + 1] == b"A" else b"A")
    forged += sealed[mac_at + 1 :]
    result = run(runner, "decrypt", "-i", age_key.identity_file, damaged(tmp_path, forged))
    assert result.exit_code == ExitCode.DAMAGED
    assert result.stderr.splitlines() == [
        "triage: error: header MAC does not verify: the header was altered",
        "triage: hint: the header was changed after sealing or is damaged; "
        "get a fresh copy of the file",
    ]
    assert result.stdout_bytes == b""


def test_verbose_shows_the_traceback(
    runner: CliRunner, tmp_path: Path, age_key: AgeKey, sealed: bytes
):
    truncated = damaged(tmp_path, sealed[:-1])
    result = run(
        runner, "-v", "decrypt", "-i", age_key.identity_file, "-o", tmp_path / "x", truncated
    )
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "crypto.errors.PayloadError: chunk 4 is not authentic" in result.stderr
    assert result.stderr.endswith(f"triage: error: chunk 4 is not authentic\n{PAYLOAD_HINT}\n")
