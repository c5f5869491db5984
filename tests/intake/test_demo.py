"""`python -m intake.demo`: an idempotent demo install with a loudly labelled demo key."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from crypto.age import open_bytes, seal_bytes
from crypto.keyfile import read_identities
from crypto.minisign import SigningKey, VerifyKey
from intake.app import build_services
from intake.config import load_config
from intake.demo import DEMO_KEY_NAME, demo_environ, main


def test_demo_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "demo"
    assert main(["--data-dir", str(data_dir)]) == 0
    assert "DEMO ONLY" in capsys.readouterr().err
    assert main(["--data-dir", str(data_dir)]) == 0

    for name in ("demo-investigator.key", "demo-investigator.key.minisign.key", "secret_key"):
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name
    services = build_services(load_config(demo_environ(data_dir)))
    try:
        [key] = services.keyring.list_keys()
        [recipient] = services.keyring.active_recipients()
        [signer] = services.keyring.signing_keys()
    finally:
        services.engine.dispose()
    assert key.name == DEMO_KEY_NAME
    identities = read_identities(data_dir / "demo-investigator.key")
    assert open_bytes(seal_bytes(b"hello", [recipient]), identities) == b"hello"
    secret = SigningKey.from_file_text(
        (data_dir / "demo-investigator.key.minisign.key").read_text()
    )
    assert signer.verify_key == secret.verify_key()
    public = VerifyKey.parse((data_dir / "demo-investigator.key.minisign.pub").read_text())
    assert public == secret.verify_key()


def test_the_demo_key_opens_a_workspace_with_triage_init_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "demo"
    assert main(["--data-dir", str(data_dir)]) == 0
    identity = data_dir / "demo-investigator.key"
    assert f"triage init WORKSPACE -i {identity}" in capsys.readouterr().err
    triage = Path(sys.executable).parent / "triage"
    done = subprocess.run(
        [str(triage), "init", str(tmp_path / "ws"), "-i", str(identity)],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"workspace: {tmp_path / 'ws'}" in done.stdout


def test_a_demo_made_before_keeps_its_signing_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    assert main(["--data-dir", str(data_dir)]) == 0
    before = (data_dir / "demo-investigator.key.minisign.pub").read_text()
    for suffix in ("key", "pub"):  # the names the demo used to write
        (data_dir / f"demo-investigator.key.minisign.{suffix}").rename(
            data_dir / f"demo-investigator.minisign.{suffix}"
        )
    assert main(["--data-dir", str(data_dir)]) == 0
    assert (data_dir / "demo-investigator.key.minisign.pub").read_text() == before
    assert not (data_dir / "demo-investigator.minisign.key").exists()
