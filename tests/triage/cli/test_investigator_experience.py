"""Issue W, items 7-10: what an investigator stumbled on, through the real commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from protocol.ids import new_reply_id
from protocol.schema import ConsentChange
from tests.triage.factory import Built, Witness, answers_for, build, export_bundle
from tests.triage.helpers import TRIAGE, run_in_pty
from tests.triage.workbench import PASSPHRASE, Bench, run_triage
from triage.errors import ExitCode

MORE = {"B1": "I remembered one more thing."}


def _import(bench: Bench, path: Path, *subs: object) -> str:
    result = bench.run("import", str(export_bundle(path, list(subs))))  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    return result.stdout


def _answered(
    bench: Bench, path: Path, witness: Witness, about: str, parent: str
) -> tuple[str, Built]:
    """A reply about `about`, then the witness's answer filed under `parent`, imported from
    `path`: the reply's id and the answer."""
    reply_id = bench.run("reply", about, "Which street was it?").stdout.split(":")[0]
    soon = datetime.now(UTC) + timedelta(minutes=1)  # answered after the reply was sealed
    answer = build(
        [bench.investigator.recipient], witness=witness, kind="follow_up", parent_id=parent,
        answers=MORE, in_reply_to=reply_id, received_at=soon,
    )  # fmt: skip
    _import(bench, path, answer)
    return reply_id, answer


def test_the_passphrase_is_asked_before_the_progress_bar(bench: Bench, tmp_path: Path) -> None:
    bundle = export_bundle(tmp_path / "a", [build([bench.investigator.recipient])])
    run = run_in_pty(
        [str(TRIAGE), "import", "-w", str(bench.root), str(bundle)],
        [(b"Enter passphrase for your identity:", PASSPHRASE.encode() + b"\n")],
    )
    assert run.exit_code == 0, run.transcript
    before_prompt = run.transcript[: run.transcript.index(b"Enter passphrase")]
    assert b"importing" not in before_prompt


def test_a_follow_up_prints_no_consent_line(bench: Bench, tmp_path: Path) -> None:
    me, witness = [bench.investigator.recipient], Witness()
    first = build(me, witness=witness)
    later = build(me, witness=witness, kind="follow_up", parent_id=first.id, answers=MORE)
    out = _import(bench, tmp_path / "a", first, later)
    assert "consent" not in out
    assert "(by )" not in out


def test_a_follow_up_after_a_narrowing_takes_the_narrowed_consent(
    bench: Bench, tmp_path: Path
) -> None:
    me, witness = [bench.investigator.recipient], Witness()
    first = build(me, witness=witness, answers=answers_for(A4=["investigators", "icc-otp"]))
    narrow = build(
        me, witness=witness, kind="consent_change", parent_id=first.id,
        consent_change=ConsentChange("narrow", ("icc-otp",)),
    )  # fmt: skip
    _import(bench, tmp_path / "a", first, narrow)
    later = build(me, witness=witness, kind="follow_up", parent_id=first.id, answers=MORE)
    _import(bench, tmp_path / "b", later)
    assert "consent now: icc-otp" in bench.run("show", later.id).stdout


def test_search_matches_across_scripts(bench: Bench, tmp_path: Path) -> None:
    me = [bench.investigator.recipient]
    cyrillic = build(me, answers=answers_for(B8_unit="позывной Гром"))
    latin = build(me, answers=answers_for(B8_unit="callsign Grom"))
    other = build(me, answers=answers_for(B8_unit="Shtorm"))
    _import(bench, tmp_path / "a", cyrillic, latin, other)
    for word in ("Гром", "Grom", "Hrom", "гром"):
        found = bench.run("list", "--search", word, "--json").stdout
        assert cyrillic.id in found, word
        assert latin.id in found, word
        assert other.id not in found


def test_incidents_list_withdrawn_refused_unless_overridden(bench: Bench, tmp_path: Path) -> None:
    me, witness = [bench.investigator.recipient], Witness()
    kept = build(me, answers=answers_for(B8_unit="Grom", B6_oblast="UA-23"))
    gone = build(me, witness=witness, answers=answers_for(B8_unit="Grom", B6_oblast="UA-23"))
    withdraw = build(
        me, witness=witness, kind="consent_change", parent_id=gone.id,
        consent_change=ConsentChange("withdraw"),
    )  # fmt: skip
    _import(bench, tmp_path / "a", kept, gone, withdraw)
    assert "no incidents yet" in bench.run("incident", "list").stdout
    incident = bench.run("incident", "new", "Shelling of the school").stdout.strip()
    assert f"{gone.id}  (possibly independent)  WITHDRAWN" in bench.run("links", kept.id).stdout
    refused = bench.run("incident", "add", incident, kept.id, gone.id)
    assert refused.exit_code == ExitCode.FAILURE
    assert f"{gone.id} was withdrawn by the witness" in refused.stderr
    assert "--override REASON" in refused.stderr
    listed = bench.run("incident", "list").stdout
    assert f"{incident}  " in listed
    assert "submissions 0  Shelling of the school" in listed
    forced = bench.run("incident", "add", incident, gone.id, "--override", "court order 12/3")
    assert forced.exit_code == 0, forced.output
    assert "submissions 1" in bench.run("incident", "list").stdout
    log = (bench.root / "custody.jsonl").read_text(encoding="utf-8").splitlines()
    linked = [line for line in log if '"linked"' in line and gone.id in line]
    assert len(linked) == 1
    assert "court order 12/3" in linked[0]


def test_show_lists_the_follow_ups(bench: Bench, tmp_path: Path) -> None:
    me, witness = [bench.investigator.recipient], Witness()
    first = build(me, witness=witness)
    later = build(me, witness=witness, kind="follow_up", parent_id=first.id, answers=MORE)
    _import(bench, tmp_path / "a", first, later)
    shown = bench.run("show", first.id).stdout
    assert "Thread: replies and what the witness sent later" in shown
    assert f"{later.id}  follow-up" in shown


def test_show_lays_out_the_thread_of_replies_and_answers(bench: Bench, tmp_path: Path) -> None:
    me, witness = [bench.investigator.recipient], Witness()
    first = build(me, witness=witness)
    _import(bench, tmp_path / "a", first)
    asked = bench.run("reply", first.id, "Which street was it?")
    assert asked.exit_code == 0, asked.output
    reply_id = asked.stdout.split(":")[0]
    unanswered = bench.run("reply", first.id, "Were you alone?").stdout.split(":")[0]
    soon = datetime.now(UTC) + timedelta(minutes=1)  # answered after the replies were sealed
    answer = build(
        me, witness=witness, kind="follow_up", parent_id=first.id, answers=MORE,
        in_reply_to=reply_id, received_at=soon,
    )  # fmt: skip
    other = build(
        me, witness=witness, kind="follow_up", parent_id=first.id, answers=MORE, received_at=soon
    )
    _import(bench, tmp_path / "b", answer, other)
    for shown_id in (first.id, answer.id):  # a follow-up shows its testimony's thread
        shown = bench.run("show", shown_id).stdout
        lines = [line for line in shown.splitlines() if line.startswith("  20")]
        order = [next(w for w in line.split() if w[:2] in {"R-", "S-"}) for line in lines]
        assert order[:2] == [reply_id, unanswered]  # the replies came before the follow-ups
        assert sorted(order[2:]) == sorted([answer.id, other.id])
        assert f"{reply_id}  reply to {first.id}  (answered by {answer.id})" in shown
        assert f"{unanswered}  reply to {first.id}  (not answered)" in shown
        assert "'Which street was it?'" in shown
        assert f"{answer.id}  follow-up  answers {reply_id}" in shown
        assert f"{other.id}  follow-up  files 0" in shown


def test_an_answer_filed_under_another_testimony_is_found(bench: Bench, tmp_path: Path) -> None:
    me, witness = [bench.investigator.recipient], Witness()
    first, second = build(me, witness=witness), build(me, witness=witness)
    _import(bench, tmp_path / "a", first, second)
    # A site before the fix let the witness pick their other testimony in the answer's form.
    reply_id, answer = _answered(bench, tmp_path / "b", witness, first.id, second.id)
    shown = bench.run("show", first.id).stdout
    assert f"{reply_id}  reply to {first.id}  (answered by {answer.id})" in shown
    assert f"{answer.id}  follow-up  answers {reply_id} (about {first.id})" in (
        bench.run("show", second.id).stdout
    )


def test_an_answer_to_a_reply_not_sent_to_the_witness_is_flagged(
    bench: Bench, tmp_path: Path
) -> None:
    me, witness, other = [bench.investigator.recipient], Witness(), Witness()
    first, theirs = build(me, witness=witness), build(me, witness=other)
    _import(bench, tmp_path / "a", first, theirs)
    foreign = bench.run("reply", theirs.id, "Which street was it?").stdout.split(":")[0]
    made_up = str(new_reply_id())
    forged, unknown = (
        build(
            me, witness=witness, kind="follow_up", parent_id=first.id, answers=MORE, in_reply_to=rid
        )
        for rid in (foreign, made_up)
    )
    out = _import(bench, tmp_path / "b", forged, unknown)
    for sub, rid in ((forged, foreign), (unknown, made_up)):
        assert f"warning: {sub.id}: in_reply_to names {rid}, a reply" in out
        log = (bench.root / "custody.jsonl").read_text(encoding="utf-8").splitlines()
        decrypted = [json.loads(line) for line in log if '"decrypted"' in line and sub.id in line]
        assert decrypted[0]["details"]["unknown_reply"] == rid
    shown = bench.run("show", first.id).stdout
    assert f"{forged.id}  follow-up  answers an unknown reply {foreign}" in shown
    assert f"{unknown.id}  follow-up  answers an unknown reply {made_up}" in shown
    assert f"(answered by {forged.id})" not in bench.run("show", theirs.id).stdout
    assert "(not answered)" in bench.run("show", theirs.id).stdout


def test_an_answer_to_a_reply_about_a_follow_up_is_not_about_another_testimony(
    bench: Bench, tmp_path: Path
) -> None:
    me, witness = [bench.investigator.recipient], Witness()
    first = build(me, witness=witness)
    more = build(me, witness=witness, kind="follow_up", parent_id=first.id, answers=MORE)
    _import(bench, tmp_path / "a", first, more)
    # The site files an answer under the testimony its reply's submission belongs to.
    reply_id, answer = _answered(bench, tmp_path / "b", witness, more.id, first.id)
    shown = bench.run("show", first.id).stdout
    assert f"{reply_id}  reply to {more.id}  (answered by {answer.id})" in shown
    assert f"{answer.id}  follow-up  answers {reply_id}  files 0" in shown


def test_a_follow_up_sent_with_another_reply_key_than_its_testimony_is_flagged(
    bench: Bench, tmp_path: Path
) -> None:
    # A database writer can let one witness add to another's testimony (witness_id moved):
    # the sealed follow-up then carries its sender's reply key, not the testimony's.
    me, victim, other = [bench.investigator.recipient], Witness(), Witness()
    first, second = build(me, witness=victim), build(me, witness=victim)
    _import(bench, tmp_path / "a", first)
    later, same_bundle = (
        build(me, witness=other, kind="follow_up", parent_id=parent.id, answers=MORE)
        for parent in (first, second)
    )
    out = _import(bench, tmp_path / "b", later, second, same_bundle)
    log = (bench.root / "custody.jsonl").read_text(encoding="utf-8").splitlines()
    for sub, parent in ((later, first), (same_bundle, second)):
        assert f"warning: {sub.id}: sent with another reply key than {parent.id}" in out
        decrypted = [json.loads(line) for line in log if '"decrypted"' in line and sub.id in line]
        assert decrypted[0]["details"]["parent_reply_key"] == victim.recipient
        shown = bench.run("show", parent.id).stdout
        assert f"{sub.id}  follow-up  from another reply key than {parent.id}" in shown


def test_keygen_refuses_a_weak_passphrase_and_says_why(runner: CliRunner, tmp_path: Path) -> None:
    secret = tmp_path / "pass.txt"
    for weak, why in (
        ("hunter2", "it has 7 characters; at least 15"),
        ("ab" * 10, "it uses only 2 different characters; at least 6"),
    ):
        secret.write_text(weak + "\n")
        made = run_triage(
            runner, "keygen", "-o", str(tmp_path / weak[:3]), "--passphrase-file", str(secret)
        )
        assert made.exit_code == ExitCode.KEY
        assert f"triage: error: passphrase too weak: {why}" in made.stderr
        assert not (tmp_path / weak[:3]).exists()


def test_reply_help_and_needs_info_say_a_reply_waits_in_the_account(bench: Bench) -> None:
    help_text = " ".join(bench.cli("reply", "--help").stdout.split())
    assert "waits, sealed, in the witness's account" in help_text
    assert "not contact by phone, mail" in help_text
