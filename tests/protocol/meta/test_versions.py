"""The version rule: each side reads the current version of a kind and the one before, and
refuses anything else with an UnsupportedVersionError naming the kind and the version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from protocol.errors import UnsupportedVersionError
from protocol.manifest import CURRENT_VERSIONS, Manifest, readable_versions
from protocol.meta.ack import AckMeta

GOLDEN = Path(__file__).resolve().parents[3] / "docs" / "bundles"


def test_readers_take_the_current_version_and_the_one_before() -> None:
    for kind, current in CURRENT_VERSIONS.items():
        assert readable_versions(kind) == tuple(v for v in (current - 1, current) if v >= 1)


@pytest.mark.parametrize("kind", sorted(CURRENT_VERSIONS))
@pytest.mark.parametrize("offset", [1, -2])
def test_a_version_outside_the_rule_is_refused_by_name(kind: str, offset: int) -> None:
    doc = json.loads((GOLDEN / f"{kind}.v1.json").read_text(encoding="utf-8"))
    doc["version"] = CURRENT_VERSIONS[kind] + offset
    with pytest.raises(UnsupportedVersionError) as info:
        Manifest.from_bytes(json.dumps(doc).encode())
    assert info.value.category == "unsupported_version"
    assert (info.value.kind, info.value.version) == (kind, doc["version"])
    assert f"{kind} bundle version {doc['version']} is not one this side reads" in str(info.value)


@pytest.mark.parametrize("version", ["1", True, None, 1.0])
def test_a_version_that_is_not_an_integer_is_refused(version: object) -> None:
    doc = json.loads((GOLDEN / "ack.v1.json").read_text(encoding="utf-8"))
    doc["version"] = version
    with pytest.raises(UnsupportedVersionError):
        Manifest.from_bytes(json.dumps(doc).encode())


def test_a_meta_parser_refuses_a_version_it_does_not_read() -> None:
    doc = json.loads((GOLDEN / "ack.v1.json").read_text(encoding="utf-8"))
    with pytest.raises(UnsupportedVersionError, match="ack bundle version 9"):
        AckMeta.parse(doc["meta"], version=9)
