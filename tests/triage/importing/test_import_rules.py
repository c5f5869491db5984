"""triage import re-runs the witness site's rules (protocol.rules) on what it opens: a
submission a site before a rule sealed is imported all the same, the answer is named once (when
it is imported), recorded in the custody log, and shown by `triage show`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.triage.factory import FileSpec, answers_for, build, export_bundle
from tests.triage.workbench import Bench

CONTACT = (
    'answers.D5 breaks contact-needs-consent (contact details, but the witness answered No to "May '
    'investigators contact you?": do not use them)'
)
OTHER = 'answers.B3_other breaks other-needs-text ("other" chosen without saying what it is)'


def test_an_answer_the_rules_refuse_is_imported_and_named(bench: Bench, tmp_path: Path):
    me = [bench.investigator.recipient]
    old = build(me, answers=answers_for(D3=False, D5="after six", B3=["other"]))
    good = build(
        me,
        answers=answers_for(D3=True, D4="receipt-code", D5="after six"),
        files=[FileSpec(b"photo" * 100, group_answers={"C2": "the yard"})],
    )
    bundle = export_bundle(tmp_path / "export.bundle", [old, good])
    result = bench.run("import", str(bundle))
    assert result.exit_code == 0, result.output
    assert "imported: 2 new, 0 already in the workspace" in result.stdout
    warnings = [line for line in result.stdout.splitlines() if " breaks " in line]
    assert warnings == [f"warning: {old.id}: {CONTACT}", f"warning: {old.id}: {OTHER}"]


def _decrypted_details(bench: Bench, sub_id: str) -> list[dict[str, object]]:
    entries = [json.loads(line) for line in (bench.root / "custody.jsonl").read_text().splitlines()]
    return [
        e["details"] for e in entries if e["action"] == "decrypted" and e["object_id"] == sub_id
    ]


def test_the_warnings_are_logged_once_and_shown(bench: Bench, tmp_path: Path):
    me = [bench.investigator.recipient]
    old = build(me, answers=answers_for(D3=False, D5="after six", B3=["other"]))
    good = build(me, answers=answers_for(D3=True, D4="receipt-code", D5="after six"))
    bundle = export_bundle(tmp_path / "export.bundle", [old, good])
    assert bench.run("import", str(bundle)).exit_code == 0
    # The same bundle again: nothing new, so nothing to warn about.
    again = bench.run("import", str(bundle))
    assert again.exit_code == 0, again.output
    assert "1 already" in again.stdout or "2 already" in again.stdout
    assert " breaks " not in again.stdout
    [details] = _decrypted_details(bench, old.id)
    assert details["rule_warnings"] == [CONTACT, OTHER]
    [good_details] = _decrypted_details(bench, good.id)
    assert "rule_warnings" not in good_details
    shown = bench.run("show", old.id)
    assert shown.exit_code == 0, shown.output
    assert "Read with care" in shown.stdout
    assert "contact-needs-consent" in shown.stdout
    assert "do not use them" in shown.stdout
    assert "Read with care" not in bench.run("show", good.id).stdout
