"""Structured fuzzing of bundles: hostile tar headers, hostile manifests, hostile part splits."""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto.minisign import sign
from protocol.bundle import open_bundle
from protocol.errors import ProtocolError
from protocol.manifest import MANIFEST_NAME, SIGNATURE_NAME
from tests.fuzz import fixups, seeds, targets
from tests.fuzz.strategies import FUZZ, LARGE_REPR, json_mutants, mutants, watchdog

pytestmark = LARGE_REPR

_FIELD_EDITS = st.lists(
    st.tuples(
        st.integers(0, 7),
        st.sampled_from(sorted(fixups.TAR_FIELDS)).flatmap(
            lambda field: st.tuples(st.just(field), st.sampled_from(fixups.TAR_VALUES[field]))
        ),
    ),
    min_size=1,
    max_size=3,
)


@FUZZ
@given(data=st.data(), edits=_FIELD_EDITS)
def test_hostile_tar_header_fields(
    data: st.DataObject,
    edits: list[tuple[int, tuple[str, bytes]]],
    fuzz_targets: dict[str, targets.Target],
) -> None:
    target = fuzz_targets["bundle"]
    seeds_or_mutants = st.sampled_from(target.seeds) | mutants(target.seeds, max_ops=2)
    sample = data.draw(seeds_or_mutants, label="input")
    for member, (field, value) in edits:
        sample = fixups.set_tar_field(sample, member, field, value)
    with watchdog():
        target.run(sample)


def _members(bundle: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(bundle)) as tar:
        found = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    return json.loads(found.pop(MANIFEST_NAME)), found


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, body in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(body), 0o600
            tar.addfile(info, io.BytesIO(body))
    return out.getvalue()


def _rebuilt(doc: Any, items: dict[str, bytes], keys: seeds.Keys) -> bytes:
    """A well-formed tar around a hostile manifest: signed if it says ack, items as listed."""
    manifest = json.dumps(doc).encode("utf-8", "surrogatepass")
    members = [(MANIFEST_NAME, manifest)]
    if isinstance(doc, dict) and doc.get("kind") == "ack":
        members.append((SIGNATURE_NAME, sign(manifest, keys.signing, trusted_comment="t").encode()))
    listed = doc.get("items") if isinstance(doc, dict) else None
    for entry in listed if isinstance(listed, list) else []:
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name.isascii() and 0 < len(name) < 100:
            members.append((name, items.get(name, b"?")))
    return _tar(members)


@pytest.fixture(scope="module")
def unpacked(
    fuzz_targets: dict[str, targets.Target],
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """The seed bundles' manifests, and every item by name."""
    parsed = [_members(seed) for seed in fuzz_targets["bundle"].seeds]
    items = {name: body for _, found in parsed for name, body in found.items()}
    return [manifest for manifest, _ in parsed], items


@FUZZ
@given(data=st.data())
def test_hostile_manifests_in_well_formed_bundles(
    data: st.DataObject,
    fuzz_targets: dict[str, targets.Target],
    fuzz_keys: seeds.Keys,
    unpacked: tuple[list[dict[str, Any]], dict[str, bytes]],
) -> None:
    manifests, items = unpacked
    doc = data.draw(json_mutants(manifests), label="manifest")
    with watchdog():
        fuzz_targets["bundle"].run(_rebuilt(doc, items, fuzz_keys))


@FUZZ
@given(data=st.data(), cuts=st.lists(st.integers(0, 1 << 16), max_size=3), mutate=st.booleans())
def test_split_bundles_read_as_one(
    data: st.DataObject,
    cuts: list[int],
    mutate: bool,
    fuzz_targets: dict[str, targets.Target],
    fuzz_keys: seeds.Keys,
) -> None:
    # A bundle cut anywhere into BUNDLE.part001, part002 ...: the parts read as the whole.
    target = fuzz_targets["bundle"]
    seed = data.draw(st.sampled_from(target.seeds), label="seed")
    sample = data.draw(mutants([seed], target.tokens), label="input") if mutate else seed
    kind = _members(seed)[0]["kind"]
    bounds = sorted({0, len(sample), *(cut % (len(sample) + 1) for cut in cuts)})
    with tempfile.TemporaryDirectory() as tmp, watchdog():
        base = Path(tmp) / "b.bundle"
        for number, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False), start=1):
            base.with_name(f"b.bundle.part{number:03d}").write_bytes(sample[start:end])
        try:
            with open_bundle(base, expect_kind=kind, verify_keys=[fuzz_keys.verify_key]) as reader:
                read = [item.read_all(1 << 20) for item in reader.items()]
        except ProtocolError:
            assert mutate, "an intact bundle, split, was refused"
        else:
            assert len(read) == len(reader.manifest.items)
