"""The sealed submission.json: round trips, kind rules, and refusal of malformed documents."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.x25519 import X25519Identity
from protocol.errors import ProtocolError
from protocol.fields import GROUP_FIELDS
from protocol.ids import new_blob_name, new_reply_id, new_submission_id
from protocol.schema import (
    READ_VERSIONS,
    SCHEMA_VERSION,
    Answers,
    ConsentChange,
    FileEntry,
    Submission,
)

RECIPIENT = str(X25519Identity.generate().recipient())
WHEN = datetime(2025, 6, 1, 12, 34, 56, tzinfo=UTC)


def _file(group: int = 1, **group_answers: object) -> FileEntry:
    return FileEntry(
        blob_name=new_blob_name(),
        sealed_sha256=hashlib.sha256(b"sealed").hexdigest(),
        plaintext_sha256=hashlib.sha256(b"plain").hexdigest(),
        size=5,
        declared_type="video/mp4",
        original_name="VID_2024-11-12 ёжик.mp4",
        group=group,
        group_answers=Answers.parse(
            group_answers or {"C2": "drone video", "C10": "yes"}, GROUP_FIELDS
        ),
    )


def _testimony(**answers: object) -> Submission:
    base: dict[str, object] = {
        "A3": True,
        "A4": ["investigators", "icc-otp"],
        "B1": "Я бачив, як їх вивели з підвалу.",
        "B3": ["captives-killed", "not-sure"],
        "B4_date": "2024-11",
        "B4_precision": "month",
        "B6_oblast": "UA-23",
        "B6_lat": 47.5,
        "B6_lon": 35.1,
        "B7_min": 2,
        "B7_max": 6,
        "B8_callsigns": ["Arta", "Арта"],
        "D2": "prefer-not-to-say",
        "D3": False,
    }
    base.update(answers)
    return Submission(
        kind="testimony",
        submission_id=new_submission_id(),
        form_version="2025.1",
        ui_language="uk",
        received_at=WHEN,
        parent_id=None,
        witness_reply_recipient=RECIPIENT,
        answers=Answers.parse(base),
        files=(_file(1), _file(2, C3="me", C4="original")),
    )


def test_testimony_round_trips_through_canonical_json() -> None:
    submission = _testimony()
    data = submission.to_json()
    assert data.endswith(b"\n")
    assert b" " not in data.split(b'"B1"')[0]
    parsed = Submission.from_json(data)
    assert parsed == submission
    assert parsed.to_json() == data
    assert parsed.answers.codes("B3") == ("captives-killed", "not-sure")
    assert parsed.answers.text("B1") == "Я бачив, як їх вивели з підвалу."
    assert parsed.files[1].group_answers.values["C4"] == "original"
    assert parsed.received_at == WHEN


def test_follow_up_and_consent_change() -> None:
    parent = _testimony().submission_id
    follow = Submission(
        kind="follow_up",
        submission_id=new_submission_id(),
        form_version="2025.1",
        ui_language="en",
        received_at=WHEN,
        parent_id=parent,
        witness_reply_recipient=RECIPIENT,
        answers=Answers.parse({}),
        files=(_file(),),
    )
    assert Submission.from_json(follow.to_json()) == follow
    for change in (ConsentChange("withdraw"), ConsentChange("narrow", ("investigators",))):
        doc = Submission(
            kind="consent_change",
            submission_id=new_submission_id(),
            form_version="2025.1",
            ui_language="ru",
            received_at=WHEN,
            parent_id=None,
            witness_reply_recipient=RECIPIENT,
            answers=Answers.parse({}),
            consent_change=change,
        )
        assert Submission.from_json(doc.to_json()).consent_change == change


def _mutated(edit: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(_testimony().to_json())
    edit(doc)
    return doc


def _set(path: str, value: object) -> Any:
    def edit(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value

    return edit


_DELETE = object()

MALFORMED = {
    "unknown kind": _set("kind", "rumour"),
    "extra key": _set("ip_address", "127.0.0.1"),
    "missing key": _set("files", _DELETE),
    "bad id": _set("submission_id", "S-123"),
    "lower-case id": _set("submission_id", "s-0123456789abcdef"),
    "testimony with parent": _set("parent_id", "S-0123456789ABCDEF"),
    "no consent gate": _set("answers.A3", False),
    "no recipients": _set("answers.A4", []),
    "recipient not a code": _set("answers.A4", ["everyone"]),
    "non-answer as recipient": _set("answers.A4", ["dont-know"]),
    "empty account": _set("answers.B1", "   "),
    "unknown incident": _set("answers.B3", ["war"]),
    "repeated incident": _set("answers.B3", ["torture", "torture"]),
    "unknown field": _set("answers.Z9", "x"),
    "text as number": _set("answers.B7_min", "2"),
    "bool as count": _set("answers.B7_min", True),
    "min above max": _set("answers.B7_min", 9),
    "latitude": _set("answers.B6_lat", 91),
    "bad date": _set("answers.B4_date", "12/11/2024"),
    "bad time": _set("answers.B5_from", "25:00"),
    "unknown oblast": _set("answers.B6_oblast", "RU-ZAP"),
    "NUL in text": _set("answers.B9", "a\x00b"),
    "local time": _set("received_at", "2025-06-01T12:34:56+02:00"),
    "impossible time": _set("received_at", "2025-02-30T12:34:56Z"),
    "bad recipient": _set("witness_reply_recipient", "age1notakey"),
    "bad language": _set("ui_language", "de"),
    "bad form version": _set("form_version", "../../x"),
    "negative size": _set("files.0.size", -1),
    "bad blob": _set("files.0.blob_name", "../etc/passwd"),
    "bad hash": _set("files.0.sealed_sha256", "00"),
    "group four": _set("files.0.group", 4),
    "unknown group field": _set("files.0.group_answers.B1", "x"),
    "bad group code": _set("files.0.group_answers.C10", "maybe"),
    "files not list": _set("files", {}),
    "consent change in testimony": _set("consent_change", {"action": "withdraw", "recipients": []}),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_submission_is_a_schema_error(name: str) -> None:
    data = json.dumps(_mutated(MALFORMED[name])).encode()
    with pytest.raises(ProtocolError) as info:
        Submission.from_json(data)
    assert info.value.category == "schema", info.value


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[]",
        b"\xff\xfe{}",
        b'{"kind": "testimony", "kind": "follow_up"}',
        b'{"x": NaN}',
        b"[" * 100_000 + b"]" * 100_000,
        b"1" * 5000,
    ],
)
def test_garbage_json_is_a_schema_error(data: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        Submission.from_json(data)
    assert info.value.category == "schema"


def test_newer_schema_version_is_unsupported() -> None:
    doc = _mutated(_set("schema_version", 3))
    with pytest.raises(ProtocolError) as info:
        Submission.from_json(json.dumps(doc).encode())
    assert info.value.category == "unsupported_version"


def test_kind_rules_hold_for_direct_construction_too() -> None:
    base = _testimony()
    with pytest.raises(ProtocolError, match="parent"):
        Submission(**{**base.__dict__, "kind": "follow_up", "files": ()})
    with pytest.raises(ProtocolError, match="nothing else"):
        Submission(
            **{
                **base.__dict__,
                "kind": "consent_change",
                "consent_change": ConsentChange("withdraw"),
            }
        )
    with pytest.raises(ProtocolError, match="UTC"):
        Submission(**{**base.__dict__, "received_at": WHEN.replace(tzinfo=None)})
    with pytest.raises(ProtocolError, match="share a blob"):
        Submission(**{**base.__dict__, "files": (base.files[0], base.files[0])})
    with pytest.raises(ProtocolError, match="at least one"):
        ConsentChange("narrow")
    with pytest.raises(ProtocolError, match="no recipients"):
        ConsentChange("withdraw", ("icc-otp",))
    follow_doc = copy.deepcopy(json.loads(base.to_json()))
    follow_doc.update(kind="follow_up", parent_id=new_submission_id(), files=[])
    follow_doc["answers"] = {"B1": "more"}
    assert Submission.from_json(json.dumps(follow_doc).encode()).kind == "follow_up"
    follow_doc["answers"] = {"B1": "more", "B3": ["torture"]}
    with pytest.raises(ProtocolError):
        Submission.from_json(json.dumps(follow_doc).encode())


@settings(max_examples=50, deadline=None)
@given(
    account=st.text(min_size=1).filter(lambda t: t.strip() and "\x00" not in t),
    callsigns=st.lists(st.text(max_size=20).filter(lambda t: "\x00" not in t), unique=True),
    victims=st.integers(min_value=0, max_value=10**9),
)
def test_any_free_text_round_trips(account: str, callsigns: list[str], victims: int) -> None:
    submission = _testimony(B1=account, B8_callsigns=callsigns, B7_min=victims, B7_max=victims)
    assert Submission.from_json(submission.to_json()) == submission


GOLDEN = Path(__file__).resolve().parents[2] / "docs" / "submission"


@pytest.mark.parametrize("version", READ_VERSIONS)
def test_the_golden_document_of_each_version_read_parses_and_round_trips(version: int) -> None:
    data = (GOLDEN / f"submission.v{version}.json").read_bytes()
    parsed = Submission.from_json(data)
    assert parsed.schema_version == version
    assert parsed.to_json() == data
    assert {path.name for path in GOLDEN.iterdir()} == {
        f"submission.v{v}.json" for v in READ_VERSIONS
    }


def test_version_2_says_who_computed_each_hash_and_version_1_means_the_server() -> None:
    new = Submission.from_json((GOLDEN / "submission.v2.json").read_bytes())
    assert new.schema_version == SCHEMA_VERSION == 2
    assert [f.plaintext_sha256_by for f in new.files] == ["server", "browser"]
    old = Submission.from_json((GOLDEN / "submission.v1.json").read_bytes())
    assert [f.plaintext_sha256_by for f in old.files] == ["server"]
    with pytest.raises(ProtocolError, match="version 1 cannot say"):
        Submission(**{**new.__dict__, "schema_version": 1})
    doc = json.loads((GOLDEN / "submission.v1.json").read_bytes())
    doc["files"][0]["plaintext_sha256_by"] = "server"  # version 1 has no such key
    with pytest.raises(ProtocolError):
        Submission.parse(doc)
    doc = json.loads((GOLDEN / "submission.v2.json").read_bytes())
    doc["files"][1]["plaintext_sha256_by"] = "witness"
    with pytest.raises(ProtocolError, match="plaintext_sha256_by"):
        Submission.parse(doc)


def test_the_docs_say_which_submission_versions_are_written_and_read() -> None:
    doc = (GOLDEN.parent / "bundles.md").read_text(encoding="utf-8")
    row = f"| `submission.json` | {SCHEMA_VERSION} | {', '.join(map(str, READ_VERSIONS))} |"
    assert row in doc.splitlines()


def _answer(in_reply_to: str | None, **extra: object) -> Submission:
    fields: dict[str, Any] = {
        "kind": "follow_up",
        "submission_id": new_submission_id(),
        "form_version": "2025.1",
        "ui_language": "uk",
        "received_at": WHEN,
        "parent_id": new_submission_id(),
        "witness_reply_recipient": RECIPIENT,
        "answers": Answers.parse({"B1": "Yes, I can meet."}),
        "in_reply_to": in_reply_to,
    }
    return Submission(**{**fields, **extra})


def test_version_2_says_which_reply_a_follow_up_answers() -> None:
    golden = json.loads((GOLDEN / "submission.v2.json").read_bytes())
    assert golden["in_reply_to"] is None  # a testimony answers no reply, but says so
    reply = new_reply_id()
    answer = _answer(reply)
    doc = json.loads(answer.to_json())
    assert doc["in_reply_to"] == reply
    assert doc["schema_version"] == 2
    assert Submission.from_json(answer.to_json()) == answer
    assert json.loads(_answer(None).to_json())["in_reply_to"] is None


def test_in_reply_to_is_a_reply_id_on_a_follow_up_of_version_2_only() -> None:
    with pytest.raises(ProtocolError, match="reply"):
        _answer(new_submission_id())
    with pytest.raises(ProtocolError, match="only a follow-up"):
        _answer(new_reply_id(), kind="testimony", parent_id=None)
    with pytest.raises(ProtocolError, match="version 1 cannot answer"):
        _answer(new_reply_id(), schema_version=1)
    doc = json.loads(_answer(new_reply_id()).to_json())
    del doc["in_reply_to"]  # a v2 document sealed before the key was added reads as null
    assert Submission.parse(doc).in_reply_to is None
    doc = json.loads((GOLDEN / "submission.v1.json").read_bytes())
    doc["in_reply_to"] = None  # version 1 has no such key
    with pytest.raises(ProtocolError, match="exactly the keys"):
        Submission.parse(doc)
    doc = json.loads(_answer(None).to_json())
    doc["in_reply_to"] = 7
    with pytest.raises(ProtocolError, match="in_reply_to"):
        Submission.parse(doc)
