"""Structured fuzzing of submission.json: any JSON value, and valid documents with edits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import ProtocolError
from protocol.schema import Submission
from tests.fuzz import oracles, seeds
from tests.fuzz.strategies import FUZZ, LARGE_REPR, json_mutants, json_values, watchdog

pytestmark = LARGE_REPR


def _parse(doc: Any) -> None:
    """Parse a decoded document and its JSON text: refused with ProtocolError, or sound."""
    with watchdog():
        for parse, value in ((Submission.parse, doc), (Submission.from_json, _dumps(doc))):
            try:
                submission = parse(value)
            except ProtocolError:
                continue
            oracles.check_submission(submission)


@pytest.fixture(scope="module")
def documents(fuzz_keys: seeds.Keys) -> list[Any]:
    return [submission.to_dict() for submission in seeds.submissions(fuzz_keys)]


def _dumps(doc: Any) -> bytes:
    return json.dumps(doc).encode("ascii")


@FUZZ
@given(doc=json_values(20))
def test_any_json_value(doc: Any) -> None:
    _parse(doc)


@FUZZ
@given(data=st.data())
def test_valid_documents_with_a_few_edits(data: st.DataObject, documents: list[Any]) -> None:
    _parse(data.draw(json_mutants(documents), label="document"))
