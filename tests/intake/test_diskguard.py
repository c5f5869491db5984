"""The free-disk ledger: reservations add up across holders, are released, and die with a worker."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from intake.diskguard import HEADROOM_BYTES, DiskReservations, sealed_bound
from intake.errors import DiskFullError

MIB = 1024 * 1024


def _fits_once(ledger: DiskReservations, slack: int) -> int:
    """A length whose reservation leaves `slack` bytes of the disk's real free space."""
    free = shutil.disk_usage(ledger.directory.parent).free
    return (free - slack - HEADROOM_BYTES) * 2048 // 2049


def test_two_reservations_that_fit_alone_do_not_fit_together(tmp_path: Path) -> None:
    ledger = DiskReservations(tmp_path / "reserve")
    first = _fits_once(ledger, slack=4 * MIB)
    with ledger.reserve(first):
        assert ledger.held_bytes() == sealed_bound(first)
        with pytest.raises(DiskFullError), ledger.reserve(8 * MIB):
            pytest.fail("a second reservation beyond the free space was admitted")
        with ledger.reserve(1024):  # a small one still fits beside it
            assert ledger.held_bytes() == sealed_bound(first) + sealed_bound(1024)
    assert ledger.held_bytes() == 0  # released on the way out
    with ledger.reserve(8 * MIB):  # and the space is there again
        pass
    assert [p.name for p in ledger.directory.iterdir()] == [".lock"]


def test_a_failed_block_releases_its_reservation(tmp_path: Path) -> None:
    ledger = DiskReservations(tmp_path / "reserve")
    with pytest.raises(RuntimeError), ledger.reserve(MIB):
        raise RuntimeError("the upload failed")
    assert ledger.held_bytes() == 0


def test_a_killed_workers_reservation_is_not_counted(tmp_path: Path) -> None:
    directory = tmp_path / "reserve"
    holder = subprocess.Popen(  # another worker process holding a reservation
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from intake.diskguard import DiskReservations as D\n"
            f"with D(Path({str(directory)!r})).reserve(5 * 2**20):\n"
            "    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        ledger = DiskReservations(directory)
        assert ledger.held_bytes() == sealed_bound(5 * MIB)  # seen from this process
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert ledger.held_bytes() == 0  # the kernel dropped its lock: stale, removed
    assert [p.name for p in directory.iterdir()] == [".lock"]
