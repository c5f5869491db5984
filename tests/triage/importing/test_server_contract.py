"""What triage writes parses with protocol.meta's strict parsers (the ones `intake` reads
with), and exports that the server re-wrapped since the witness sealed them."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

from crypto.age import rewrap_header
from crypto.keyfile import read_identities
from crypto.minisign import VerifyKey
from crypto.x25519 import X25519Identity
from protocol.bundle import open_bundle
from protocol.manifest import Manifest
from protocol.meta.ack import AckedSubmission, AckMeta
from protocol.meta.replies import RepliesMeta
from protocol.meta.rewrap import RewrapMeta
from tests.triage.factory import FileSpec, build, export_bundle
from tests.triage.workbench import PASSPHRASE, Bench


def _manifest(bench: Bench, path: Path, kind: Any) -> Manifest:
    identity = bench.investigator.identity
    key = VerifyKey.parse(identity.with_name(identity.name + ".minisign.pub").read_text())
    with open_bundle(path, expect_kind=kind, verify_keys=[key]) as reader:
        for item in reader.items():
            item.drain()
        return reader.manifest


def _acked(bench: Bench, path: Path) -> tuple[AckedSubmission, ...]:
    return AckMeta.from_manifest(_manifest(bench, path, "ack")).submissions


def _ack(output: str) -> Path:
    return Path(output.split("ack: ")[1].split(" in ", 1)[1].strip())


def test_ack_replies_and_rewrap_parse_with_the_server_parsers(bench: Bench, tmp_path: Path):
    built = build([bench.investigator.recipient], files=[FileSpec(b"a" * 500), FileSpec(b"b")])
    export = export_bundle(tmp_path / "export", [built])
    imported = bench.run("import", str(export))
    assert imported.exit_code == 0, imported.output
    (acked,) = _acked(bench, _ack(imported.stdout))
    with open_bundle(export, expect_kind="export") as reader:
        exported = {entry.name: entry.sha256 for entry in reader.manifest.items}
    assert dict(acked.items) == exported  # exactly the export's items, with its hashes

    assert bench.run("reply", built.id, "Дякуємо").exit_code == 0
    assert bench.run("replies", "export", "--out", str(tmp_path / "replies")).exit_code == 0
    replies = RepliesMeta.from_manifest(_manifest(bench, tmp_path / "replies", "replies")).replies
    assert [reply.submission_id for reply in replies.values()] == [built.id]

    new = str(X25519Identity.generate().recipient())
    assert bench.run("rewrap", "--to", new, "--out", str(tmp_path / "rewrap")).exit_code == 0
    parsed = RewrapMeta.from_manifest(_manifest(bench, tmp_path / "rewrap", "rewrap"))
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
    (acked,) = _acked(bench, _ack(result.stdout))
    assert acked.items[f"blobs/{name}"] == hashlib.sha256(rewrapped).hexdigest()
    assert "re-wrapped since receipt" in bench.run("show", built.id).stdout
    again = bench.run("import", str(export))
    assert "imported: 0 new, 1 already in the workspace" in again.stdout
    (reacked,) = _acked(bench, _ack(again.stdout))
    assert reacked.items == acked.items
