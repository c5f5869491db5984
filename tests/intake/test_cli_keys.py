"""`intake keys …` through Click's runner on both databases: success and every refusal."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from crypto.minisign import SigningKey
from intake.cli import ExitCode
from tests.intake.conftest import CliFixture, Investigator

MakeInvestigator = Callable[[], Investigator]


@pytest.fixture
def ready(cli: CliFixture) -> CliFixture:
    assert cli("init").exit_code == 0
    return cli


def _add(cli: CliFixture, who: Investigator, name: str = "Anna") -> None:
    result = cli(
        "keys", "add", str(who.recipient), "--name", name, "--signing-key", str(who.pub_file)
    )
    assert result.exit_code == 0, result.output
    assert f"added {who.fingerprint} ({name})" in result.stdout


def _listed(cli: CliFixture) -> list[dict[str, object]]:
    result = cli("keys", "list", "--json")
    assert result.exit_code == 0, result.output
    listed: list[dict[str, object]] = json.loads(result.stdout)
    return listed


def test_add_and_list(ready: CliFixture, investigator: Investigator) -> None:
    _add(ready, investigator)
    [key] = _listed(ready)
    assert key["fingerprint"] == investigator.fingerprint
    assert key["recipient"] == str(investigator.recipient)
    assert key["status"] == "active"
    assert key["retired_on"] is None
    assert key["sealed_blobs"] == 0
    table = ready("keys", "list")
    assert investigator.fingerprint in table.stdout
    assert "Anna" in table.stdout


def test_list_of_an_empty_keyring_says_so(ready: CliFixture) -> None:
    assert "no keys" in ready("keys", "list").stdout
    assert _listed(ready) == []


def test_duplicate_key_is_refused(ready: CliFixture, investigator: Investigator) -> None:
    _add(ready, investigator)
    result = ready(
        "keys", "add", str(investigator.recipient), "--name", "B", "--signing-key",
        str(investigator.pub_file),
    )  # fmt: skip
    assert result.exit_code == ExitCode.KEYRING
    assert "intake: error: the key SHA256:" in result.stderr
    assert "already in the keyring" in result.stderr
    assert "intake: hint:" in result.stderr
    assert len(_listed(ready)) == 1


def test_malformed_recipient_is_refused(ready: CliFixture, investigator: Investigator) -> None:
    result = ready(
        "keys", "add", "age1bogus", "--name", "A", "--signing-key", str(investigator.pub_file)
    )
    assert result.exit_code == ExitCode.KEYRING
    assert "intake: error: the recipient does not parse" in result.stderr
    assert "intake: hint: an investigator recipient starts with age1" in result.stderr
    assert _listed(ready) == []


def test_a_secret_key_is_refused_with_advice(ready: CliFixture, investigator: Investigator) -> None:
    secret = str(investigator.identity)
    result = ready(
        "keys", "add", secret, "--name", "A", "--signing-key", str(investigator.pub_file)
    )
    assert result.exit_code == ExitCode.KEYRING
    assert "secret key, not a recipient" in result.stderr
    assert secret not in result.output


def test_malformed_signing_key_files(
    ready: CliFixture, investigator: Investigator, tmp_path: Path
) -> None:
    cases = {
        "garbage.pub": b"hello\nworld\n",
        "binary.pub": b"\xff\xfe\x00",
        "huge.pub": b"x" * 10_000,
        "secret.key": SigningKey.generate().to_file_text(None).encode(),
    }
    for filename, content in cases.items():
        path = tmp_path / filename
        path.write_bytes(content)
        result = ready(
            "keys", "add", str(investigator.recipient), "--name", "A", "--signing-key", str(path)
        )
        assert result.exit_code == ExitCode.KEYRING, filename
        assert result.stderr.startswith("intake: error: "), filename
    missing = ready(
        "keys", "add", str(investigator.recipient), "--name", "A", "--signing-key", "/nope"
    )
    assert missing.exit_code == ExitCode.USAGE
    assert _listed(ready) == []


def test_retire_last_active_key_needs_force(ready: CliFixture, investigator: Investigator) -> None:
    _add(ready, investigator)
    refused = ready("keys", "retire", investigator.fingerprint)
    assert refused.exit_code == ExitCode.KEYRING
    assert "last active key" in refused.stderr
    assert "--force" in refused.stderr
    assert _listed(ready)[0]["status"] == "active"

    forced = ready("keys", "retire", investigator.fingerprint, "--force")
    assert forced.exit_code == 0
    assert f"retired {investigator.fingerprint}" in forced.stdout
    assert "refuses submissions" in forced.stderr
    [key] = _listed(ready)
    assert key["status"] == "retired"
    assert key["retired_on"] == key["added_on"]


def test_retire_unknown_fingerprint(ready: CliFixture) -> None:
    result = ready("keys", "retire", "SHA256:doesnotexist")
    assert result.exit_code == ExitCode.KEYRING
    assert "intake: error: no key with fingerprint SHA256:doesnotexist" in result.stderr
    assert "intake keys list" in result.stderr


def test_rotate(ready: CliFixture, make_investigator: MakeInvestigator) -> None:
    old, new = make_investigator(), make_investigator()
    _add(ready, old, "Old")
    result = ready(
        "keys", "rotate", old.fingerprint, str(new.recipient), "--name", "New",
        "--signing-key", str(new.pub_file),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"retired {old.fingerprint} (Old)" in result.stdout
    assert f"added {new.fingerprint} (New)" in result.stdout
    statuses = {k["fingerprint"]: k["status"] for k in _listed(ready)}
    assert statuses == {old.fingerprint: "retired", new.fingerprint: "active"}


def test_rotate_unknown_old_key_changes_nothing(
    ready: CliFixture, make_investigator: MakeInvestigator
) -> None:
    old, new = make_investigator(), make_investigator()
    _add(ready, old, "Old")
    result = ready(
        "keys", "rotate", "SHA256:unknown", str(new.recipient), "--name", "New",
        "--signing-key", str(new.pub_file),
    )  # fmt: skip
    assert result.exit_code == ExitCode.KEYRING
    assert [k["fingerprint"] for k in _listed(ready)] == [old.fingerprint]


def test_keys_on_an_uninitialised_database(cli: CliFixture, investigator: Investigator) -> None:
    result = cli("keys", "list")
    assert result.exit_code == ExitCode.DATABASE
    assert "intake: error: the database schema is at nothing" in result.stderr
    assert "intake init" in result.stderr
