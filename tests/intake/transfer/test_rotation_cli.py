"""The rotation runbook end to end, through both command lines (`triage` as its own process,
as on the laptop): one investigator replaces their key, re-wraps what the server holds with the
old identity and signs with the new key, and afterwards everything opens with the new identity
alone (docs/triage.md, "Rotating your own key").
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from crypto.age import open_bytes
from crypto.errors import NoIdentityMatchError
from crypto.keyfile import read_identities
from crypto.minisign import VerifyKey
from intake.app import build_services
from intake.cli import ExitCode
from intake.config import Config
from intake.context import Services
from intake.models import Blob
from protocol.bundle import open_bundle
from tests.intake.conftest import CliFixture
from tests.intake.transfer.site import Sent, submit

CODENAME = "amber basin cobalt dune ember fjord grove"
TRIAGE = Path(sys.executable).with_name("triage")  # .venv/bin/triage, the installed script


def _triage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TRIAGE), *args], capture_output=True, text=True, check=False)


def _triage_ok(*args: str) -> str:
    done = _triage(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _ok(cli: CliFixture, *args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    return result.output


@dataclass(frozen=True)
class Keys:
    """What `triage keygen --no-passphrase` made (the laptop is assumed encrypted at rest)."""

    identity: Path
    recipient: str
    fingerprint: str

    @property
    def signing_key(self) -> Path:
        return Path(f"{self.identity}.minisign.key")

    @property
    def pub(self) -> Path:
        return Path(f"{self.identity}.minisign.pub")

    def key_id(self) -> str:
        return VerifyKey.parse(self.pub.read_text(encoding="ascii")).key_id_hex


def _keygen(tmp_path: Path, name: str) -> Keys:
    identity = tmp_path / f"{name}.age"
    out = _triage_ok("keygen", "-o", str(identity), "--no-passphrase")
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    return Keys(identity, lines["recipient"], lines["fingerprint"])


@pytest.fixture
def site(config: Config, cli: CliFixture) -> Iterator[Services]:
    """The server after `intake init` (run through the CLI), as the witness site uses it."""
    assert "created data directory" in _ok(cli, "init")
    built = build_services(config)
    yield built
    built.engine.dispose()


@dataclass(frozen=True)
class Server:
    services: Services
    cli: CliFixture
    sent: Sent

    def stored(self) -> dict[str, bytes]:
        store = self.services.config.blob_dir / "blobs"
        with self.services.sessions() as session:
            names = list(session.scalars(select(Blob.name)))
        return {name: (store / name).read_bytes() for name in names}


def _before_rotation(site: Services, cli: CliFixture, old: Keys, tmp_path: Path) -> Server:
    """Olena's first key is registered, a witness submits, the laptop imports the export."""
    _ok(cli, "keys", "add", old.recipient, "--name", "Olena", "--signing-key", str(old.pub))
    sent = submit(site, CODENAME, [b"first file", b"second file"])
    _ok(cli, "export", "--out", str(tmp_path / "export"))
    ws = str(tmp_path / "ws")
    _triage_ok("init", ws, "-i", str(old.identity))
    imported = _triage_ok(
        "import", str(tmp_path / "export"), "-w", ws, "--ack", str(tmp_path / "ack")
    )
    assert "imported: 1 new" in imported
    return Server(site, cli, sent)


@pytest.mark.slow
def test_rotating_your_own_key(site: Services, cli: CliFixture, tmp_path: Path) -> None:
    old, new = _keygen(tmp_path, "olena"), _keygen(tmp_path, "olena-2025")
    server = _before_rotation(site, cli, old, tmp_path)
    ws = str(tmp_path / "ws")

    rotated = _ok(
        cli, "keys", "rotate", old.fingerprint, new.recipient,
        "--name", "Olena 2025", "--signing-key", str(new.pub),
    )  # fmt: skip
    assert "stored blobs stay sealed to the retired key until re-wrapped" in rotated
    _signed_with_the_old_key_is_refused(server, old, new, tmp_path)

    # The runbook: open with the old identity, sign with the new key.
    made = _triage_ok(
        "rewrap", "-w", ws, "-i", str(old.identity), "--sign-with", str(new.signing_key),
        "--to", new.recipient, "--out", str(tmp_path / "rewrap"),
    )  # fmt: skip
    assert f"signed with: minisign key {new.key_id()}" in made
    listed = json.loads(_ok(cli, "keys", "list", "--json"))
    active = [k for k in listed if k["status"] == "active"]
    assert [k["signing_key_id"] for k in active] == [new.key_id()]
    with open_bundle(
        tmp_path / "rewrap",
        expect_kind="rewrap",
        verify_keys=[VerifyKey.parse(new.pub.read_text(encoding="ascii"))],
    ) as reader:
        assert reader.manifest.meta["signed_by"] == new.fingerprint
    applied = _ok(cli, "keys", "apply-rewrap", str(tmp_path / "rewrap"))
    assert "re-wrapped 3 blob(s) of 1 submission(s) to 1 key(s); signed by Olena 2025" in applied
    assert "retired key" not in applied
    assert _triage_ok("log", "verify", "-w", ws)

    _everything_opens_with_the_new_identity_alone(server, new, old, tmp_path)


def _signed_with_the_old_key_is_refused(
    server: Server, old: Keys, new: Keys, tmp_path: Path
) -> None:
    """Without --sign-with, the key beside the old identity signs: triage warns (it cannot know
    the server's keyring), and the server refuses the retired key, changing nothing."""
    before = server.stored()
    stale = _triage(
        "rewrap", "-w", str(tmp_path / "ws"), "-i", str(old.identity),
        "--to", new.recipient, "--out", str(tmp_path / "stale"),
    )  # fmt: skip
    assert stale.returncode == 0, stale.stderr
    assert f"triage: warning: the bundle is signed by {old.fingerprint}" in stale.stderr
    refused = server.cli("keys", "apply-rewrap", str(tmp_path / "stale"))
    assert refused.exit_code == ExitCode.BUNDLE
    assert "signed by the retired key" in refused.stderr
    assert server.stored() == before


def _everything_opens_with_the_new_identity_alone(
    server: Server, new: Keys, old: Keys, tmp_path: Path
) -> None:
    stored = server.stored()
    assert len(stored) == 3
    for data in stored.values():
        open_bytes(data, read_identities(new.identity))
        with pytest.raises(NoIdentityMatchError):
            open_bytes(data, read_identities(old.identity))
    listed = json.loads(_ok(server.cli, "keys", "list", "--json"))
    assert {k["fingerprint"]: k["sealed_blobs"] for k in listed} == {
        old.fingerprint: 0,
        new.fingerprint: 3,
    }

    # A new workspace that knows only the new identity imports a fresh export, verifies every
    # file and acknowledges it with the new key; the server then purges it.
    _ok(server.cli, "export", "--all", "--out", str(tmp_path / "export-2"))
    ws = str(tmp_path / "ws-new")
    _triage_ok("init", ws, "-i", str(new.identity))
    imported = _triage_ok(
        "import", str(tmp_path / "export-2"), "-w", ws, "--ack", str(tmp_path / "ack-2")
    )
    assert "imported: 1 new" in imported
    assert "NOT VERIFIED" not in imported
    sid = server.sent.submission_id
    assert sid in _triage_ok("show", sid, "-w", ws)
    purged = _ok(server.cli, "purge", "--ack", str(tmp_path / "ack-2"))
    assert "purged 1 submission(s): 3 blob(s)" in purged
    assert server.stored() == {}
