"""The golden example of every bundle kind and version parses, round-trips, and is what
docs/bundles.md quotes, word for word."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from protocol.manifest import CURRENT_VERSIONS, Manifest, readable_versions
from protocol.meta.ack import AckMeta
from protocol.meta.export import ExportMeta
from protocol.meta.replies import RepliesMeta
from protocol.meta.rewrap import RewrapMeta

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "docs" / "bundles"
DOC = ROOT / "docs" / "bundles.md"
PARSERS: dict[str, Any] = {
    "export": ExportMeta,
    "ack": AckMeta,
    "replies": RepliesMeta,
    "rewrap": RewrapMeta,
}
_QUOTED = re.compile(
    r"<!-- golden: (docs/bundles/[a-z]+\.v[0-9]+\.json) -->\n```json\n(.*?)```", re.S
)


def _goldens() -> list[Path]:
    return sorted(GOLDEN.glob("*.json"))


def test_every_kind_has_a_golden_file_for_each_version_it_reads() -> None:
    found = {path.name for path in _goldens()}
    wanted = {f"{kind}.v{v}.json" for kind in CURRENT_VERSIONS for v in readable_versions(kind)}
    assert found == wanted


@pytest.mark.parametrize("path", _goldens(), ids=lambda p: p.name)
def test_a_golden_file_parses_and_the_current_one_round_trips(path: Path) -> None:
    manifest = Manifest.from_bytes(path.read_bytes())
    assert path.name == f"{manifest.kind}.v{manifest.version}.json"
    meta = PARSERS[manifest.kind].from_manifest(manifest)
    if manifest.version == CURRENT_VERSIONS[manifest.kind]:  # to_meta() writes the current one
        assert meta.to_meta() == json.loads(path.read_text(encoding="utf-8"))["meta"]


def test_the_docs_version_table_is_the_code_s() -> None:
    rows = re.findall(r"^\| `([a-z]+)` \| ([0-9]+) \| ([0-9, ]+) \|$", DOC.read_text(), re.M)
    table = {kind: (int(written), read) for kind, written, read in rows}
    assert table == {
        kind: (CURRENT_VERSIONS[kind], ", ".join(map(str, readable_versions(kind))))
        for kind in CURRENT_VERSIONS
    }


def test_docs_quote_every_golden_file_exactly() -> None:
    quoted = dict(_QUOTED.findall(DOC.read_text(encoding="utf-8")))
    assert set(quoted) == {f"docs/bundles/{path.name}" for path in _goldens()}
    for name, text in quoted.items():
        assert text == (ROOT / name).read_text(encoding="utf-8"), name
