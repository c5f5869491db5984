"""`python -m intake.demo`: an idempotent demo install with a loudly labelled demo key."""

from __future__ import annotations

import stat
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

    for name in ("demo-investigator.key", "demo-investigator.minisign.key", "secret_key"):
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
    secret = SigningKey.from_file_text((data_dir / "demo-investigator.minisign.key").read_text())
    assert signer.verify_key == secret.verify_key()
    public = VerifyKey.parse((data_dir / "demo-investigator.minisign.pub").read_text())
    assert public == secret.verify_key()
