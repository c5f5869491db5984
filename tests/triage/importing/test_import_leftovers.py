"""A killed import's or case export's staging directories go at the next run; one at a time."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from tests.triage.factory import FileSpec, build, export_bundle
from tests.triage.workbench import Bench


def _leftovers(bench: Bench) -> tuple[Path, Path, Path]:
    """What killed runs leave in tmp/ (an import's sealed items, a case export's opened files),
    and a neighbour that is no staging directory and must stay."""
    tmp = bench.root / "tmp"
    stale = tmp / "import-k1lled"
    (stale / "sub").mkdir(parents=True)
    (stale / "0123.age").write_bytes(b"sealed item")
    (stale / "sub" / "S-1.json.age").write_bytes(b"sealed json")
    other = tmp / "case-k1lled"
    other.mkdir()
    (other / "f").write_bytes(b"opened testimony")
    not_a_dir = tmp / "import-notes.txt"
    not_a_dir.write_bytes(b"keep")
    return stale, other, not_a_dir


def test_next_import_removes_stale_staging_directories(bench: Bench, tmp_path: Path):
    stale, other, not_a_dir = _leftovers(bench)
    bundle = export_bundle(tmp_path / "export.bundle", [build([bench.investigator.recipient])])
    result = bench.run("import", str(bundle))
    assert result.exit_code == 0, result.output
    assert "imported: 1 new, 0 already in the workspace" in result.stdout
    assert not stale.exists()
    assert [p.name for p in (bench.root / "tmp").glob("import-*") if p.is_dir()] == []
    assert not other.exists()  # a killed case export's plaintext goes too
    assert not_a_dir.read_bytes() == b"keep"


def test_import_refused_while_another_holds_the_workspace_lock(bench: Bench, tmp_path: Path):
    stale, _, _ = _leftovers(bench)
    bundle = export_bundle(
        tmp_path / "b", [build([bench.investigator.recipient], files=[FileSpec(b"x")])]
    )
    lock = bench.root / "lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)  # as a running import holds it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        busy = bench.run("import", str(bundle))
    finally:
        os.close(fd)
    assert busy.exit_code == 1
    assert (
        "triage: error: another 'triage import' or 'triage case export' is running in this "
        "workspace" in busy.stderr
    )
    assert stale.is_dir()  # perhaps that import's own staging: never cleaned without the lock
    assert "imported: 1 new" not in busy.stdout

    done = bench.run("import", str(bundle))
    assert done.exit_code == 0, done.output
    assert "imported: 1 new, 0 already in the workspace" in done.stdout
    assert not stale.exists()
    assert oct(lock.stat().st_mode & 0o777) == oct(0o600)
