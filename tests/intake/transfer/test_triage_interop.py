"""The real `triage` program (run as a separate process, as on the laptop) against `intake`:
every bundle one side writes, the other accepts, exactly as docs/bundles.md says.

export → `triage import` (ack) → rotate → `triage rewrap` → apply → purge with the ack →
`triage reply` + `triage replies export` → import → the witness reads the reply on the site.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from crypto.age import open_bytes
from crypto.errors import NoIdentityMatchError
from crypto.keyfile import read_identities
from intake.context import Services
from intake.models import Blob
from tests.intake.conftest import CliFixture
from tests.intake.transfer.site import browser_login, submit

CODENAME = "amber basin cobalt dune ember fjord grove"


def _triage(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "triage", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@dataclass(frozen=True)
class Keys:
    """What `triage keygen --no-passphrase` made (the laptop is assumed encrypted at rest)."""

    identity: Path
    recipient: str

    @property
    def pub(self) -> Path:
        return Path(f"{self.identity}.minisign.pub")


def _keygen(tmp_path: Path, name: str) -> Keys:
    identity = tmp_path / f"{name}.age"
    out = _triage("keygen", "-o", str(identity), "--no-passphrase")
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    return Keys(identity, lines["recipient"])


def _ok(cli: CliFixture, *args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    return result.output


@pytest.mark.slow
def test_triage_and_intake_speak_the_same_bundles(
    services: Services, cli: CliFixture, tmp_path: Path
) -> None:
    old, new = _keygen(tmp_path, "old"), _keygen(tmp_path, "new")
    _ok(cli, "keys", "add", old.recipient, "--name", "Olena", "--signing-key", str(old.pub))
    sent = submit(services, CODENAME, [b"first file", b"second file"])
    _ok(cli, "export", "--out", str(tmp_path / "export"))

    ws = str(tmp_path / "ws")
    _triage("init", ws, "-i", str(old.identity))
    _triage("import", str(tmp_path / "export"), "-w", ws, "--ack", str(tmp_path / "ack"))

    # The new key keeps the investigator's minisign key: `triage rewrap -i OLD` signs with the
    # key beside the old identity, and the server takes signatures of active keys only.
    fingerprint = services.keyring.list_keys()[0].fingerprint
    _ok(
        cli, "keys", "rotate", fingerprint, new.recipient,
        "--name", "Olena 2", "--signing-key", str(old.pub),
    )  # fmt: skip
    _triage("rewrap", "--to", new.recipient, "--out", str(tmp_path / "rewrap"), "-w", ws)
    assert "re-wrapped 3 blob(s) of 1 submission(s)" in _ok(
        cli, "keys", "apply-rewrap", str(tmp_path / "rewrap")
    )
    stored = services.config.blob_dir / "blobs"
    with services.sessions() as session:
        names = list(session.scalars(select(Blob.name)))
    for name in names:
        data = (stored / name).read_bytes()
        open_bytes(data, read_identities(new.identity))
        with pytest.raises(NoIdentityMatchError):
            open_bytes(data, read_identities(old.identity))

    assert "purged 1 submission(s): 3 blob(s)" in _ok(cli, "purge", "--ack", str(tmp_path / "ack"))
    assert list(stored.iterdir()) == []

    _triage("reply", sent.submission_id, "we read it, thank you", "-w", ws)
    _triage("replies", "export", "-w", ws, "--out", str(tmp_path / "replies"))
    _ok(cli, "replies", "import", str(tmp_path / "replies"))
    page = browser_login(services, CODENAME)
    assert "we read it, thank you" in page
    assert "Delivered to investigators" in page
