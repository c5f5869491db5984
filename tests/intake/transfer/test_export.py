"""`intake export`: what the bundle holds, that nothing in it is plaintext, what it marks."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from intake.cli import ExitCode
from intake.models import ExportedBlob, Submission, SubmissionState
from protocol.bundle import verify_bundle
from protocol.schema import Submission as SubmissionDoc
from tests.intake.transfer.conftest import Stock

AGE_MAGIC = b"age-encryption.org/v1\n"


def _states(stock: Stock) -> dict[str, SubmissionState]:
    with stock.services.sessions() as session:
        return {row.id: row.state for row in session.scalars(select(Submission))}


def test_export_carries_every_submission_sealed_and_marks_it(stock: Stock, tmp_path: Path) -> None:
    result, export = stock.export(tmp_path / "export.bundle")

    assert "exported 3 submission(s) with 3 file(s)" in result.output
    sids = [s["submission_id"] for s in export.submissions]
    assert sorted(sids) == sorted(sent.submission_id for sent in stock.all)
    # Every item is an age file, and no plaintext of any file or answer is in the bundle.
    assert all(data.startswith(AGE_MAGIC) for data in export.items.values())
    raw = (tmp_path / "export.bundle").read_bytes()
    for secret in (b"photo one", b"video two", b"the shelling started", b"later"):
        assert secret not in raw
    # The meta describes each submission exactly as docs/bundles.md says.
    follow = export.submission(stock.follow_up.submission_id)
    assert follow["parent_id"] == stock.first.submission_id
    assert follow["kind"] == "follow_up"
    reply_key = str(stock.first.keys.identity.recipient())
    assert follow["witness_reply_recipient"] == reply_key
    assert [f["blob_name"] for f in follow["files"]] == list(stock.follow_up.files)
    assert set(_states(stock).values()) == {SubmissionState.EXPORTED}


def test_the_investigator_opens_what_was_exported(stock: Stock, tmp_path: Path) -> None:
    _result, export = stock.export(tmp_path / "export.bundle")
    identity = [stock.investigator.identity]
    sid = stock.first.submission_id
    doc = SubmissionDoc.from_json(export.open(f"submissions/{sid}.json.age", identity))
    assert doc.submission_id == sid
    assert doc.answers.text("B1") == "the shelling started at dawn"
    for entry in doc.files:
        assert (
            export.open(f"blobs/{entry.blob_name}", identity) == stock.first.files[entry.blob_name]
        )
    # The hashes in the meta are the manifest's and the database's.
    meta = export.submission(sid)
    entries = {e.name: e.sha256 for e in export.manifest.items}
    assert meta["manifest_sha256"] == entries[f"submissions/{sid}.json.age"]
    with stock.services.sessions() as session:
        query = select(ExportedBlob.blob_name, ExportedBlob.sealed_sha256)
        recorded = {name: sha for name, sha in session.execute(query)}
    assert recorded[meta["manifest_blob"]] == meta["manifest_sha256"]
    assert len(recorded) == 6  # three submission.json blobs and three files


def test_not_exported_is_the_default_and_all_exports_again(stock: Stock, tmp_path: Path) -> None:
    stock.export(tmp_path / "first.bundle")
    again = stock.cli("export", "--out", str(tmp_path / "second.bundle"))
    assert again.exit_code == 0
    assert "nothing to export (try --all)" in again.output
    assert not (tmp_path / "second.bundle").exists()
    _result, export = stock.export(tmp_path / "third.bundle", "--all")
    assert len(export.submissions) == 3


def test_max_size_splits_the_bundle_into_parts(stock: Stock, tmp_path: Path) -> None:
    result = stock.cli("export", "--out", str(tmp_path / "x.bundle"), "--max-size", "10240")
    assert result.exit_code == 0, result.output
    parts = sorted(tmp_path.glob("x.bundle.part*"))
    assert len(parts) >= 2
    assert all(p.stat().st_size <= 10240 for p in parts)
    reader = verify_bundle(tmp_path / "x.bundle", expect_kind="export")
    assert len(reader.manifest.meta["submissions"]) == 3


def test_a_bad_max_size_is_a_usage_error(stock: Stock, tmp_path: Path) -> None:
    for size in ("lots", "1K"):
        result = stock.cli("export", "--out", str(tmp_path / "x"), "--max-size", size)
        assert result.exit_code == ExitCode.USAGE


def test_an_existing_bundle_is_never_overwritten(stock: Stock, tmp_path: Path) -> None:
    out = tmp_path / "export.bundle"
    out.write_bytes(b"keep me")
    result = stock.cli("export", "--out", str(out))
    assert result.exit_code == ExitCode.BUNDLE
    assert "already exists" in result.stderr
    assert out.read_bytes() == b"keep me"
    assert set(_states(stock).values()) == {SubmissionState.STORED}


def test_a_blob_altered_on_disk_stops_the_export(stock: Stock, tmp_path: Path) -> None:
    name = next(iter(stock.first.files))
    path = stock.services.config.blob_dir / "blobs" / name
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    result = stock.cli("export", "--out", str(tmp_path / "export.bundle"))
    assert result.exit_code == ExitCode.STORAGE
    assert "intake: error: a stored blob differs from its record" in result.stderr
    assert list(tmp_path.glob("export.bundle*")) == []
    assert set(_states(stock).values()) == {SubmissionState.STORED}


def test_a_missing_blob_stops_the_export(stock: Stock, tmp_path: Path) -> None:
    name = next(iter(stock.first.files))
    (stock.services.config.blob_dir / "blobs" / name).unlink()
    result = stock.cli("export", "--out", str(tmp_path / "export.bundle"))
    assert result.exit_code == ExitCode.STORAGE
    assert "no such blob" in result.stderr
    assert list(tmp_path.glob("*export.bundle*")) == []


def test_export_carries_the_keyring_file_s_keys(stock: Stock, tmp_path: Path) -> None:
    """Version 2: the laptop compares the server's keys with its team's list (issue T2)."""
    _result, export = stock.export(tmp_path / "export.bundle")
    assert export.manifest.version == 2
    (key,) = export.manifest.meta["keyring"]
    assert key == {
        "recipient": str(stock.investigator.recipient),
        "name": key["name"],
        "state": "active",
    }
