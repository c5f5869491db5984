"""What `triage import` says when a testimony and what the witness sent later about it
(follow-ups, consent changes) arrive in separate bundles, the later ones first."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from protocol.schema import ConsentChange
from tests.triage.factory import Built, Witness, answers_for, build, export_bundle
from tests.triage.workbench import Bench

MORE = {"B1": "I remembered one more thing."}


def _import(bench: Bench, path: Path, *subs: Built) -> list[str]:
    result = bench.run("import", str(export_bundle(path, list(subs))))
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def _about(lines: list[str], ident: str, prefix: str) -> list[str]:
    return [line for line in lines if line.startswith(f"{prefix}: {ident}:")]


def test_a_testimony_imported_after_its_follow_ups_names_them_and_the_consent_now(
    bench: Bench, tmp_path: Path
) -> None:
    me, witness = [bench.investigator.recipient], Witness()
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    first = build(
        me, witness=witness, received_at=hour_ago,
        answers=answers_for(A4=["investigators", "icc-otp", "ua-prosecutors"]),
    )  # fmt: skip
    later = build(
        me, witness=witness, kind="follow_up", parent_id=first.id, answers=MORE,
        received_at=hour_ago + timedelta(minutes=30),
    )  # fmt: skip
    narrow = build(
        me, witness=witness, kind="consent_change", parent_id=first.id,
        consent_change=ConsentChange("narrow", ("icc-otp",)),
    )  # fmt: skip
    early = _import(bench, tmp_path / "a", later, narrow)
    for sub in (later, narrow):
        assert _about(early, sub.id, "warning") == [
            f"warning: {sub.id}: adds to submission {first.id}, which is not in this workspace "
            f"yet: its thread and consent are incomplete until {first.id} is imported"
        ]
    out = _import(bench, tmp_path / "b", first)
    assert _about(out, first.id, "note") == [
        f"note: {first.id}: 2 later submission(s) of this testimony were imported before it and "
        f"now join its thread: {later.id} follow-up, {narrow.id} consent change; the thread's "
        f"consent is now icc-otp (narrowed by {narrow.id}) ('triage show {first.id}')"
    ]


def test_a_withdrawal_imported_first_is_named_when_its_testimony_arrives(
    bench: Bench, tmp_path: Path
) -> None:
    me, witness = [bench.investigator.recipient], Witness()
    first = build(me, witness=witness, received_at=datetime.now(UTC) - timedelta(hours=1))
    gone = build(
        me, witness=witness, kind="consent_change", parent_id=first.id,
        consent_change=ConsentChange("withdraw", ()),
    )  # fmt: skip
    _import(bench, tmp_path / "a", gone)
    out = _import(bench, tmp_path / "b", first)
    assert _about(out, first.id, "note") == [
        f"note: {first.id}: 1 later submission(s) of this testimony were imported before it and "
        f"now join its thread: {gone.id} consent change; the thread's consent is now "
        f"withdrawn (by {gone.id}) ('triage show {first.id}')"
    ]


def test_a_follow_up_from_another_key_imported_first_is_marked_when_its_testimony_arrives(
    bench: Bench, tmp_path: Path
) -> None:
    # The reply-key check at import (parent_reply_key) needs the testimony; it arrives later.
    me, victim, other = [bench.investigator.recipient], Witness(), Witness()
    first = build(me, witness=victim, received_at=datetime.now(UTC) - timedelta(hours=1))
    later = build(me, witness=other, kind="follow_up", parent_id=first.id, answers=MORE)
    _import(bench, tmp_path / "a", later)
    out = _import(bench, tmp_path / "b", first)
    assert _about(out, first.id, "note") == [
        f"note: {first.id}: 1 later submission(s) of this testimony were imported before it and "
        f"now join its thread: {later.id} follow-up from another reply key than {first.id}; "
        "the thread's consent is now investigators, ua-prosecutors, except for "
        f"{later.id} from another reply key, which keeps its witness's own "
        f"('triage show {first.id}')"
    ]


def test_a_thread_imported_in_one_bundle_needs_no_note(bench: Bench, tmp_path: Path) -> None:
    me, witness = [bench.investigator.recipient], Witness()
    first = build(me, witness=witness, received_at=datetime.now(UTC) - timedelta(hours=1))
    later = build(me, witness=witness, kind="follow_up", parent_id=first.id, answers=MORE)
    out = _import(bench, tmp_path / "a", later, first)  # the follow-up listed first
    assert not [line for line in out if line.startswith(("note:", "warning:"))]
    more = build(me, witness=witness, kind="follow_up", parent_id=first.id, answers=MORE)
    out = _import(bench, tmp_path / "b", more)  # its testimony is here: nothing to say
    assert not [line for line in out if line.startswith(("note:", "warning:"))]


def _threaded(bench: Bench, sub_id: str) -> list[dict[str, object]]:
    log = (bench.root / "custody.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in log]
    return [e["details"] for e in entries if e["action"] == "threaded" and e["object_id"] == sub_id]


def _other_key(sub: Built, parent: Built) -> str:
    # The wording `triage import` uses when the testimony is already here (importing.apply).
    return (
        f"warning: {sub.id}: sent with another reply key than {parent.id}, the testimony it "
        "adds to (the site lets a witness add only to their own): not that testimony's "
        "witness, or the server's database was changed"
    )


def test_another_keys_submissions_imported_first_are_warned_of_and_logged_like_in_order(
    bench: Bench, tmp_path: Path
) -> None:
    # In order the warning and `parent_reply_key` (in `decrypted`) come at once; imported
    # before their testimony, they come when it does, whatever the order.
    me, victim, other = [bench.investigator.recipient], Witness(), Witness()
    first = build(me, witness=victim, received_at=datetime.now(UTC) - timedelta(hours=1))
    later = build(me, witness=other, kind="follow_up", parent_id=first.id, answers=MORE)
    gone = build(
        me, witness=other, kind="consent_change", parent_id=first.id,
        consent_change=ConsentChange("withdraw", ()),
    )  # fmt: skip
    early = _import(bench, tmp_path / "a", later, gone)
    assert not [line for line in early if "another reply key" in line]
    out = _import(bench, tmp_path / "b", first)
    for sub in (later, gone):
        assert _about(out, sub.id, "warning") == [_other_key(sub, first)]
        assert _threaded(bench, sub.id) == [
            {"parent_id": first.id, "parent_reply_key": victim.recipient}
        ]
    # Another witness's withdrawal leaves the testimony alone (consent is per witness).
    assert "consent is now investigators, ua-prosecutors, except for" in "".join(out)


def test_another_keys_follow_up_listed_before_its_testimony_in_one_bundle_is_warned_of(
    bench: Bench, tmp_path: Path
) -> None:
    me, victim, other = [bench.investigator.recipient], Witness(), Witness()
    first = build(me, witness=victim, received_at=datetime.now(UTC) - timedelta(hours=1))
    later = build(me, witness=other, kind="follow_up", parent_id=first.id, answers=MORE)
    out = _import(bench, tmp_path / "a", later, first)
    assert _about(out, later.id, "warning") == [_other_key(later, first)]
    assert _threaded(bench, later.id) == [
        {"parent_id": first.id, "parent_reply_key": victim.recipient}
    ]
    assert not _about(out, first.id, "note")


def test_a_follow_up_of_a_follow_up_is_warned_of_once_in_either_order(
    bench: Bench, tmp_path: Path
) -> None:
    # The site adds only to testimonies (protocol.threads goes one level up): only a forgery
    # or a changed database makes a follow-up's parent a follow-up.
    me, witness = [bench.investigator.recipient], Witness()
    first = build(me, witness=witness, received_at=datetime.now(UTC) - timedelta(hours=1))
    one = build(me, witness=witness, kind="follow_up", parent_id=first.id, answers=MORE)
    two = build(me, witness=witness, kind="follow_up", parent_id=one.id, answers=MORE)
    three = build(me, witness=witness, kind="follow_up", parent_id=one.id, answers=MORE)
    nested = (
        "which is a follow-up, not a testimony (the site adds only to testimonies): forged, "
        "or the server's database was changed"
    )
    early = _import(bench, tmp_path / "a", two)
    assert _about(early, two.id, "warning") == [
        f"warning: {two.id}: adds to submission {one.id}, which is not in this workspace yet: "
        f"its thread and consent are incomplete until {one.id} is imported"
    ]
    out = _import(bench, tmp_path / "b", first, one)
    assert _about(out, two.id, "warning") == [f"warning: {two.id}: adds to {one.id}, {nested}"]
    out = _import(bench, tmp_path / "c", three)  # its parent is here: warned at once
    assert _about(out, three.id, "warning") == [f"warning: {three.id}: adds to {one.id}, {nested}"]
    again = _import(bench, tmp_path / "d", first, one, two, three)  # nothing new: said before
    assert not [line for line in again if line.startswith("warning:")]
