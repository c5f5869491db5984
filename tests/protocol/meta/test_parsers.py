"""The bundle meta parsers: everything docs/bundles.md allows parses, anything else is refused
with ProtocolError("schema") saying what was wrong."""

from __future__ import annotations

from typing import Any

import pytest

from crypto.keyfile import fingerprint
from crypto.x25519 import X25519Identity
from protocol.errors import ProtocolError
from protocol.meta.ack import AckMeta
from protocol.meta.replies import RepliesMeta
from protocol.meta.rewrap import RewrapMeta

SID = "S-0123456789ABCDEF"
SHA = "a" * 64
BLOB = "0" * 32
RECIPIENT = X25519Identity.generate().recipient()
FP = fingerprint(RECIPIENT)


def parse_ack_meta(meta: dict[str, Any]) -> tuple[Any, ...]:
    return AckMeta.parse(meta, version=1).submissions


def parse_replies_meta(meta: dict[str, Any]) -> Any:
    return RepliesMeta.parse(meta, version=1).replies


def _ack(**entry: Any) -> dict[str, Any]:
    items = [{"name": f"submissions/{SID}.json.age", "sha256": SHA}]
    base = {"submission_id": SID, "items": [*items, {"name": f"blobs/{BLOB}", "sha256": SHA}]}
    return {"submissions": [base | entry]}


def test_a_well_formed_ack_parses() -> None:
    export = {"manifest_sha256": SHA, "created": "2026-11-30"}
    info = {"acknowledged_by": FP, "signing_key_id": "AB", "export": export}
    (acked,) = parse_ack_meta(_ack() | info)
    assert acked.submission_id == SID
    assert dict(acked.items) == {f"blobs/{BLOB}": SHA, f"submissions/{SID}.json.age": SHA}


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({}, "ack meta must be an object"),
        ({"submissions": {}}, "submissions must be a list"),
        ({"submissions": []}, "acknowledges no submission"),
        (_ack(submission_id="s-0123456789abcdef"), "is not canonical"),
        (_ack(submission_id="W-0123456789ABCDEF"), "is not a submission id"),
        (_ack(submission_id=7), "is not a string"),
        (_ack(items=[{"name": f"blobs/{BLOB}", "sha256": "A" * 64}]), "lower-case SHA-256"),
        (_ack(items=[{"name": 1, "sha256": SHA}]), "item name is not a string"),
        (_ack(items=[{"name": f"blobs/{BLOB}", "sha256": SHA}] * 2), "is listed twice"),
        (_ack(items=[{"name": f"blobs/{BLOB}", "sha256": SHA}]), "does not name its submissions/"),
        (_ack(items=[{"name": "../../etc/passwd", "sha256": SHA}]), "is not an item of S-"),
        (_ack(items=[{"name": "ｂlobs/" + BLOB, "sha256": SHA}]), "is not an item of S-"),
        (_ack(items=[{"name": "x" * 100_000, "sha256": SHA}]), "is not an item of S-"),
        (
            _ack(items=[{"name": "submissions/S-1B2C3D4E5F6G7H8J.json.age", "sha256": SHA}]),
            "is not an item of S-",
        ),
        (_ack(extra=1), "exactly the keys"),
        ({"submissions": _ack()["submissions"] * 2}, "a submission is listed twice"),
        (_ack() | {"acknowledged_by": "SHA256:x"}, "is not a key fingerprint"),
        (_ack() | {"signing_key_id": "ab"}, "is not a minisign key id"),
        (_ack() | {"export": {}}, "export must be an object with exactly"),
        (_ack() | {"export": None}, "export must be an object with exactly"),
        (_ack() | {"export": {"manifest_sha256": SHA, "created": "2026-02-30"}}, "real day"),
    ],
)
def test_a_malformed_ack_is_refused(meta: dict[str, Any], message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_ack_meta(meta)


RID = "R-0123456789ABCDEF"


def _reply(rid: str = RID, **entry: Any) -> dict[str, Any]:
    base = {"witness_reply_recipient": str(RECIPIENT), "submission_id": SID}
    return {"replies": {rid: base | entry}, "signed_by": FP}


def test_well_formed_replies_parse() -> None:
    replies = parse_replies_meta(_reply())
    assert list(replies) == [f"replies/{RID}.age"]
    assert replies[f"replies/{RID}.age"].submission_id == SID


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (_reply(witness_reply_recipient="age1nope"), "is not an age recipient"),
        (_reply(witness_reply_recipient=str(RECIPIENT).upper()), "not an age recipient"),
        (_reply(witness_reply_recipient=None), "is not a string"),
        (_reply(rid=SID), "is not a reply id"),
        (_reply(rid=RID.lower()), "is not canonical"),
        ({"replies": []}, "replies must be an object"),
        (_reply() | {"extra": 1}, "exactly the keys"),
    ],
)
def test_malformed_replies_are_refused(meta: dict[str, Any], message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_replies_meta(meta)


def _header(**changes: Any) -> dict[str, Any]:
    return {
        "role": "attachment",
        "blob_name": BLOB,
        "submission_id": SID,
        "old_header_length": 120,
        "old_sealed_sha256": SHA,
        "new_sealed_sha256": SHA,
    } | changes


def _rewrap(item: str = f"headers/{BLOB}", **changes: Any) -> dict[str, Any]:
    return {
        "recipients": [fingerprint(RECIPIENT)],
        "recipient_keys": [str(RECIPIENT)],
        "headers": {item: _header(**changes)},
    }


def test_a_well_formed_rewrap_parses() -> None:
    meta = RewrapMeta.parse(_rewrap() | {"signed_by": FP}, version=1)
    assert meta.fingerprints == {fingerprint(RECIPIENT)}
    assert meta.headers[f"headers/{BLOB}"].old_header_length == 120


def test_a_submission_json_may_be_named_by_its_submission() -> None:
    item = f"headers/submissions/{SID}.json.age"
    meta = RewrapMeta.parse(_rewrap(item, role="submission", blob_name=None), version=1)
    assert meta.headers[item].blob_name is None


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (_rewrap() | {"recipient_keys": [], "recipients": []}, "declares no recipient"),
        (_rewrap() | {"recipients": ["SHA256:x"]}, "are not the fingerprints"),
        (_rewrap() | {"recipients": [1]}, "are not the fingerprints"),
        (
            _rewrap() | {"recipient_keys": [str(RECIPIENT)] * 2},
            "a recipient key is listed twice",
        ),
        (_rewrap(blob_name="../etc"), "is not a blob name"),
        (_rewrap(blob_name=3), "is not a string"),
        (_rewrap(role="other"), "neither submission nor attachment"),
        (_rewrap(blob_name=None), "names no blob"),
        (_rewrap("headers/" + "1" * 32), "should be named"),
        (_rewrap(old_header_length=0), "not a positive integer"),
        (_rewrap(old_header_length=True), "not a positive integer"),
        (_rewrap(new_sealed_sha256="x"), "lower-case SHA-256"),
        (_rewrap() | {"headers": []}, "headers must be an object"),
    ],
)
def test_a_malformed_rewrap_is_refused(meta: dict[str, Any], message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        RewrapMeta.parse(meta, version=1)
