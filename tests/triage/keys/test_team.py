"""Investigators count the recipients: `triage team` and the import's stanza count (issue T2).

An attacker who can write the server's database (or keyring) adds a recipient: new testimony is
sealed to it too. An X25519 stanza does not name its key, but the laptop can count them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crypto.header import Stanza
from crypto.x25519 import X25519Identity
from protocol.meta.export import ExportKey
from tests.triage.factory import FileSpec, build, export_bundle
from tests.triage.workbench import Bench
from triage.errors import ExitCode


class _PluginRecipient:
    """A recipient of a type the team never uses (an age plugin's stanza)."""

    def wrap(self, file_key: bytes) -> list[Stanza]:
        return [Stanza.from_parts("piv-p256", ["c2VjcmV0"], b"\x00" * 32)]


def _custody(bench: Bench) -> list[dict[str, Any]]:
    lines = (bench.root / "custody.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_a_submission_sealed_to_one_key_more_than_the_team_is_refused(
    bench: Bench, tmp_path: Path
) -> None:
    intruder = X25519Identity.generate().recipient()
    me = [bench.investigator.recipient]
    honest = build(me, files=[FileSpec(b"honest")])
    extra = build(me, files=[FileSpec(b"video" * 50)], also=[intruder])
    result = bench.run("import", str(export_bundle(tmp_path / "export", [honest, extra])))
    assert result.exit_code == 0, result.output
    assert "imported: 1 new" in result.stdout
    problem = next(line for line in result.stdout.splitlines() if extra.id in line)
    assert "sealed to someone besides the team" in problem
    assert "stanza 2 is more X25519 stanzas than the team's 1 keys" in problem
    (blob,) = extra.blobs
    assert f"blobs/{blob}: stanza 2" in problem
    assert "ack: 1 submissions" in result.stdout  # the refused one stays on the server
    assert "1 submission(s) were sealed to a key besides the team's" in result.stderr
    assert extra.id not in bench.run("list", "--json").stdout


def test_a_stanza_of_another_type_is_refused_by_name(bench: Bench, tmp_path: Path) -> None:
    sneaky = build([bench.investigator.recipient], also=[_PluginRecipient()])
    result = bench.run("import", str(export_bundle(tmp_path / "export", [sneaky])))
    assert f"submissions/{sneaky.id}.json.age: stanza 2 is a 'piv-p256' stanza" in result.stdout
    assert "imported: 0 new" in result.stdout


def test_the_team_list_raises_the_count(bench: Bench, tmp_path: Path) -> None:
    colleague = X25519Identity.generate().recipient()
    added = bench.run("team", "add", str(colleague), "--name", "Olena")
    assert added.exit_code == 0, added.output
    listed = bench.run("team", "list").stdout
    assert "Olena" in listed
    assert "2 key(s)" in listed
    both = build([bench.investigator.recipient, str(colleague)], files=[FileSpec(b"x")])
    result = bench.run("import", str(export_bundle(tmp_path / "export", [both])))
    assert "imported: 1 new" in result.stdout
    assert any(e["action"] == "team_added" for e in _custody(bench))


def test_an_override_imports_and_is_in_the_custody_log(bench: Bench, tmp_path: Path) -> None:
    extra = build([bench.investigator.recipient], also=[X25519Identity.generate().recipient()])
    bundle = str(export_bundle(tmp_path / "export", [extra]))
    reason = "ICC liaison key added on 2026-12-01, confirmed by phone"
    result = bench.run("import", bundle, "--accept-extra-recipient", reason)
    assert "imported: 1 new" in result.stdout
    assert f"accepted although sealed to more than the team: {extra.id}" in result.stdout
    (entry,) = [e for e in _custody(bench) if e["action"] == "accepted_extra_recipient"]
    assert entry["object_id"] == extra.id
    assert entry["details"]["reason"] == reason
    blank = bench.run("import", bundle, "--accept-extra-recipient", " ")
    assert blank.exit_code == ExitCode.USAGE


def test_the_team_cannot_be_emptied_or_hold_one_key_twice(bench: Bench) -> None:
    mine = bench.investigator.recipient
    assert "already in the team" in bench.run("team", "add", mine).stderr
    assert "cannot be empty" in bench.run("team", "remove", mine).stderr
    assert "not an age recipient" in bench.run("team", "add", "age1nope").stderr
    other = str(X25519Identity.generate().recipient())
    assert bench.run("team", "add", other).exit_code == 0
    removed = bench.run("team", "remove", bench.investigator.fingerprint)
    assert removed.exit_code == 0, removed.output
    assert mine not in bench.run("team", "list").stdout


def test_the_export_s_keyring_is_compared_with_the_team(bench: Bench, tmp_path: Path) -> None:
    stranger = str(X25519Identity.generate().recipient())
    keyring = [
        ExportKey(bench.investigator.recipient, "me", "retired"),
        ExportKey(stranger, "New colleague?", "active"),
    ]
    built = build([bench.investigator.recipient])
    bundle = export_bundle(tmp_path / "export", [built], keyring=keyring)
    out = bench.run("import", str(bundle)).stdout
    assert "(New colleague?), which is not in your team" in out
    assert f"your team's {bench.investigator.fingerprint} (this workspace) is not an active" in out
    assert "imported: 1 new" in out  # warnings only: the stanza count decides
