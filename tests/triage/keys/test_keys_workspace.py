"""keygen and init: key files, passphrases, and the private workspace rule."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner

from crypto.keyfile import read_identities
from crypto.minisign import SigningKey, VerifyKey, sign, verify
from tests.triage.workbench import PASSPHRASE, Bench, Investigator, run_triage
from triage.cli import triage
from triage.errors import ExitCode


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_keygen_writes_three_files_and_prints_the_public_parts(investigator: Investigator):
    identity = investigator.identity
    signing = identity.with_name(identity.name + ".minisign.key")
    public = identity.with_name(identity.name + ".minisign.pub")
    assert (_mode(identity), _mode(signing), _mode(public)) == (0o600, 0o600, 0o644)
    assert identity.read_bytes().startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    assert "AGE-SECRET-KEY" not in identity.read_text()
    opened = read_identities(identity, passphrase_cb=PASSPHRASE.encode)
    assert str(opened[0].recipient()) == investigator.recipient
    key = SigningKey.from_file_text(signing.read_text(), PASSPHRASE.encode())
    vk = VerifyKey.parse(public.read_text())
    assert verify(sign(b"x", key, trusted_comment="t"), b"x", vk) == "t"
    assert investigator.fingerprint.startswith("SHA256:")


def test_keygen_never_overwrites(runner: CliRunner, investigator: Investigator):
    before = investigator.identity.read_bytes()
    pf = str(investigator.passphrase_file)
    result = runner.invoke(
        triage,
        ["keygen", "-o", str(investigator.identity), "--passphrase-file", pf],
    )
    assert result.exit_code == ExitCode.IO
    assert "already exists" in result.stderr
    assert investigator.identity.read_bytes() == before


def test_no_passphrase_must_be_asked_for(runner: CliRunner, tmp_path: Path):
    result = run_triage(runner, "keygen", "-o", str(tmp_path / "k"), "--no-passphrase")
    assert result.exit_code == 0, result.output
    assert "AGE-SECRET-KEY-1" in (tmp_path / "k").read_text()
    assert "unprotected" in result.stdout


def test_wrong_passphrase_is_refused(runner: CliRunner, investigator: Investigator, tmp_path: Path):
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not it\n")
    result = runner.invoke(
        triage,
        [
            "init",
            str(tmp_path / "ws"),
            "-i",
            str(investigator.identity),
            "--passphrase-file",
            str(wrong),
        ],
    )
    assert result.exit_code == ExitCode.KEY
    assert "triage: error: wrong passphrase for" in result.stderr
    assert not (tmp_path / "ws").exists()


def test_init_makes_a_private_workspace_that_remembers_the_identity(bench: Bench):
    assert _mode(bench.root) == 0o700
    config = json.loads((bench.root / "workspace.json").read_text())
    assert config["identity"] == str(bench.investigator.identity.resolve())
    assert config["fingerprint"] == bench.investigator.fingerprint
    assert _mode(bench.root / "triage.sqlite") == 0o600


def test_init_refuses_a_directory_others_can_read(
    runner: CliRunner, investigator: Investigator, tmp_path: Path
):
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    args = [
        "init",
        str(loose),
        "-i",
        str(investigator.identity),
        "--passphrase-file",
        str(investigator.passphrase_file),
    ]
    result = run_triage(runner, *args)
    assert result.exit_code == ExitCode.FAILURE
    assert "can be read by other users (mode 0755)" in result.stderr
    assert "chmod 700" in result.stderr


def test_commands_refuse_a_workspace_that_became_readable(bench: Bench):
    bench.root.chmod(0o750)
    result = bench.run("list")
    assert result.exit_code == ExitCode.FAILURE
    assert "can be read by other users" in result.stderr


def test_workspace_from_the_environment(runner: CliRunner, bench: Bench):
    result = run_triage(runner, "list", env={"TRIAGE_WORKSPACE": str(bench.root)})
    assert result.exit_code == 0
    assert "0 of 0 shown" in result.stdout


def test_missing_workspace_says_how_to_give_one(runner: CliRunner, monkeypatch):
    monkeypatch.delenv("TRIAGE_WORKSPACE", raising=False)
    result = run_triage(runner, "list")
    assert result.exit_code == ExitCode.USAGE
    assert "triage: hint: pass --workspace DIR or set TRIAGE_WORKSPACE" in result.stderr
