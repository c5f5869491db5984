"""triage import re-runs the witness site's rules (protocol.rules) on what it opens: a
submission a site before a rule sealed is imported all the same, and the answer is named."""

from __future__ import annotations

from pathlib import Path

from tests.triage.factory import FileSpec, answers_for, build, export_bundle
from tests.triage.workbench import Bench


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
    assert warnings == [
        f"warning: {old.id}: answers.D5 breaks contact-needs-consent",
        f"warning: {old.id}: answers.B3_other breaks other-needs-text",
    ]
