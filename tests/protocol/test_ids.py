"""Random ids: shape, canonical spelling, and refusal of anything else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import ProtocolError
from protocol.ids import (
    crockford_decode,
    crockford_encode,
    new_blob_name,
    new_reply_id,
    new_submission_id,
    new_witness_id,
    parse_blob_name,
    parse_reply_id,
    parse_submission_id,
    parse_witness_id,
)


def test_new_ids_have_their_shape_and_parse_to_themselves() -> None:
    sid, wid, rid = new_submission_id(), new_witness_id(), new_reply_id()
    assert sid.startswith("S-")
    assert len(sid) == 18
    assert wid.startswith("W-")
    assert rid.startswith("R-")
    assert parse_submission_id(sid) == sid
    assert parse_witness_id(wid) == wid
    assert parse_reply_id(rid) == rid
    assert len({new_submission_id() for _ in range(200)}) == 200


def test_typed_ids_are_canonicalised() -> None:
    sid = new_submission_id()
    assert parse_submission_id(f" {sid.lower()} ") == sid
    sloppy = "S-" + sid[2:].replace("0", "o").replace("1", "l")
    assert parse_submission_id(sloppy) == sid


@pytest.mark.parametrize(
    "text",
    [
        "",
        "S-",
        "S-123",
        "X-0123456789ABCDEF",
        "S-0123456789ABCDEU",
        "S0123456789ABCDEFG",
        "S-0123456789ABCDE\u0131",
        "S-0123456789ABCDEF0",
        "W-0123456789ABCDEF",
    ],
)
def test_malformed_submission_ids_are_refused(text: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_submission_id(text)
    assert info.value.category == "schema"


def test_kinds_do_not_mix() -> None:
    with pytest.raises(ProtocolError):
        parse_witness_id(new_submission_id())
    with pytest.raises(ProtocolError):
        parse_reply_id(new_witness_id())


def test_blob_names() -> None:
    name = new_blob_name()
    assert parse_blob_name(name) == name
    assert len(name) == 32
    for bad in [name.upper(), name[:-1], name + "0", "../" + name[3:], name[:31] + "g"]:
        with pytest.raises(ProtocolError):
            parse_blob_name(bad)


@given(st.binary(min_size=5, max_size=40).filter(lambda b: len(b) % 5 == 0))
def test_crockford_round_trip(data: bytes) -> None:
    assert crockford_decode(crockford_encode(data)) == data


def test_crockford_encode_needs_whole_groups() -> None:
    with pytest.raises(ValueError, match="multiple of 5"):
        crockford_encode(b"abcd")
