"""`intake export` and `triage import` killed half-way (SIGKILL, the real CLIs): running them again
completes the work with no duplicate and no loss, and every file still opens to what was sent."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from intake.models import Submission, SubmissionState
from tests.reliability.client import FilePart, Witness
from tests.reliability.harness import Grep, Installation, InvestigatorKey, install, run
from tests.reliability.live import LiveServer

MIB = 1024 * 1024
FILE_MIB = 24
TRIAGE = Path(sys.executable).with_name("triage")
SAMPLES: list[bytes] = []  # a piece of each file's plaintext, to look for on disk


def _plaintext_on_disk(*roots: Path) -> list[Path]:
    return [hit for sample in SAMPLES for hit in Grep(sample).hits(*roots)]


@pytest.fixture
def key(tmp_path: Path) -> InvestigatorKey:
    return InvestigatorKey.triage_keygen(tmp_path)


@pytest.fixture
def site(tmp_path: Path, key: InvestigatorKey) -> Iterator[tuple[Installation, LiveServer]]:
    installation = install(tmp_path / "site", key=key)
    live = LiveServer(installation)
    try:
        yield installation, live.start()
    finally:
        live.stop()


def _big(i: int) -> tuple[FilePart, str]:
    block = os.urandom(MIB)
    SAMPLES.append(block[1000:1064])

    def chunks() -> Iterator[bytes]:
        return (block for _ in range(FILE_MIB))

    digest = hashlib.sha256(b"".join(chunks())).hexdigest()
    return FilePart(f"group{i % 3 + 1}-files", f"video-{i}.mp4", FILE_MIB * MIB, chunks), digest


def _kill_when(
    proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float = 60
) -> None:
    """SIGSTOP the moment `ready()` holds (so it cannot finish meanwhile), then SIGKILL; the
    process is killed whatever happens."""
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert proc.poll() is None, "it finished before it could be interrupted"
            assert time.monotonic() < deadline, "it never got half-way"
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGSTOP)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _bytes_under(root: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in root.glob(pattern) if p.is_file())


def _states(installation: Installation) -> dict[str, SubmissionState]:
    engine = installation.engine()
    try:
        with engine.connect() as conn:
            return {
                sid: state for sid, state in conn.execute(select(Submission.id, Submission.state))
            }
    finally:
        engine.dispose()


def test_export_and_import_killed_half_way_complete_on_the_next_run(
    tmp_path: Path, key: InvestigatorKey, site: tuple[Installation, LiveServer]
) -> None:
    installation, server = site
    SAMPLES.clear()
    sent = [_big(i) for i in range(3)]
    refs = sorted(Witness(server.port).submit([part]).reference() for part, _ in sent)
    env = installation.env
    out = tmp_path / "usb"
    out.mkdir()
    bundle = out / "export.bundle"

    export = [str(Path(sys.executable).with_name("intake")), "export", "--out", str(bundle)]
    proc = subprocess.Popen(export, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _kill_when(proc, lambda: _bytes_under(out, ".export.bundle.*") > 8 * MIB)
    assert not bundle.exists()  # never a half bundle under the final name
    assert _plaintext_on_disk(out, installation.root) == []
    assert set(_states(installation).values()) == {SubmissionState.STORED}  # nothing marked
    left = list(out.glob(".export.bundle.*.tmp"))
    assert left
    assert {p.stat().st_mode & 0o777 for p in left} == {0o600}  # private meanwhile
    assert "exported 3 submission(s) with 3 file(s)" in run(export, env)
    assert list(out.glob("*.tmp")) == []  # the rerun removed what the killed one left
    assert set(_states(installation).values()) == {SubmissionState.EXPORTED}
    again = [*export[:-1], str(out / "again.bundle")]
    assert run(again, env).startswith("nothing to export")  # no duplicate export

    workspace = tmp_path / "ws"
    run([str(TRIAGE), "init", str(workspace), "-i", str(key.identity_file)], os.environ)
    imp = [str(TRIAGE), "import", str(bundle), "-w", str(workspace)]
    proc = subprocess.Popen(imp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _kill_when(proc, lambda: _bytes_under(workspace, "**/*") > 30 * MIB)
    assert _plaintext_on_disk(workspace) == []
    staged = workspace / "tmp"
    assert list(staged.glob("import-*")) != []  # the killed import's sealed items
    assert "imported: 3 new, 0 already in the workspace" in run(imp, os.environ)
    assert list(staged.iterdir()) == []  # removed by the rerun, its own too
    assert "imported: 0 new, 3 already in the workspace" in run(imp, os.environ)

    listed = run([str(TRIAGE), "list", "--json", "-w", str(workspace)], os.environ)
    rows = [json.loads(line) for line in listed.splitlines() if line.strip()]
    assert sorted(row["id"] for row in rows) == refs
    for ref in refs:
        target = tmp_path / "opened" / ref
        run([str(TRIAGE), "extract", ref, "--to", str(target), "-w", str(workspace)], os.environ)
        opened = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in target.iterdir()}
        assert len(opened) == 1
        assert next(iter(opened.values())) in {digest for _, digest in sent}
