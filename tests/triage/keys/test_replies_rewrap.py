"""Replies sealed to witnesses, and headers re-wrapped to a new keyring: both signed bundles."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from crypto.age import open_bytes, open_stream
from crypto.minisign import VerifyKey
from crypto.x25519 import X25519Identity
from protocol.bundle import open_bundle
from tests.triage.factory import FileSpec, Witness, build, export_bundle
from tests.triage.workbench import Bench
from triage.errors import ExitCode


def _vk(bench: Bench) -> VerifyKey:
    identity = bench.investigator.identity
    return VerifyKey.parse(identity.with_name(identity.name + ".minisign.pub").read_text())


def test_reply_is_sealed_to_the_witness_and_exported_signed(bench: Bench, tmp_path: Path):
    witness = Witness()
    built = build([bench.investigator.recipient], witness=witness)
    assert bench.run("import", str(export_bundle(tmp_path / "e", [built]))).exit_code == 0
    text = tmp_path / "reply.txt"
    text.write_text("Дякуємо. Ми отримали ваше свідчення.\n", encoding="utf-8")
    made = bench.run("reply", built.id, "--file", str(text))
    assert made.exit_code == 0, made.output
    reply_id = made.stdout.split(":")[0]
    assert bench.run("reply", built.id).exit_code == ExitCode.USAGE
    out = tmp_path / "replies.bundle"
    assert bench.run("replies", "export", "--out", str(out)).exit_code == 0
    with open_bundle(out, expect_kind="replies", verify_keys=[_vk(bench)]) as reader:
        meta = dict(reader.manifest.meta)
        items = {item.entry.name: item.read_all(1 << 20) for item in reader.items()}
    sealed = items[f"replies/{reply_id}.age"]
    assert list(items) == [f"replies/{reply_id}.age"]
    assert meta["replies"][reply_id] == {
        "submission_id": built.id,
        "witness_reply_recipient": witness.recipient,
    }
    assert open_bytes(sealed, [witness.identity]).decode() == text.read_text(encoding="utf-8")
    again = bench.run("replies", "export", "--out", str(tmp_path / "again"))
    assert again.exit_code == ExitCode.FAILURE
    assert "no replies to export" in again.stderr


def test_reply_refused_when_the_export_named_another_key(bench: Bench, tmp_path: Path):
    built = build([bench.investigator.recipient])
    swapped = {built.id: Witness().recipient}
    result = bench.run(
        "import", str(export_bundle(tmp_path / "e", [built], reply_recipients=swapped))
    )
    assert "the export's reply key differs from the sealed one" in result.stdout
    refused = bench.run("reply", built.id, "hello")
    assert refused.exit_code == ExitCode.FAILURE
    assert "the export named another reply key than the sealed submission" in refused.stderr


def test_rewrap_gives_new_headers_for_the_same_payloads(bench: Bench, tmp_path: Path):
    data = b"evidence " * 20000
    built = build([bench.investigator.recipient], files=[FileSpec(data)])
    assert bench.run("import", str(export_bundle(tmp_path / "e", [built]))).exit_code == 0
    new_a, new_b = X25519Identity.generate(), X25519Identity.generate()
    out = tmp_path / "rewrap.bundle"
    args = ["--to", str(new_a.recipient()), "--to", str(new_b.recipient()), "--out", str(out)]
    result = bench.run("rewrap", *args)
    assert result.exit_code == 0, result.output
    with open_bundle(out, expect_kind="rewrap", verify_keys=[_vk(bench)]) as reader:
        meta = dict(reader.manifest.meta)
        headers = {item.entry.name: item.read_all(1 << 20) for item in reader.items()}
    ((blob_name, sealed),) = built.blobs.items()
    facts = meta["headers"][f"headers/{blob_name}"]
    assert facts["old_sealed_sha256"] == hashlib.sha256(sealed).hexdigest()
    rewrapped = headers[f"headers/{blob_name}"] + sealed[facts["old_header_length"] :]
    assert hashlib.sha256(rewrapped).hexdigest() == facts["new_sealed_sha256"]
    assert b"".join(open_stream(io.BytesIO(rewrapped), [new_b])) == data
    document = meta["headers"][f"headers/{built.document_blob}"]  # named as the export said
    assert (document["role"], document["submission_id"]) == ("submission", built.id)
    assert len(meta["recipients"]) == 2
    assert meta["signed_by"] == bench.investigator.fingerprint
