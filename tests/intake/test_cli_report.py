"""`intake stats` and `intake doctor`: counts by day, and each finding with its fix."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from intake.cli import ExitCode
from intake.config import Config, Limits
from intake.context import Services
from intake.doctor import Severity, diagnose
from intake.models import Submission, SubmissionState, Witness
from tests.intake.conftest import CliFixture, Investigator


def _seed(services: Services) -> None:
    rows = [
        (date(2025, 3, 1), SubmissionState.STORED, 2, 100),
        (date(2025, 3, 1), SubmissionState.EXPORTED, 1, 50),
        (date(2025, 3, 2), SubmissionState.PURGED, 3, 70),
    ]
    with services.sessions() as session:
        witness = Witness(lookup=b"\x05" * 32, reply_recipient="age1r", created_on=rows[0][0])
        session.add(witness)
        for index, (day, state, files, size) in enumerate(rows):
            session.add(
                Submission(
                    id=f"S-{index}",
                    witness=witness,
                    kind="testimony",
                    received_on=day,
                    manifest_blob=f"{index}" * 32,
                    file_count=files,
                    sealed_bytes=size,
                    state=state,
                )
            )
        session.commit()


def test_stats_counts_by_day(cli: CliFixture, services: Services) -> None:
    _seed(services)
    result = cli("stats", "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["days"] == [
        {
            "day": "2025-03-01",
            "submissions": 2,
            "files": 3,
            "sealed_bytes": 150,
            "awaiting_export": 1,
            "awaiting_ack": 1,
            "purged": 0,
        },
        {
            "day": "2025-03-02",
            "submissions": 1,
            "files": 3,
            "sealed_bytes": 70,
            "awaiting_export": 0,
            "awaiting_ack": 0,
            "purged": 1,
        },
    ]
    assert stats["totals"]["submissions"] == 3
    assert stats["totals"]["sealed_bytes"] == 220
    assert stats["free_disk_bytes"] > 0
    table = cli("stats")
    assert "2025-03-02" in table.stdout
    assert "total" in table.stdout
    assert "free disk:" in table.stdout


def test_stats_of_an_empty_install(cli: CliFixture, services: Services) -> None:
    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["days"] == []
    assert stats["totals"]["submissions"] == 0


@pytest.fixture
def keyed(cli: CliFixture, keyed_services: Services) -> CliFixture:
    return cli


def _doctor(cli: CliFixture, **env: str) -> tuple[int, dict[str, dict[str, str | None]]]:
    result = cli("doctor", "--json", extra_env=env)
    findings = json.loads(result.stdout)
    return result.exit_code, {f["check"]: f for f in findings}


def findings_of(cli: CliFixture, *args: str) -> dict[str, dict[str, str | None]]:
    result = cli("doctor", "--json", *args)
    return {f["check"]: f for f in json.loads(result.stdout)}


def test_doctor_on_a_sound_install(keyed: CliFixture) -> None:
    code, findings = _doctor(keyed)
    problems = {k: v for k, v in findings.items() if v["severity"] == "problem"}
    assert code == 0, problems
    for check in ("data directory", "secret key", "blob store", "database", "schema", "keyring"):
        assert findings[check]["severity"] == "ok", check
    assert findings["bind"]["severity"] == "ok"
    assert findings["gunicorn bind"]["severity"] == "ok"
    text = keyed("doctor")
    assert text.stdout.startswith("ok ")


def test_doctor_reports_a_world_readable_data_dir(keyed: CliFixture, data_dir: Path) -> None:
    os.chmod(data_dir, 0o755)  # noqa: S103 - the misconfiguration under test
    code, findings = _doctor(keyed)
    assert code == ExitCode.PROBLEMS_FOUND
    finding = findings["data directory"]
    assert finding["severity"] == "problem"
    assert "accessible to other users (mode 0755)" in str(finding["message"])
    assert finding["fix"] == f"chmod 700 {data_dir}"
    text = keyed("doctor")
    assert f"fix: chmod 700 {data_dir}" in text.stdout
    assert "intake: error: 1 problem(s) found" in text.stderr


def test_doctor_reports_a_missing_secret_key(keyed: CliFixture, data_dir: Path) -> None:
    (data_dir / "secret_key").unlink()
    code, findings = _doctor(keyed)
    assert code == ExitCode.PROBLEMS_FOUND
    assert findings["secret key"]["severity"] == "problem"
    assert "does not exist" in str(findings["secret key"]["message"])
    assert findings["secret key"]["fix"] == f"intake init --data-dir {data_dir}"


def test_doctor_reports_a_readable_secret_key(keyed: CliFixture, data_dir: Path) -> None:
    os.chmod(data_dir / "secret_key", 0o644)
    _, findings = _doctor(keyed)
    assert findings["secret key"]["fix"] == f"chmod 600 {data_dir / 'secret_key'}"


def test_doctor_reports_an_empty_keyring(cli: CliFixture, services: Services) -> None:
    code, findings = _doctor(cli)
    assert code == ExitCode.PROBLEMS_FOUND
    assert findings["keyring"]["severity"] == "problem"
    assert "refuses every submission" in str(findings["keyring"]["message"])
    assert str(findings["keyring"]["fix"]).startswith("sudo intake keys add RECIPIENT")


def test_doctor_reports_a_non_loopback_bind(keyed: CliFixture) -> None:
    code, findings = _doctor(keyed, INTAKE_BIND="0.0.0.0:8080")
    assert code == ExitCode.PROBLEMS_FOUND
    assert findings["bind"]["severity"] == "problem"
    assert "reachable from the network" in str(findings["bind"]["message"])
    assert "INTAKE_BIND=127.0.0.1:8080" in str(findings["bind"]["fix"])


def test_doctor_reads_the_gunicorn_config(keyed: CliFixture, tmp_path: Path) -> None:
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text('bind = ["0.0.0.0:80"]\n')
    result = keyed("doctor", "--json", "--gunicorn-conf", str(conf))
    findings = {f["check"]: f for f in json.loads(result.stdout)}
    assert result.exit_code == ExitCode.PROBLEMS_FOUND
    assert findings["gunicorn bind"]["fix"] == f"bind 127.0.0.1:8080 in {conf}"
    conf.write_text("raise SystemError('broken')\n")
    result = keyed("doctor", "--json", "--gunicorn-conf", str(conf))
    findings = {f["check"]: f for f in json.loads(result.stdout)}
    assert "does not load" in findings["gunicorn config"]["message"]


def test_doctor_reports_an_unmigrated_database(cli: CliFixture, data_dir: Path) -> None:
    code, findings = _doctor(cli)
    assert code == ExitCode.PROBLEMS_FOUND
    assert findings["data directory"]["fix"] == f"intake init --data-dir {data_dir}"
    assert findings["schema"]["fix"] == "intake migrate"


def test_doctor_reports_an_unreachable_database(keyed: CliFixture) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    code, findings = _doctor(keyed, INTAKE_DATABASE_URL=url)
    assert code == ExitCode.PROBLEMS_FOUND
    assert findings["database"]["severity"] == "problem"
    assert "INTAKE_DATABASE_URL" in str(findings["database"]["fix"])


def test_doctor_free_disk_and_swap(initialized: Config, tmp_path: Path) -> None:
    swaps = tmp_path / "swaps"
    swaps.write_text(
        "Filename Type Size Used Priority\n/dev/vda2 partition 1 0 -2\n/dev/zram0 partition 1 0 5\n"
    )
    huge = initialized.replace(limits=Limits(max_request_bytes=2**62))
    findings = {f.check: f for f in diagnose(huge, swaps=swaps)}
    assert findings["free disk"].severity is Severity.PROBLEM
    assert findings["swap"].severity is Severity.WARNING
    assert "/dev/vda2" in findings["swap"].message
    assert "/dev/zram0" not in findings["swap"].message
    assert "swapoff" in (findings["swap"].fix or "")
    swaps.write_text("Filename Type Size Used Priority\n/dev/dm-1 partition 1 0 -2\n")
    findings = {f.check: f for f in diagnose(initialized, swaps=swaps)}
    assert findings["swap"].severity is Severity.OK


def test_doctor_every_problem_has_a_fix(cli: CliFixture, investigator: Investigator) -> None:
    _, findings = _doctor(cli, INTAKE_BIND="0.0.0.0:1")
    for finding in findings.values():
        if finding["severity"] != "ok":
            assert finding["fix"], finding


def _torrc(tmp_path: Path) -> tuple[Path, Path]:
    """deploy/torrc with its onion directories moved into tmp_path; returns (torrc, admin dir)."""
    text = (Path(__file__).resolve().parents[2] / "deploy" / "torrc").read_text(encoding="utf-8")
    for name in ("intake", "intake-admin-ssh"):
        (tmp_path / name).mkdir(mode=0o700)
        text = text.replace(f"/var/lib/tor/{name}/", f"{tmp_path / name}/")
    torrc = tmp_path / "torrc"
    torrc.write_text(text, encoding="utf-8")
    return torrc, tmp_path / "intake-admin-ssh"


def test_doctor_warns_when_the_admin_onion_has_no_client_authorisation(
    keyed: CliFixture, tmp_path: Path
) -> None:
    torrc, admin = _torrc(tmp_path)
    result = keyed("doctor", "--json", "--torrc", str(torrc))
    finding = {f["check"]: f for f in json.loads(result.stdout)}["admin onion"]
    assert finding["severity"] == "warning"
    assert "without client authorisation" in str(finding["message"])
    assert str(admin / "authorized_clients") in str(finding["fix"])
    assert result.exit_code == 0  # a warning, not a problem
    (admin / "authorized_clients").mkdir(mode=0o700)
    (admin / "authorized_clients" / "alice.auth.bak").write_text("descriptor:x25519:AAAA\n")
    assert findings_of(keyed, "--torrc", str(torrc))["admin onion"]["severity"] == "warning"
    (admin / "authorized_clients" / "alice.auth").write_text("descriptor:x25519:AAAA\n")
    finding = findings_of(keyed, "--torrc", str(torrc))["admin onion"]
    assert finding["severity"] == "ok"
    assert "1 authorised client" in str(finding["message"])


def test_doctor_says_when_it_cannot_see_the_admin_onion(keyed: CliFixture, tmp_path: Path) -> None:
    missing = findings_of(keyed, "--torrc", str(tmp_path / "nope"))["tor config"]
    assert missing["severity"] == "warning"
    torrc, admin = _torrc(tmp_path)
    admin.chmod(0)
    if os.access(admin, os.R_OK):  # root reads anything: make the directory unreadable another way
        admin.rmdir()
        admin.write_text("not a directory")
    finding = findings_of(keyed, "--torrc", str(torrc))["admin onion"]
    assert finding["severity"] == "warning"
    assert "cannot be read by this user" in str(finding["message"])
    assert "ls " in str(finding["fix"])


def test_doctor_without_torrc_checks_no_onion(keyed: CliFixture) -> None:
    _, findings = _doctor(keyed)
    assert "admin onion" not in findings
