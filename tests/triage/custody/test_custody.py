"""The custody log: hash chain, signed checkpoints, and `triage log verify` naming the break."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.triage.factory import FileSpec, build, export_bundle
from tests.triage.workbench import Bench
from triage.custody.log import GENESIS, entry_hash
from triage.errors import ExitCode


@pytest.fixture
def logged(bench: Bench, tmp_path: Path) -> list[str]:
    subs = [build([bench.investigator.recipient], files=[FileSpec(b"f" * 100)]) for _ in range(2)]
    assert bench.run("import", str(export_bundle(tmp_path / "e", subs))).exit_code == 0
    assert bench.run("show", subs[0].id).exit_code == 0
    assert bench.run("tag", subs[1].id, "+checked").exit_code == 0
    return (bench.root / "custody.jsonl").read_text().splitlines()


def test_every_entry_is_chained_and_the_log_verifies(bench: Bench, logged: list[str]):
    entries = [json.loads(line) for line in logged]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0]["prev_hash"] == GENESIS
    for before, entry in zip(entries, entries[1:], strict=False):
        assert entry["prev_hash"] == before["entry_hash"]
        assert entry["entry_hash"] == entry_hash(entry)
    actions = [e["action"] for e in entries]
    assert actions[:2] == ["created", "received"]
    assert {
        "decrypted",
        "verified",
        "imported",
        "exported",
        "checkpoint",
        "viewed",
        "tagged",
    } <= set(actions)
    assert all(e["actor_key_fpr"] == bench.investigator.fingerprint for e in entries)
    result = bench.run("log", "verify")
    assert result.exit_code == 0, result.output
    assert f"custody log intact: {len(entries)} entries, 1 signed checkpoints" in result.stdout


def test_one_altered_value_is_found_at_its_line(bench: Bench, logged: list[str]):
    line = 4
    entry = json.loads(logged[line - 1])
    entry["object_sha256"] = "f" * 64  # keep the JSON valid: only a value changes
    logged[line - 1] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    (bench.root / "custody.jsonl").write_text("\n".join(logged) + "\n")
    result = bench.run("log", "verify")
    assert result.exit_code == ExitCode.DAMAGED
    assert (
        f"triage: error: custody log broken at line {line}: entry_hash does not match"
        in result.stderr
    )
    assert f"lines 1 to {line - 1} are intact" in result.stderr


def test_a_removed_line_and_a_recomputed_chain(bench: Bench, logged: list[str]):
    del logged[2]
    (bench.root / "custody.jsonl").write_text("\n".join(logged) + "\n")
    assert "broken at line 3: seq is 4, expected 3" in bench.run("log", "verify").stderr


def test_rewritten_history_fails_at_the_signed_checkpoint(bench: Bench, logged: list[str]):
    # Someone who rewrites an entry and recomputes every hash after it still cannot re-sign
    # the checkpoint: it signs the head it followed.
    entries = [json.loads(line) for line in logged]
    entries[1]["details"]["item"] = "something else"
    for index in range(1, len(entries)):
        entries[index]["prev_hash"] = entries[index - 1]["entry_hash"]
        entries[index]["entry_hash"] = entry_hash(entries[index])
    (bench.root / "custody.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    checkpoint = next(e["seq"] for e in entries if e["action"] == "checkpoint")
    result = bench.run("log", "verify")
    assert f"broken at line {checkpoint}: checkpoint signature does not verify" in result.stderr


def test_checkpoint_on_request(bench: Bench, logged: list[str]):
    result = bench.run("log", "checkpoint")
    assert result.exit_code == 0
    assert f"checkpoint at seq {len(logged) + 1}" in result.stdout
    assert "2 signed checkpoints" in bench.run("log", "verify").stdout
