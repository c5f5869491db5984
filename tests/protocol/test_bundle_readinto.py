"""ItemReader.readinto: small caller buffers across split parts, verified like read()."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from protocol.bundle import MIN_PART_SIZE, ItemSource, open_bundle, write_bundle
from protocol.errors import ProtocolError

DAY = date(2025, 6, 1)


def _read_with_small_buffer(path: Path) -> dict[str, bytes]:
    got: dict[str, bytes] = {}
    with open_bundle(path, expect_kind="export") as reader:
        for item in reader.items():
            buffer = bytearray(777)  # smaller than a tar block and than a part
            pieces = []
            while count := item.readinto(buffer):
                pieces.append(bytes(buffer[:count]))
            assert item.verified
            got[item.entry.name] = b"".join(pieces)
    return got


def test_readinto_across_split_parts(tmp_path: Path) -> None:
    blobs = {f"blobs/{i:032x}": os.urandom(9_000 + i) for i in range(4)}
    out = tmp_path / "b"
    written = write_bundle(
        out,
        "export",
        [ItemSource.from_bytes(name, data) for name, data in blobs.items()],
        created=DAY,
        max_part_size=MIN_PART_SIZE,
    )
    assert len(written) > 2
    assert {k: v for k, v in _read_with_small_buffer(out).items() if k in blobs} == blobs


def test_readinto_refuses_a_truncated_item(tmp_path: Path) -> None:
    out = tmp_path / "b"
    write_bundle(out, "export", [ItemSource.from_bytes("blobs/" + "a" * 32, os.urandom(50_000))])
    out.write_bytes(out.read_bytes()[:30_000])
    with pytest.raises(ProtocolError, match="truncated"):
        _read_with_small_buffer(out)
