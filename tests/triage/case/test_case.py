"""Case bundles: consent-checked, verifiable with sha256sum and minisign, tamper-evident."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest

from protocol.schema import ConsentChange
from tests.triage.factory import (
    Built,
    FileSpec,
    Witness,
    answers_for,
    build,
    export_bundle,
)
from tests.triage.workbench import Bench
from triage.errors import ExitCode

VIDEO = b"original video bytes " * 5000


@dataclass(frozen=True)
class Case:
    incident: str
    named: Built  # consents to ua-prosecutors, tells who they are
    icc_only: Built
    withdrawn: Built


@pytest.fixture
def case(bench: Bench, tmp_path: Path) -> Case:
    me, quitter = [bench.investigator.recipient], Witness()
    video = FileSpec(VIDEO, original_name="IMG_0042.MOV", declared_type="video/quicktime")
    named = build(me, answers=answers_for(D0=True, D1="Олена Петрівна", D3=True), files=[video])
    icc_only = build(
        me,
        answers=answers_for(A4=["icc-otp"]),
        files=[FileSpec(b"audio" * 100, declared_type="audio/ogg")],
    )
    withdrawn = build(me, witness=quitter)
    change = build(
        me,
        witness=quitter,
        kind="consent_change",
        parent_id=withdrawn.id,
        consent_change=ConsentChange("withdraw"),
    )
    bundle = export_bundle(tmp_path / "export", [named, icc_only, withdrawn, change])
    assert bench.run("import", str(bundle)).exit_code == 0
    incident = bench.run(
        "incident", "new", "Execution of prisoners", "--oblast", "UA-23"
    ).stdout.strip()
    assert bench.run("incident", "add", incident, named.id, icc_only.id).exit_code == 0
    # A withdrawn submission joins only by override; the export must still leave it out.
    forced = bench.run("incident", "add", incident, withdrawn.id, "--override", "test: left out")
    assert forced.exit_code == 0
    return Case(incident, named, icc_only, withdrawn)


def _tool(where: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """The real tool a recipient would run, in the bundle folder."""
    return subprocess.run(argv, cwd=where, capture_output=True, text=True, check=False)


def _export(bench: Bench, case: Case, to: Path, *extra: str, klass: str = "ua-prosecutors"):
    return bench.run(
        "case", "export", case.incident, "--to", str(to), "--recipient", "OPG Ukraine",
        "--recipient-class", klass, "--purpose", "criminal proceedings 42024000000000123", *extra,
    )  # fmt: skip


def test_case_bundle_passes_sha256sum_and_minisign(bench: Bench, case: Case, tmp_path: Path):
    to = tmp_path / "CASE-1"
    result = _export(bench, case, to)
    assert result.exit_code == 0, result.output
    assert f"{case.icc_only.id}: WITHHELD: the witness consented to icc-otp" in result.stdout
    assert f"{case.withdrawn.id}: WITHHELD: the witness withdrew consent" in result.stdout
    sums = _tool(to, "sha256sum", "-c", "manifest.sha256")
    assert sums.returncode == 0, sums.stdout + sums.stderr
    assert "FAILED" not in sums.stdout
    signed = _tool(to, "minisign", "-Vm", "manifest.sha256", "-p", "minisign.pub")
    assert signed.returncode == 0, signed.stderr
    assert f"triage case {case.incident} to OPG-Ukraine" in signed.stdout
    checkpoint = _tool(to, "minisign", "-Vm", "custody/checkpoint.txt", "-p", "minisign.pub")
    assert checkpoint.returncode == 0, checkpoint.stderr
    verified = bench.cli("case", "verify", str(to))
    assert verified.exit_code == 0
    assert "case bundle intact" in verified.stdout

    (original,) = (to / "originals").iterdir()
    assert original.read_bytes() == VIDEO
    assert original.name == hashlib.sha256(VIDEO).hexdigest() + ".mov"
    document = (to / "testimony" / f"{case.named.id}.json").read_bytes()
    assert document == case.named.submission.to_json()  # verbatim, identity included
    assert "Олена Петрівна" in (to / "testimony" / f"{case.named.id}.txt").read_text()
    assert not (to / "testimony" / f"{case.icc_only.id}.json").exists()
    record = json.loads((to / "export-record.json").read_text())
    assert record["recipient"] == {"name": "OPG Ukraine", "class": "ua-prosecutors"}
    assert {w["submission_id"] for w in record["withheld"]} == {case.icc_only.id, case.withdrawn.id}
    assert record["override"] is None
    custody = [
        json.loads(line) for line in (to / "custody" / "custody.jsonl").read_text().splitlines()
    ]
    assert {"received", "decrypted", "verified", "exported", "checkpoint"} <= {
        e["action"] for e in custody
    }
    assert "independent_sources" in json.loads((to / "incident.json").read_text())


def test_tampered_case_bundle_is_rejected(bench: Bench, case: Case, tmp_path: Path):
    to = tmp_path / "CASE-1"
    assert _export(bench, case, to).exit_code == 0
    pristine = tmp_path / "pristine"
    shutil.copytree(to, pristine)

    (original,) = (to / "originals").iterdir()
    data = bytearray(original.read_bytes())
    data[1000] ^= 1
    original.write_bytes(bytes(data))
    result = bench.cli("case", "verify", str(to))
    assert result.exit_code == ExitCode.DAMAGED
    assert f"originals/{original.name} does not match its SHA-256" in result.stderr
    assert _tool(to, "sha256sum", "--quiet", "-c", "manifest.sha256").returncode != 0

    extra = tmp_path / "extra"
    shutil.copytree(pristine, extra)
    (extra / "testimony" / "S-INSERTED.json").write_text("{}")
    assert (
        "S-INSERTED.json is not in manifest.sha256"
        in bench.cli("case", "verify", str(extra)).stderr
    )

    relisted = tmp_path / "relisted"
    shutil.copytree(pristine, relisted)
    with (relisted / "manifest.sha256").open("a") as manifest:
        manifest.write(f"{'0' * 64}  extra.txt\n")
    result = bench.cli("case", "verify", str(relisted))
    assert result.exit_code == ExitCode.SIGNATURE
    assert "signature over manifest.sha256 does not verify" in result.stderr


def test_override_is_logged_and_never_carries_identity(bench: Bench, case: Case, tmp_path: Path):
    to = tmp_path / "CASE-NGO"
    refused = _export(bench, case, to, klass="partner-ngos")
    assert refused.exit_code == ExitCode.FAILURE
    assert "no submission of this incident may go to this recipient" in refused.stderr
    result = _export(bench, case, to, "--override", "court order 12/2025", klass="partner-ngos")
    assert result.exit_code == 0, result.output
    assert f"{case.named.id}: included: included by override: court order 12/2025" in result.stdout
    assert f"{case.withdrawn.id}: WITHHELD" in result.stdout  # withdrawal beats any override
    doc = json.loads((to / "testimony" / f"{case.named.id}.json").read_text())
    assert not any(key.startswith("D") for key in doc["answers"])
    assert doc["files"][0]["original_name"] == "[withheld: identifying]"
    assert "Олена" not in (to / "testimony" / f"{case.named.id}.txt").read_text()
    record = json.loads((to / "export-record.json").read_text())
    assert record["override"]["reason"] == "court order 12/2025"
    assert {r["submission_id"] for r in record["redactions"]} == {case.named.id, case.icc_only.id}
    log = [json.loads(line) for line in (bench.root / "custody.jsonl").read_text().splitlines()]
    exported = [e for e in log if e["action"] == "exported" and e["object_type"] == "incident"]
    assert exported[-1]["details"]["override"] == "court order 12/2025"


def test_seal_to_leaves_only_the_sealed_tar(bench: Bench, case: Case, tmp_path: Path, make_key):
    prosecutor = make_key("prosecutor")
    to = tmp_path / "CASE-SEALED"
    result = _export(bench, case, to, "--seal-to", prosecutor.recipient)
    assert result.exit_code == 0, result.output
    assert not to.exists()
    sealed = tmp_path / "CASE-SEALED.tar.age"
    opened = subprocess.run(["age", "-d", "-i", str(prosecutor.identity_file), str(sealed)],
                            capture_output=True, check=True)  # fmt: skip
    with tarfile.open(fileobj=BytesIO(opened.stdout)) as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "unsealed", filter="data")
    assert "CASE-SEALED/manifest.sha256" in names
    originals = [name for name in names if name.startswith("CASE-SEALED/originals/")]
    assert originals
    assert f"({len(originals)} originals)" in result.stdout
    assert bench.cli("case", "verify", str(tmp_path / "unsealed" / "CASE-SEALED")).exit_code == 0
    assert _export(bench, case, to, "--seal-to", prosecutor.recipient).exit_code == ExitCode.IO
