"""`intake purge --ack`: exactly the acknowledged submissions go; every bad ack changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from crypto.minisign import SigningKey
from intake.blobstore import LocalBlobStore
from intake.cli import ExitCode
from intake.errors import StorageError
from intake.models import Blob, BlobRecipient, ExportedBlob, Submission, SubmissionState, Witness
from intake.transfer import purge_acknowledged
from tests.intake.conftest import Investigator
from tests.intake.keyring_admin import admin
from tests.intake.transfer.conftest import Stock
from tests.intake.transfer.laptop import (
    Export,
    ack_meta,
    write_ack,
    write_signed,
    write_unsigned,
)


def _blob_files(stock: Stock) -> set[str]:
    return {p.name for p in (stock.services.config.blob_dir / "blobs").iterdir()}


def _count(stock: Stock, model: type[object]) -> int:
    with stock.services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def exported(stock: Stock, tmp_path: Path) -> Export:
    return stock.export(tmp_path / "export.bundle")[1]


def test_purge_deletes_exactly_the_acknowledged_submissions(
    stock: Stock, exported: Export, tmp_path: Path
) -> None:
    keep = stock.other.submission_id
    gone = [stock.first.submission_id, stock.follow_up.submission_id]
    ack = write_ack(tmp_path / "ack", exported, stock.investigator.signing_key, only=gone)
    result = stock.cli("purge", "--ack", str(ack))
    assert result.exit_code == 0, result.stderr
    assert "purged 2 submission(s): 5 blob(s) overwritten and deleted" in result.output
    with stock.services.sessions() as session:
        rows = {row.id: row for row in session.scalars(select(Submission))}
        blobs = {b.name for b in session.scalars(select(Blob))}
        assert session.scalar(select(func.count()).select_from(Witness)) == 2
        for sid in gone:
            assert rows[sid].state is SubmissionState.PURGED
            assert rows[sid].purged_on is not None
            assert rows[sid].acked_on is not None
        assert rows[keep].state is SubmissionState.EXPORTED
        kept_blobs = {b.name for b in rows[keep].blobs}
    assert blobs == kept_blobs
    assert _blob_files(stock) == kept_blobs
    assert _count(stock, BlobRecipient) == len(kept_blobs)
    assert _count(stock, ExportedBlob) == len(kept_blobs)
    # The same ack again changes nothing and says so.
    again = stock.cli("purge", "--ack", str(ack))
    assert again.exit_code == 0
    assert "purged 0 submission(s)" in again.output
    assert "2 submission(s) were already purged" in again.output


def test_sqlite_runs_with_secure_delete(stock: Stock) -> None:
    if stock.services.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no secure_delete (SECURITY.md says what that means)")
    with stock.services.engine.connect() as conn:
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1


def _refused(stock: Stock, ack: Path, message: str) -> None:
    files = _blob_files(stock)
    result = stock.cli("purge", "--ack", str(ack))
    assert result.exit_code == ExitCode.BUNDLE, result.output
    assert message in result.stderr
    assert "intake: hint: " in result.stderr
    assert _blob_files(stock) == files
    with stock.services.sessions() as session:
        states = set(session.scalars(select(Submission.state)))
    assert SubmissionState.PURGED not in states


def test_an_ack_for_something_never_exported_is_refused(stock: Stock, tmp_path: Path) -> None:
    exported = stock.export(tmp_path / "export.bundle")[1]
    with stock.services.sessions() as session:
        row = session.get(Submission, stock.other.submission_id)
        assert row is not None
        row.state = SubmissionState.STORED  # as if that submission had not been exported
        session.commit()
    ack = write_ack(tmp_path / "ack", exported, stock.investigator.signing_key)
    _refused(stock, ack, f"names {stock.other.submission_id}, which was never exported")


def test_an_ack_for_an_unknown_submission_is_refused(
    stock: Stock, exported: Export, tmp_path: Path
) -> None:
    meta = ack_meta(exported)
    entry, unknown = meta["submissions"][0], "S-0000000000000000"
    for item in entry["items"]:  # its submission.json item is named after it
        item["name"] = item["name"].replace(entry["submission_id"], unknown)
    entry["submission_id"] = unknown
    ack = write_signed(tmp_path / "ack", "ack", stock.investigator.signing_key, meta)
    _refused(stock, ack, "names S-0000000000000000, which this server never held")


def test_an_ack_signed_by_an_unknown_key_is_refused(
    stock: Stock, exported: Export, tmp_path: Path
) -> None:
    ack = write_ack(tmp_path / "ack", exported, SigningKey.generate())
    _refused(stock, ack, "signature")


def test_an_ack_signed_by_a_revoked_key_is_refused(
    stock: Stock,
    exported: Export,
    tmp_path: Path,
    make_investigator: Callable[[], Investigator],
) -> None:
    newer = make_investigator()
    admin(stock.services).rotate(stock.investigator.fingerprint, newer.new_key("Newer"))
    admin(stock.services).revoke(stock.investigator.fingerprint)
    ack = write_ack(tmp_path / "ack", exported, stock.investigator.signing_key)
    _refused(stock, ack, "signed by the revoked key")


def test_an_unsigned_ack_is_refused(stock: Stock, exported: Export, tmp_path: Path) -> None:
    ack = write_unsigned(tmp_path / "ack", "ack", ack_meta(exported))
    _refused(stock, ack, "unsigned or refused bundle")


def test_an_ack_whose_hash_does_not_match_is_refused(
    stock: Stock, exported: Export, tmp_path: Path
) -> None:
    meta = ack_meta(exported)
    meta["submissions"][1]["items"][0]["sha256"] = "0" * 64
    ack = write_signed(tmp_path / "ack", "ack", stock.investigator.signing_key, meta)
    _refused(stock, ack, "is not the one exported")


def test_an_ack_missing_an_item_is_refused(stock: Stock, exported: Export, tmp_path: Path) -> None:
    meta = ack_meta(exported, only=[stock.first.submission_id])
    items = meta["submissions"][0]["items"]
    items.remove(next(i for i in items if i["name"].startswith("blobs/")))
    ack = write_signed(tmp_path / "ack", "ack", stock.investigator.signing_key, meta)
    _refused(stock, ack, "are not those of its last export")


def test_a_corrupted_ack_is_refused(stock: Stock, exported: Export, tmp_path: Path) -> None:
    ack = write_ack(tmp_path / "ack", exported, stock.investigator.signing_key)
    data = bytearray(ack.read_bytes())
    data[data.index(b"sha256") + 20] ^= 1  # inside the signed bundle.json
    ack.write_bytes(bytes(data))
    _refused(stock, ack, "refused bundle ack")


def test_a_malformed_ack_meta_is_refused(stock: Stock, exported: Export, tmp_path: Path) -> None:
    meta = {"submissions": [{"submission_id": stock.first.submission_id}]}
    ack = write_signed(tmp_path / "ack", "ack", stock.investigator.signing_key, meta)
    _refused(stock, ack, "bundle meta: an acknowledged submission must be an object")


def test_an_export_given_as_an_ack_is_refused(stock: Stock, tmp_path: Path) -> None:
    stock.export(tmp_path / "export.bundle")
    _refused(stock, tmp_path / "export.bundle", "expected a ack bundle, got export")


def test_a_missing_ack_file_is_refused(stock: Stock, tmp_path: Path) -> None:
    _refused(stock, tmp_path / "nowhere", "no bundle at")


def test_without_an_active_key_nothing_can_vouch_for_an_ack(
    stock: Stock, exported: Export, tmp_path: Path
) -> None:
    ack = write_ack(tmp_path / "ack", exported, stock.investigator.signing_key)
    stock.services.config.keyring_file.write_text('{"version": 1, "keys": []}\n')
    _refused(stock, ack, "the keyring file holds no investigator key")


class _StuckStore(LocalBlobStore):
    """A store whose deletions fail (a read-only or vanished mount)."""

    def delete_secure(self, name: str, *, missing_ok: bool = False) -> None:
        raise StorageError("deleting a blob failed: Read-only file system")


def test_rows_are_purged_even_when_files_cannot_be_deleted(
    stock: Stock, exported: Export, tmp_path: Path
) -> None:
    ack = write_ack(tmp_path / "ack", exported, stock.investigator.signing_key)
    store = _StuckStore(stock.services.config.blob_dir)
    services = stock.services
    with pytest.raises(StorageError, match="6 of 6 purged blob"):
        purge_acknowledged(services.sessions, store, services.keyring, ack)
    assert _count(stock, Blob) == 0  # the rows went first: the files are orphans for the sweep
    assert len(_blob_files(stock)) == 6
