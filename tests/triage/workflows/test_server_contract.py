"""What triage writes, read by the server's own strict parsers (docs/bundles.md), and exports
that the server re-wrapped since the witness sealed them."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest

from crypto.age import rewrap_header
from crypto.keyfile import read_identities
from crypto.minisign import VerifyKey
from crypto.x25519 import X25519Identity
from protocol.bundle import open_bundle
from tests.triage.workflows.conftest import PASSPHRASE, Bench
from tests.triage.workflows.factory import FileSpec, build, export_bundle
from triage.export_meta import ExportMeta

layout = pytest.importorskip("intake.transfer.layout", reason="the server extra is not installed")


def _meta(bench: Bench, path: Path, kind: Any) -> dict[str, Any]:
    identity = bench.investigator.identity
    key = VerifyKey.parse(identity.with_name(identity.name + ".minisign.pub").read_text())
    with open_bundle(path, expect_kind=kind, verify_keys=[key]) as reader:
        for item in reader.items():
            item.drain()
        return dict(reader.manifest.meta)


def _ack(output: str) -> Path:
    return Path(output.split("ack: ")[1].split(" in ", 1)[1].strip())


def test_ack_replies_and_rewrap_parse_with_the_server_parsers(bench: Bench, tmp_path: Path):
    built = build([bench.investigator.recipient], files=[FileSpec(b"a" * 500), FileSpec(b"b")])
    export = export_bundle(tmp_path / "export", [built])
    imported = bench.run("import", str(export))
    assert imported.exit_code == 0, imported.output
    (acked,) = layout.parse_ack_meta(_meta(bench, _ack(imported.stdout), "ack"))
    with open_bundle(export, expect_kind="export") as reader:
        exported = {entry.name: entry.sha256 for entry in reader.manifest.items}
    assert dict(acked.items) == exported  # exactly the export's items, with its hashes

    assert bench.run("reply", built.id, "Дякуємо").exit_code == 0
    assert bench.run("replies", "export", "--out", str(tmp_path / "replies")).exit_code == 0
    replies = layout.parse_replies_meta(_meta(bench, tmp_path / "replies", "replies"))
    assert [reply.submission_id for reply in replies.values()] == [built.id]

    new = str(X25519Identity.generate().recipient())
    assert bench.run("rewrap", "--to", new, "--out", str(tmp_path / "rewrap")).exit_code == 0
    parsed = layout.RewrapMeta.parse(_meta(bench, tmp_path / "rewrap", "rewrap"))
    assert {str(r) for r in parsed.recipients} == {new}
    assert {h.blob_name for h in parsed.headers.values()} == {built.document_blob, *built.blobs}


def test_an_export_the_server_rewrapped_still_verifies_and_is_acked(bench: Bench, tmp_path: Path):
    mine = read_identities(bench.investigator.identity, passphrase_cb=PASSPHRASE.encode)[0]
    built = build([bench.investigator.recipient], files=[FileSpec(b"after a rotation " * 4000)])
    ((name, sealed),) = built.blobs.items()
    # The server re-wrapped the header since receipt: other sealed bytes, the same payload.
    header, offset = rewrap_header(io.BytesIO(sealed), [mine], [mine.recipient()])
    rewrapped = header + sealed[offset:]
    assert rewrapped != sealed
    export = export_bundle(tmp_path / "export", [built], replace_blobs={name: rewrapped})
    result = bench.run("import", str(export))
    assert result.exit_code == 0, result.output
    assert "NOT VERIFIED" not in result.stdout
    (acked,) = layout.parse_ack_meta(_meta(bench, _ack(result.stdout), "ack"))
    assert acked.items[f"blobs/{name}"] == hashlib.sha256(rewrapped).hexdigest()
    assert "re-wrapped since receipt" in bench.run("show", built.id).stdout
    again = bench.run("import", str(export))
    assert "imported: 0 new, 1 already in the workspace" in again.stdout
    (reacked,) = layout.parse_ack_meta(_meta(bench, _ack(again.stdout), "ack"))
    assert reacked.items == acked.items


def test_export_meta_in_other_shapes_is_still_understood():
    meta = ExportMeta.parse({"submissions": {"S-1": {"reply_recipient": "age1x"}}})
    assert meta.reply_recipient("S-1") == "age1x"
    listed = ExportMeta.parse({"submissions": [{"submission_id": "S-2", "manifest_blob": "ab"}]})
    assert listed.document_owner("ab") == "S-2"
    assert ExportMeta.parse({"submissions": "nonsense"}).submissions == {}
