"""The export meta: what the server writes parses back; a crafted export is refused whole."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from protocol.errors import ProtocolError
from protocol.manifest import ItemEntry, Manifest
from protocol.meta.export import ExportMeta

GOLDEN = Path(__file__).resolve().parents[3] / "docs" / "bundles"


def _doc(version: int = 2) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((GOLDEN / f"export.v{version}.json").read_text("utf-8"))
    return doc


def _manifest(doc: dict[str, Any]) -> Manifest:
    return Manifest.from_bytes(json.dumps(doc).encode())


def _refused(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ProtocolError, match=message) as info:
        ExportMeta.from_manifest(_manifest(doc))
    assert info.value.category == "schema"


def test_the_golden_export_lists_each_item_with_its_owner() -> None:
    meta = ExportMeta.from_manifest(_manifest(_doc()))
    first, second = meta.submissions
    assert second.parent_id == first.submission_id
    assert dict(meta.items())[first.files[0].item] == first.files[0].sealed_sha256
    assert meta.get(second.submission_id) is second
    assert meta.get("S-0000000000000000") is None


def test_one_blob_in_two_submissions_is_refused() -> None:
    doc = _doc()
    first, second = doc["meta"]["submissions"]
    second["files"] = [copy.deepcopy(first["files"][0])]
    _refused(doc, "is listed by S-1B2C3D4E5F6G7H8J and again by S-9K8M7N6P5Q4R3S2T")


def test_a_submission_json_that_is_also_a_file_is_refused() -> None:
    doc = _doc()
    first, second = doc["meta"]["submissions"]
    second["manifest_blob"] = first["files"][1]["blob_name"]
    _refused(doc, "is listed by S-1B2C3D4E5F6G7H8J and again")


def test_one_submission_twice_is_refused() -> None:
    doc = _doc()
    doc["meta"]["submissions"].append(copy.deepcopy(doc["meta"]["submissions"][0]))
    _refused(doc, "a submission is listed twice")


def test_an_item_the_meta_does_not_describe_is_refused() -> None:
    doc = _doc()
    doc["items"].append(ItemEntry("blobs/" + "e" * 32, 1, "0" * 64).to_dict())
    _refused(doc, "the items and the meta disagree")


def test_a_hash_other_than_the_manifest_s_is_refused() -> None:
    doc = _doc()
    doc["meta"]["submissions"][0]["files"][0]["sealed_sha256"] = "0" * 64
    _refused(doc, "is not the manifest's")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "gift"}, "kind of S-1B2C3D4E5F6G7H8J is not one of"),
        ({"parent_id": "S-9K8M7N6P5Q4R3S2T"}, "a testimony has no parent_id"),
        ({"received_on": "30.11.2026"}, "is not a YYYY-MM-DD day"),
        ({"witness_id": "S-1B2C3D4E5F6G7H8J"}, "is not a witness id"),
        ({"witness_reply_recipient": "age1xyz"}, "is not an age recipient"),
        ({"reply_recipient": "age1xyz"}, "exactly the keys"),
        ({"files": {}}, "files must be a list"),
    ],
)
def test_fields_out_of_shape_are_refused(change: dict[str, Any], message: str) -> None:
    doc = _doc()
    doc["meta"]["submissions"][0] |= change
    _refused(doc, message)


def test_the_loose_spellings_triage_once_took_are_refused() -> None:
    """A mapping by id (not a list): the shape triage's old reader accepted and docs never did."""
    doc = _doc()
    doc["meta"]["submissions"] = {s["submission_id"]: s for s in doc["meta"]["submissions"]}
    _refused(doc, "submissions must be a list")


def test_version_2_carries_the_server_s_keyring() -> None:
    meta = ExportMeta.from_manifest(_manifest(_doc()))
    assert [(k.name, k.state) for k in meta.keyring] == [
        ("Olena (OPG)", "active"),
        ("Taras (newsroom)", "active"),
        ("Olena, key of 2025", "retired"),
    ]


def test_version_1_is_still_read_without_a_keyring() -> None:
    meta = ExportMeta.from_manifest(_manifest(_doc(1)))
    assert meta.keyring == ()
    assert len(meta.submissions) == 2
    assert "keyring" in meta.to_meta()  # what this side writes is the current version


def test_each_version_has_exactly_its_own_keys() -> None:
    without = _doc()
    del without["meta"]["keyring"]
    _refused(without, "export meta must be an object with exactly the keys")
    with_one = _doc(1)
    with_one["meta"]["keyring"] = []
    _refused(with_one, "export meta must be an object with exactly the keys")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"state": "lost"}, "or its state unknown"),
        ({"name": "x" * 201}, "name is over 200 characters"),
        ({"recipient": "age1nope"}, "is not an age recipient"),
        ({"fingerprint": "SHA256:x"}, "exactly the keys"),
    ],
)
def test_a_keyring_key_out_of_shape_is_refused(change: dict[str, Any], message: str) -> None:
    doc = _doc()
    doc["meta"]["keyring"][0] |= change
    _refused(doc, message)


def test_one_recipient_twice_in_the_keyring_is_refused() -> None:
    doc = _doc()
    doc["meta"]["keyring"].append(copy.deepcopy(doc["meta"]["keyring"][0]))
    _refused(doc, "a keyring recipient is listed twice")
