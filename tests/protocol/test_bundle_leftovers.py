"""What a killed write leaves beside a bundle: private temp parts, removed by the next write."""

from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path

import pytest

from protocol._parts import remove_stale_temps
from protocol.bundle import MIN_PART_SIZE, ItemSource, open_bundle, write_bundle

DAY = date(2025, 6, 1)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_temp_parts_are_private_whatever_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "export.bundle"
    seen: dict[str, int] = {}

    def look(_size: int) -> None:
        # Called mid-write: the parts written so far are still under their temp names.
        seen.update({p.name: _mode(p) for p in tmp_path.glob(".export.bundle.*.tmp")})

    old = os.umask(0o022)
    try:
        items = [
            ItemSource.from_bytes(f"item-{n}", os.urandom(3 * MIN_PART_SIZE)) for n in range(3)
        ]
        parts = write_bundle(
            out, "export", items, created=DAY, max_part_size=MIN_PART_SIZE, progress=look
        )
    finally:
        os.umask(old)
    assert len(seen) > 1
    assert set(seen.values()) == {0o600}
    assert {_mode(p) for p in parts} == {0o600}  # renamed, not copied: still private


def test_next_write_removes_stale_temp_parts_of_its_own_target_only(tmp_path: Path) -> None:
    stale = [tmp_path / f".export.bundle.0badc0de.{n}.tmp" for n in (1, 2, 10)]
    stale.append(tmp_path / ".export.bundle.12345678.1.tmp")
    others = [
        ".export.bundle.x.0badc0de.1.tmp",  # the temp of another target, export.bundle.x
        ".other.bundle.0badc0de.1.tmp",
        ".export.bundle.0badc0de.1.tmp.keep",
        ".export.bundle.0BADC0DE.1.tmp",  # not a tag this writer makes
        ".export.bundle.0badc0de.tmp",
        "export.bundle.0badc0de.1.tmp",
        ".export.bundle.notes",
    ]
    for path in stale:
        path.write_bytes(b"ciphertext from a killed export")
    for name in others:
        (tmp_path / name).write_bytes(b"keep me")
    (tmp_path / ".export.bundle.0badc0de.3.tmp").mkdir()  # not a file: not ours either

    out = tmp_path / "export.bundle"
    assert write_bundle(out, "export", [ItemSource.from_bytes("a", b"x")], created=DAY) == [out]

    assert not any(path.exists() for path in stale)
    assert all((tmp_path / name).read_bytes() == b"keep me" for name in others)
    assert (tmp_path / ".export.bundle.0badc0de.3.tmp").is_dir()
    with open_bundle(out, expect_kind="export") as reader:
        assert [item.read_all(10) for item in reader.items()] == [b"x"]


def test_a_refused_write_removes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "export.bundle"
    out.write_bytes(b"an earlier bundle")
    stale = tmp_path / ".export.bundle.0badc0de.1.tmp"
    stale.write_bytes(b"left over")
    with pytest.raises(FileExistsError):
        write_bundle(out, "export", [ItemSource.from_bytes("a", b"x")], created=DAY)
    assert stale.exists()
    assert out.read_bytes() == b"an earlier bundle"


def test_a_write_whose_temps_another_write_removed_refuses_to_finish(tmp_path: Path) -> None:
    out = tmp_path / "export.bundle"

    def cleanup(_size: int) -> None:
        # What a second write to the same name does first, done while this one is half-way.
        remove_stale_temps(out)

    items = [ItemSource.from_bytes("a", os.urandom(2 * MIN_PART_SIZE))]
    with pytest.raises(FileExistsError, match="another write to .* is under way"):
        write_bundle(
            out, "export", items, created=DAY, max_part_size=MIN_PART_SIZE, progress=cleanup
        )
    assert list(tmp_path.iterdir()) == []
