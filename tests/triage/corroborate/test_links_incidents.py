"""Corroboration suggestions and incidents with their independence count."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tests.triage.factory import FileSpec, Witness, answers_for, build, export_bundle
from tests.triage.workbench import Bench


def _links(bench: Bench, ident: str) -> dict[str, dict[str, Any]]:
    result = bench.run("links", ident, "--json")
    assert result.exit_code == 0, result.output
    return {row["id"]: row for row in map(json.loads, result.stdout.splitlines())}


def test_links_shared_video_same_witness_and_unit_across_scripts(bench: Bench, tmp_path: Path):
    me, witness = [bench.investigator.recipient], Witness()
    video = FileSpec(b"drone footage" * 1000)
    uk = answers_for(B4_date="2024-11-20", B4_precision="exact", B6_oblast="UA-23",
                     B8_unit="155-я окрема бригада", B8_callsigns=["Шторм"])  # fmt: skip
    en = answers_for(B4_date="2024-11", B4_precision="month", B6_oblast="UA-23",
                     B8_unit="155th brigade", B8_callsigns=["Shtorm"])  # fmt: skip
    a = build(me, answers=uk, files=[video])
    b = build(me, answers=en)
    c = build(me, files=[video])  # the same video, re-shared by someone else
    d = build(me, witness=witness)
    e = build(me, witness=witness)
    elsewhere = answers_for(
        B4_date="2023-01-01", B4_precision="exact", B6_oblast="UA-46", B8_unit="155th brigade"
    )
    far = build(me, answers=elsewhere)
    assert (
        bench.run("import", str(export_bundle(tmp_path / "x", [a, b, c, d, e, far]))).exit_code == 0
    )

    found = _links(bench, a.id)
    assert set(found) == {b.id, c.id}
    assert found[c.id]["kinds"] == ["shared-file"]
    assert not found[c.id]["independent"]
    assert "shared provenance, not independent" in found[c.id]["reasons"][0]
    assert found[b.id]["kinds"] == ["candidate"]
    assert found[b.id]["independent"]
    reasons = " | ".join(found[b.id]["reasons"])
    assert "same oblast UA-23" in reasons
    assert "overlapping dates" in reasons
    assert "shared unit/call-sign tokens: 155, shtorm" in reasons
    assert _links(bench, d.id)[e.id]["kinds"] == ["same-witness"]
    human = bench.run("links", a.id).stdout
    assert "(same source)" in human
    assert "(possibly independent)" in human


def test_incident_counts_independent_sources(bench: Bench, tmp_path: Path):
    me, witness = [bench.investigator.recipient], Witness()
    video = FileSpec(b"v" * 5000)
    a, b = build(me, files=[video]), build(me, files=[video])  # one video, two senders
    c, d = build(me, witness=witness), build(me, witness=witness)  # one witness, twice
    e = build(me)  # independent
    assert bench.run("import", str(export_bundle(tmp_path / "x", [a, b, c, d, e]))).exit_code == 0
    made = bench.run("incident", "new", "Shelling of the school", "--oblast", "Kharkiv")
    assert made.exit_code == 0, made.output
    incident = made.stdout.strip()
    assert incident.startswith("UA63-")
    assert incident.endswith("-0001")
    added = bench.run(
        "incident", "add", incident, a.id, b.id, c.id, d.id, e.id, "--role", "primary"
    )
    assert "added 5" in added.stdout
    shown = bench.run("incident", "show", incident).stdout
    assert "submissions: 5   independent sources: 3" in shown
    assert bench.run("list", "--status", "linked", "--json").stdout.count('"id"') == 5
    assert "added 0" in bench.run("incident", "add", incident, a.id).stdout


def test_a_claimed_hash_that_did_not_verify_links_nothing(bench: Bench, tmp_path: Path):
    """Review finding: a client may declare any hash (a browser-sealed file's is declared by
    the browser); one claiming another witness's video was linked to it as a shared file."""
    me = [bench.investigator.recipient]
    video = FileSpec(b"drone footage" * 1000)
    honest = build(me, files=[video])
    claim = hashlib.sha256(b"drone footage" * 1000).hexdigest()
    liar = build(me, files=[FileSpec(b"something else", claimed_sha256=claim)])
    assert bench.run("import", str(export_bundle(tmp_path / "x", [honest, liar]))).exit_code == 0
    assert liar.id not in _links(bench, honest.id)
    assert honest.id not in _links(bench, liar.id)
