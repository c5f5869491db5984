"""The keyring file: strict format, atomic edits keeping the mode, the CLI, doctor, upgrade."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select

from intake.cli import ExitCode
from intake.context import Services
from intake.keyring import KeyringFile, KeyringFileError, add_to_file, read_keyring_file
from intake.models import InvestigatorKey, KeyStatus
from tests.intake.conftest import CliFixture, Investigator

MakeInvestigator = Callable[[], Investigator]
DAY = date(2026, 3, 1)


def _doctor(cli: CliFixture, **env: str) -> dict[str, dict[str, object]]:
    result = cli("doctor", "--json", extra_env=env)
    return {f["check"]: f for f in json.loads(result.stdout)}


def test_the_file_round_trips_and_is_parsed_strictly(
    services: Services, investigator: Investigator
) -> None:
    path = services.config.keyring_file
    add_to_file(path, investigator.new_key("Anna"), today=DAY)
    ring = read_keyring_file(path)
    assert KeyringFile.parse(ring.to_json()) == ring
    [entry] = ring.keys
    assert (entry.fingerprint, entry.state, entry.added_on) == (
        investigator.fingerprint,
        KeyStatus.ACTIVE,
        DAY,
    )
    raw = json.loads(path.read_text())
    for broken, message in [
        ({**raw, "extra": 1}, '"version" and "keys"'),
        ({**raw, "version": 2}, "unsupported keyring file version"),
        ({"version": 1, "keys": [{**raw["keys"][0], "state": "boss"}]}, "not a valid"),
        ({"version": 1, "keys": [{**raw["keys"][0], "fingerprint": "SHA256:x"}]}, "fingerprint"),
        ({"version": 1, "keys": [{**raw["keys"][0], "retired_on": "2026-01-01"}]}, "active key"),
        ({"version": 1, "keys": [raw["keys"][0], raw["keys"][0]]}, "same fingerprint"),
    ]:
        with pytest.raises(KeyringFileError, match=message):
            KeyringFile.parse(json.dumps(broken).encode())
    with pytest.raises(KeyringFileError, match="repeats a name"):
        KeyringFile.parse(b'{"version": 1, "version": 1, "keys": []}')


def test_an_edit_keeps_the_mode_and_leaves_no_temporary_file(
    services: Services, make_investigator: MakeInvestigator
) -> None:
    path = services.config.keyring_file
    add_to_file(path, make_investigator().new_key("A"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    path.chmod(0o640)
    add_to_file(path, make_investigator().new_key("B"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in path.parent.iterdir()) == ["keyring.json"]


def test_keys_revoke_and_list_say_what_changed(
    cli: CliFixture, services: Services, make_investigator: MakeInvestigator
) -> None:
    first, second = make_investigator(), make_investigator()
    for who in (first, second):
        args = ("--name", "N", "--signing-key", str(who.pub_file))
        assert cli("keys", "add", str(who.recipient), *args).exit_code == 0
    result = cli("keys", "revoke", first.fingerprint)
    assert result.exit_code == 0, result.output
    assert f"revoked {first.fingerprint} (N)" in result.stdout
    assert "1 active key(s)" in result.stdout
    listed = json.loads(cli("keys", "list", "--json").stdout)
    assert {k["fingerprint"]: k["status"] for k in listed} == {
        first.fingerprint: "revoked",
        second.fingerprint: "active",
    }
    again = cli("keys", "revoke", first.fingerprint)
    assert again.exit_code == ExitCode.KEYRING
    assert "already revoked" in again.stderr


def test_doctor_checks_the_owner_and_the_mode(cli: CliFixture, keyed_services: Services) -> None:
    path = keyed_services.config.keyring_file
    assert _doctor(cli)["keyring file"]["severity"] == "ok"
    assert _doctor(cli)["keyring cache"]["severity"] == "ok"
    # A file owned by anyone but the expected owner (root in production) is a problem.
    other = 65534 if os.geteuid() != 65534 else 65533
    found = _doctor(cli, INTAKE_KEYRING_OWNER_UID=str(other))["keyring file"]
    assert found["severity"] == "problem"
    assert f"belongs to uid {os.geteuid()}, not to uid {other}" in str(found["message"])
    path.chmod(0o664)
    found = _doctor(cli)["keyring file"]
    assert found["severity"] == "problem"
    assert "writable by its group or by others" in str(found["message"])


def test_the_upgrade_exports_the_rows_once_and_doctor_waits_for_it(
    cli: CliFixture, keyed_services: Services
) -> None:
    path = keyed_services.config.keyring_file
    with keyed_services.sessions() as session:
        [row] = session.scalars(select(InvestigatorKey)).all()
        fingerprint = row.fingerprint
    path.unlink()  # a release before the file: the rows are all there is
    found = _doctor(cli)["keyring"]
    assert found["severity"] == "problem"
    assert "export-file" in str(found["fix"])
    assert not keyed_services.keyring.has_active_key()

    result = cli("keys", "export-file")
    assert result.exit_code == 0, result.output
    assert f"wrote {fingerprint}" in result.stdout
    assert _doctor(cli)["keyring"]["severity"] == "ok"
    assert keyed_services.keyring.active_fingerprints() == [fingerprint]
    again = cli("keys", "export-file")
    assert again.exit_code == ExitCode.KEYRING
    assert "export-file runs once" in again.stderr
