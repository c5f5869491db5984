"""`intake keys apply-rewrap`: new headers, same payloads, atomic per file; refusals change none."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crypto.age import open_bytes
from crypto.errors import NoIdentityMatchError
from crypto.header import Header
from crypto.minisign import SigningKey
from intake.cli import ExitCode
from intake.models import Blob, BlobRecipient, Submission
from protocol.bundle import ItemSource, open_bundle
from tests.intake.conftest import Investigator
from tests.intake.keyring_admin import admin
from tests.intake.transfer.conftest import Stock
from tests.intake.transfer.laptop import (
    Export,
    rewrap_meta,
    rewrap_parts,
    write_ack,
    write_rewrap,
    write_signed,
)


@dataclass(frozen=True)
class Rotated:
    """The stock after an export and a rotation from `old` to `new`."""

    stock: Stock
    export: Export
    old: Investigator
    new: Investigator

    @property
    def blob_dir(self) -> Path:
        return self.stock.services.config.blob_dir / "blobs"

    def files(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in self.blob_dir.iterdir()}

    def bundle(self, path: Path, **kw: object) -> Path:
        return write_rewrap(
            path,
            self.export,
            [self.old.identity],
            [self.new.recipient],
            self.new.signing_key,
            **kw,  # type: ignore[arg-type]
        )

    def apply(self, path: Path, *args: str) -> tuple[int, str, str]:
        result = self.stock.cli("keys", "apply-rewrap", str(path), *args)
        return result.exit_code, result.output, result.stderr


@pytest.fixture
def rotated(stock: Stock, tmp_path: Path, make_investigator: Callable[[], Investigator]) -> Rotated:
    export = stock.export(tmp_path / "export.bundle")[1]
    new = make_investigator()
    admin(stock.services).rotate(stock.investigator.fingerprint, new.new_key("New"))
    return Rotated(stock, export, stock.investigator, new)


def _payload(data: bytes) -> bytes:
    stream = io.BytesIO(data)
    Header.parse(stream)
    return stream.read()


def test_apply_rewrap_swaps_headers_and_keeps_payloads(rotated: Rotated, tmp_path: Path) -> None:
    before = rotated.files()
    code, out, err = rotated.apply(rotated.bundle(tmp_path / "rewrap"))
    assert code == 0, err
    assert "re-wrapped 6 blob(s) of 3 submission(s) to 1 key(s); signed by New" in out
    after = rotated.files()
    assert set(after) == set(before)
    for name, data in after.items():
        assert _payload(data) == _payload(before[name])
        open_bytes(data, [rotated.new.identity])
        with pytest.raises(NoIdentityMatchError):
            open_bytes(data, [rotated.old.identity])
    with rotated.stock.services.sessions() as session:
        fps = set(session.scalars(select(BlobRecipient.fingerprint)))
        assert fps == {rotated.new.fingerprint}
        for blob in session.scalars(select(Blob)):
            assert blob.sealed_size == len(after[blob.name])
        for row in session.scalars(select(Submission)):
            assert row.sealed_bytes == sum(len(after[b.name]) for b in row.blobs)
    listed = {k.fingerprint: k.sealed_blobs for k in rotated.stock.services.keyring.list_keys()}
    assert listed == {rotated.old.fingerprint: 0, rotated.new.fingerprint: 6}
    # Applying the same bundle again changes nothing.
    code, out, _err = rotated.apply(tmp_path / "rewrap")
    assert code == 0
    assert "re-wrapped 0 blob(s)" in out
    assert "6 blob(s) already had their new header" in out
    assert rotated.files() == after


def test_the_json_report_lists_each_change(rotated: Rotated, tmp_path: Path) -> None:
    code, out, _err = rotated.apply(rotated.bundle(tmp_path / "rewrap"), "--json")
    assert code == 0
    report = json.loads(out)
    assert len(report["changed"]) == 6
    change = report["changed"][0]
    assert change["old_fingerprints"] == [rotated.old.fingerprint]
    assert change["new_fingerprints"] == [rotated.new.fingerprint]
    assert report["recipients"] == [rotated.new.fingerprint]
    assert report["still_on_retired_keys"] == 0


def _refused(rotated: Rotated, path: Path, message: str, code: int = ExitCode.BUNDLE) -> None:
    before = rotated.files()
    got, _out, err = rotated.apply(path)
    assert got == code, err
    assert message in err
    assert rotated.files() == before
    with rotated.stock.services.sessions() as session:
        assert set(session.scalars(select(BlobRecipient.fingerprint))) == {rotated.old.fingerprint}


def test_a_rewrap_declaring_the_wrong_recipient_set_is_refused(
    rotated: Rotated, tmp_path: Path
) -> None:
    path = rotated.bundle(
        tmp_path / "rewrap", declared=[rotated.new.recipient, rotated.old.recipient]
    )
    _refused(rotated, path, "another recipient set than the active keyring")


def _parts(rotated: Rotated) -> tuple[dict[str, dict[str, Any]], list[ItemSource]]:
    return rewrap_parts(rotated.export, [rotated.old.identity], [rotated.new.recipient])


def _write(
    rotated: Rotated,
    path: Path,
    headers: dict[str, dict[str, Any]],
    items: list[ItemSource],
    key: SigningKey | None = None,
) -> Path:
    meta = rewrap_meta([rotated.new.recipient], headers)
    return write_signed(path, "rewrap", key or rotated.new.signing_key, meta, items)


def test_a_rewrap_signed_by_an_unknown_key_is_refused(rotated: Rotated, tmp_path: Path) -> None:
    path = _write(rotated, tmp_path / "rewrap", *_parts(rotated), SigningKey.generate())
    _refused(rotated, path, "not a known key")


def test_a_rewrap_signed_by_the_retired_key_is_refused(rotated: Rotated, tmp_path: Path) -> None:
    path = _write(rotated, tmp_path / "rewrap", *_parts(rotated), rotated.old.signing_key)
    _refused(rotated, path, "signed by the retired key")


@pytest.mark.parametrize(
    ("field", "value"),
    [("old_sealed_sha256", "0" * 64), ("old_header_length", 17)],
)
def test_a_header_made_from_another_file_is_refused(
    rotated: Rotated, tmp_path: Path, field: str, value: object
) -> None:
    headers, items = _parts(rotated)
    headers[items[-1].name][field] = value
    path = _write(rotated, tmp_path / "rewrap", headers, items)
    _refused(rotated, path, "is not the file its new header was made from")


def test_a_header_naming_another_role_is_refused(rotated: Rotated, tmp_path: Path) -> None:
    headers, items = _parts(rotated)
    headers[items[0].name]["role"] = "attachment"  # the first is a submission.json
    path = _write(rotated, tmp_path / "rewrap", headers, items)
    _refused(rotated, path, "but that blob is the submission of")


def test_a_wrong_expected_result_leaves_the_blob_unchanged(
    rotated: Rotated, tmp_path: Path
) -> None:
    headers, items = _parts(rotated)
    headers[items[0].name]["new_sealed_sha256"] = "0" * 64
    path = _write(rotated, tmp_path / "rewrap", headers, items)
    _refused(rotated, path, "would not be the file the laptop computed", ExitCode.STORAGE)


def test_a_submission_json_may_be_named_by_its_submission(rotated: Rotated, tmp_path: Path) -> None:
    headers, items = _parts(rotated)
    first = items[0]
    entry = headers.pop(first.name)
    item = f"headers/submissions/{entry['submission_id']}.json.age"
    headers[item] = entry | {"blob_name": None}
    with first.opener() as stream:
        items[0] = ItemSource.from_bytes(item, stream.read())
    code, out, err = rotated.apply(_write(rotated, tmp_path / "rewrap", headers, items))
    assert code == 0, err
    assert "re-wrapped 6 blob(s)" in out


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda header: b"not a header\n", "does not parse"),
        (lambda header: header + b"payload", "nothing else"),
        (lambda header: header.replace(b"X25519", b"scrypt", 1), "nothing else"),
    ],
)
def test_a_malformed_header_is_refused(
    rotated: Rotated, tmp_path: Path, mangle: Callable[[bytes], bytes], message: str
) -> None:
    headers, items = _parts(rotated)
    last = items[-1]
    with last.opener() as stream:
        items[-1] = ItemSource.from_bytes(last.name, mangle(stream.read()))
    _refused(rotated, _write(rotated, tmp_path / "rewrap", headers, items), message)


def test_a_corrupted_rewrap_bundle_is_refused(rotated: Rotated, tmp_path: Path) -> None:
    path = rotated.bundle(tmp_path / "rewrap")
    data = bytearray(path.read_bytes())
    data[data.rindex(b"age-encryption.org/v1") + 30] ^= 1
    path.write_bytes(bytes(data))
    _refused(rotated, path, "integrity")


def test_purged_blobs_are_skipped(rotated: Rotated, tmp_path: Path) -> None:
    stock = rotated.stock
    gone = stock.other.submission_id
    ack = write_ack(tmp_path / "ack", rotated.export, rotated.new.signing_key, only=[gone])
    assert stock.cli("purge", "--ack", str(ack)).exit_code == 0
    code, out, err = rotated.apply(rotated.bundle(tmp_path / "rewrap"))
    assert code == 0, err
    assert "re-wrapped 5 blob(s) of 2 submission(s)" in out
    assert "1 blob(s) are no longer stored (purged); skipped" in out


def test_an_interrupted_apply_is_finished_by_running_it_again(
    rotated: Rotated, tmp_path: Path
) -> None:
    path = rotated.bundle(tmp_path / "rewrap")
    # As if the first run stopped after one file's rename, before its row was updated: give
    # that file the bundle's header by hand (the same file key, so it still opens).
    with open_bundle(
        path, expect_kind="rewrap", verify_keys=[rotated.new.signing_key.verify_key()]
    ) as reader:
        item = next(reader.items())
        header = item.read_all(1 << 20)
    name = item.entry.name.removeprefix("headers/")
    target = rotated.blob_dir / name
    target.write_bytes(header + _payload(target.read_bytes()))
    assert open_bytes(target.read_bytes(), [rotated.new.identity])
    code, out, err = rotated.apply(path)
    assert code == 0, err
    assert "re-wrapped 6 blob(s)" in out
    with rotated.stock.services.sessions() as session:
        row = session.get(Blob, name)
        assert row is not None
        assert row.sealed_size == target.stat().st_size
        assert [r.fingerprint for r in row.recipients] == [rotated.new.fingerprint]


def test_a_stored_blob_altered_since_export_is_not_swapped(
    rotated: Rotated, tmp_path: Path
) -> None:
    path = rotated.bundle(tmp_path / "rewrap")
    name = rotated.export.blob_items()[-1][0]
    target = rotated.blob_dir / name
    data = bytearray(target.read_bytes())
    data[-1] ^= 1
    target.write_bytes(bytes(data))
    code, _out, err = rotated.apply(path)
    assert code == ExitCode.STORAGE
    assert f"the stored blob {name} is not the file the new header was made from" in err
    assert target.read_bytes() == bytes(data)  # unchanged: still the old header
