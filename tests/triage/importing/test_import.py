"""triage import: verified first, idempotent, signed ack of exactly what was verified here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from crypto.minisign import VerifyKey
from protocol.bundle import ItemSource, open_bundle, write_bundle
from protocol.schema import ConsentChange
from tests.triage.factory import Built, FileSpec, Witness, answers_for, build, export_bundle
from tests.triage.workbench import Bench, Investigator
from triage.errors import ExitCode
from triage.workspace.models import Attachment, Submission


def _ack(bench: Bench, output: str) -> dict[str, Any]:
    path = Path(output.split("ack: ")[1].split(" in ", 1)[1].strip())
    pub = bench.investigator.identity.with_name(bench.investigator.identity.name + ".minisign.pub")
    vk = VerifyKey.parse(pub.read_text())
    with open_bundle(path, expect_kind="ack", verify_keys=[vk]) as reader:
        assert reader.signer == vk
        return dict(reader.manifest.meta)


def _count(bench: Bench, model: type) -> int:
    engine = create_engine(f"sqlite:///{bench.root / 'triage.sqlite'}")
    with Session(engine) as session:
        found = session.scalar(select(func.count()).select_from(model)) or 0
    engine.dispose()
    return found


def test_import_twice_is_idempotent_and_acks_both_times(bench: Bench, tmp_path: Path):
    me = [bench.investigator.recipient]
    subs = [build(me, files=[FileSpec(bytes([n]) * 3000)]) for n in range(3)]
    bundle = export_bundle(tmp_path / "export.bundle", subs)
    first = bench.run("import", str(bundle))
    assert first.exit_code == 0, first.output
    assert "imported: 3 new, 0 already in the workspace" in first.stdout
    second = bench.run("import", str(bundle))
    assert second.exit_code == 0, second.output
    assert "imported: 0 new, 3 already in the workspace" in second.stdout
    assert (_count(bench, Submission), _count(bench, Attachment)) == (3, 3)
    for output in (first.stdout, second.stdout):
        meta = _ack(bench, output)
        assert meta["acknowledged_by"] == bench.investigator.fingerprint
        acked = {entry["submission_id"]: entry["items"] for entry in meta["submissions"]}
        assert set(acked) == {s.id for s in subs}
        for built in subs:
            names = {item["name"]: item["sha256"] for item in acked[built.id]}
            (blob,) = built.submission.files
            assert names[f"blobs/{blob.blob_name}"] == blob.sealed_sha256
            assert f"submissions/{built.id}.json.age" in names
    # Attachments stay sealed in the workspace.
    stored = list((bench.root / "blobs").rglob("*"))
    assert all(b"v" * 100 not in p.read_bytes() for p in stored if p.is_file())


def test_bundle_for_another_investigator_opens_nothing(
    bench: Bench, make_investigator, tmp_path: Path
):
    other: Investigator = make_investigator("taras")
    bundle = export_bundle(tmp_path / "b", [build([other.recipient], files=[FileSpec(b"x")])])
    result = bench.run("import", str(bundle))
    assert result.exit_code == ExitCode.NO_MATCH
    assert "triage: error: nothing here opens with your identity" in result.stderr
    assert bench.investigator.fingerprint in result.stderr
    assert _count(bench, Submission) == 0


def test_only_what_opens_here_is_imported_and_acked(
    bench: Bench, make_investigator, tmp_path: Path
):
    other: Investigator = make_investigator("taras")
    mine = build([bench.investigator.recipient])
    theirs = build([other.recipient])
    result = bench.run("import", str(export_bundle(tmp_path / "b", [mine, theirs])))
    assert result.exit_code == 0
    assert "not for your key: 1" in result.stdout
    meta = _ack(bench, result.stdout)
    assert [entry["submission_id"] for entry in meta["submissions"]] == [mine.id]


def test_a_damaged_bundle_imports_nothing(bench: Bench, tmp_path: Path):
    bundle = export_bundle(
        tmp_path / "b", [build([bench.investigator.recipient], files=[FileSpec(b"z" * 5000)])]
    )
    data = bytearray(bundle.read_bytes())
    data[data.index(b"z" * 0 + b"age-encryption.org/v1") + 200] ^= 1  # inside the first item
    bundle.write_bytes(bytes(data))
    result = bench.run("import", str(bundle))
    assert result.exit_code == ExitCode.DAMAGED
    assert "triage: error: integrity:" in result.stderr
    assert _count(bench, Submission) == 0


def test_tampered_sealed_blob_is_not_verified_nor_acked(bench: Bench, tmp_path: Path):
    me = [bench.investigator.recipient]
    good, bad = build(me, files=[FileSpec(b"a" * 70000)]), build(me, files=[FileSpec(b"b" * 70000)])
    ((name, sealed),) = bad.blobs.items()
    tampered = bytearray(sealed)
    tampered[-100] ^= 0xFF  # in the payload: the header still opens, a chunk fails
    bundle = export_bundle(tmp_path / "b", [good, bad], replace_blobs={name: bytes(tampered)})
    result = bench.run("import", str(bundle))
    assert result.exit_code == 0, result.output
    assert f"NOT VERIFIED {bad.id}: {name}: damaged" in result.stdout
    assert [e["submission_id"] for e in _ack(bench, result.stdout)["submissions"]] == [good.id]
    shown = bench.run("show", bad.id)
    assert "damaged" in shown.stdout
    assert "payload" in shown.stdout
    assert (
        bench.run("extract", bad.id, "--to", str(tmp_path / "out")).stdout.count("not extracted")
        == 1
    )


def test_attachment_whose_hash_does_not_match(bench: Bench, tmp_path: Path):
    liar = build(
        [bench.investigator.recipient], files=[FileSpec(b"c" * 100, claimed_sha256="0" * 64)]
    )
    result = bench.run("import", str(export_bundle(tmp_path / "b", [liar])))
    assert result.exit_code == 0
    assert f"NOT VERIFIED {liar.id}" in result.stdout
    assert "mismatch" in result.stdout
    assert "ack: none written (nothing was verified)" in result.stdout


def test_a_browser_computed_hash_that_does_not_match_is_flagged(bench: Bench, tmp_path: Path):
    liar = build(
        [bench.investigator.recipient],
        files=[FileSpec(b"c" * 100, claimed_sha256="0" * 64, hash_by="browser")],
    )
    result = bench.run("import", str(export_bundle(tmp_path / "b", [liar])))
    assert result.exit_code == 0
    assert f"NOT VERIFIED {liar.id}" in result.stdout
    shown = bench.run("show", liar.id).stdout + result.stdout
    assert "mismatch" in shown
    assert "the witness's browser computed" in " ".join(shown.split())


def test_withdrawal_marks_the_witness_submissions_withdrawn(bench: Bench, tmp_path: Path):
    me, witness = [bench.investigator.recipient], Witness()
    first = build(me, witness=witness)
    other = build(me)  # another witness: untouched
    withdraw = build(
        me,
        witness=witness,
        kind="consent_change",
        parent_id=first.id,
        consent_change=ConsentChange("withdraw"),
    )
    assert bench.run("import", str(export_bundle(tmp_path / "a", [first, other]))).exit_code == 0
    result = bench.run("import", str(export_bundle(tmp_path / "b", [withdraw])))
    assert result.exit_code == 0
    assert f"consent withdrawn: {first.id}" in result.stdout
    assert bench.run("list", "--status", "withdrawn", "--json").stdout.count('"id"') == 1
    assert bench.run("status", first.id, "triaged").exit_code == ExitCode.FAILURE
    assert "its status stays withdrawn" in bench.run("status", first.id, "triaged").stderr


def test_narrowed_consent(bench: Bench, tmp_path: Path):
    me, witness = [bench.investigator.recipient], Witness()
    first = build(
        me, witness=witness, answers=answers_for(A4=["investigators", "icc-otp", "ua-prosecutors"])
    )
    narrow = build(
        me,
        witness=witness,
        kind="consent_change",
        parent_id=first.id,
        consent_change=ConsentChange("narrow", ("icc-otp",)),
    )
    result = bench.run("import", str(export_bundle(tmp_path / "a", [first, narrow])))
    assert f"consent narrowed: {first.id}" in result.stdout
    assert "consent now: icc-otp" in bench.run("show", first.id).stdout


def test_hostile_file_name_and_terminal_escapes_are_neutralised(bench: Bench, tmp_path: Path):
    hostile = "\x1b]0;pwned\x07\x1b[2J[bold red]FAKE[/] \u202eevil"
    answers = answers_for(
        B1=f"Witness text {hostile}\x9b31m end", B8_unit="[link=file:///etc]x[/link]"
    )
    sent = FileSpec(b"d" * 10, original_name="../../.bashrc\x1b[31m", declared_type="text/plain")
    built = build([bench.investigator.recipient], answers=answers, files=[sent])
    assert bench.run("import", str(export_bundle(tmp_path / "b", [built]))).exit_code == 0
    shown = bench.run("show", built.id).stdout
    assert "\x1b" not in shown
    assert "\x9b" not in shown
    assert "\x07" not in shown
    assert "\u202e" not in shown
    assert "[bold red]FAKE[/]" in shown  # markup shown as text, not obeyed
    assert "[link=file:///etc]x[/link]" in shown
    out = tmp_path / "out"
    extracted = bench.run("extract", built.id, "--to", str(out))
    assert extracted.exit_code == 0
    (written,) = list(out.iterdir())
    assert written.name == f"{built.id}-01-{built.submission.files[0].blob_name[:8]}.txt"
    assert written.read_bytes() == b"d" * 10
    assert not (tmp_path / ".bashrc").exists()


def _crafted(path: Path, built: list[Built], edit: Callable[[list[dict[str, Any]]], None]) -> Path:
    """An export of `built` whose meta `edit` changed after it was written as the server does."""
    export_bundle(path.with_suffix(".orig"), built)
    with open_bundle(path.with_suffix(".orig"), expect_kind="export") as reader:
        items = [ItemSource.from_bytes(i.entry.name, i.read_all(1 << 24)) for i in reader.items()]
        meta = json.loads(json.dumps(dict(reader.manifest.meta)))
    edit(meta["submissions"])
    write_bundle(path, "export", items, meta=meta)
    return path


def _one_blob_twice(subs: list[dict[str, Any]]) -> None:
    subs[1]["files"] = [dict(subs[0]["files"][0])]


def _one_submission_twice(subs: list[dict[str, Any]]) -> None:
    subs.append(dict(subs[0]))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_one_blob_twice, "is listed by S-"),
        (_one_submission_twice, "a submission is listed twice"),
    ],
)
def test_a_crafted_export_is_refused_whole_and_leaves_nothing(
    bench: Bench, tmp_path: Path, edit: Callable[[list[dict[str, Any]]], None], message: str
) -> None:
    """Red-team finding: these aborted the import with a raw ENOENT and left sealed orphans."""
    me = [bench.investigator.recipient]
    built = [build(me, files=[FileSpec(b"video" * 100)]), build(me, files=[FileSpec(b"x")])]
    before = sorted(p.relative_to(bench.root) for p in bench.root.rglob("*") if p.is_file())
    result = bench.run("import", str(_crafted(tmp_path / "export", built, edit)))
    assert result.exit_code != 0
    assert "triage: error: schema: bundle meta: " in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert "ENOENT" not in result.output
    assert _count(bench, Submission) == 0
    after = sorted(p.relative_to(bench.root) for p in bench.root.rglob("*") if p.is_file())
    new = [p for p in after if p not in before and p.name not in {"custody.log", "lock"}]
    assert not [p for p in new if "blob" in str(p) or "staging" in str(p) or "tmp" in str(p)]


def test_a_narrow_after_a_withdrawal_leaves_it_withdrawn(bench: Bench, tmp_path: Path):
    """The rule the witness's account page shows too (protocol.consent)."""
    me, witness = [bench.investigator.recipient], Witness()
    first = build(me, witness=witness)
    changes = [
        build(
            me,
            witness=witness,
            kind="consent_change",
            parent_id=first.id,
            consent_change=change,
        )
        for change in (
            ConsentChange("withdraw"),
            ConsentChange("narrow", ("publication-anonymised",)),
        )
    ]
    assert bench.run("import", str(export_bundle(tmp_path / "a", [first, *changes]))).exit_code == 0
    assert bench.run("list", "--status", "withdrawn", "--json").stdout.count('"id"') == 1


def test_a_narrow_to_a_class_never_given_leaves_only_the_investigators(
    bench: Bench, tmp_path: Path
):
    me, witness = [bench.investigator.recipient], Witness()
    first = build(me, witness=witness, answers=answers_for(A4=["investigators", "icc-otp"]))
    narrow = build(
        me,
        witness=witness,
        kind="consent_change",
        parent_id=first.id,
        consent_change=ConsentChange("narrow", ("publication-anonymised",)),
    )
    assert bench.run("import", str(export_bundle(tmp_path / "a", [first, narrow]))).exit_code == 0
    assert "consent now: investigators" in bench.run("show", first.id).stdout
