"""`triage rewrap --sign-with`: after a rotation the bundle is signed by the new key, named in
`signed_by`, while the files are opened with the old identity."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from crypto.minisign import VerifyKey
from protocol.bundle import open_bundle
from protocol.errors import ProtocolError
from tests.triage.factory import build, export_bundle
from tests.triage.workbench import Bench, Investigator, run_triage
from triage.errors import ExitCode


@dataclass(frozen=True)
class NewKeys:
    """The investigator's new key set, made by `triage keygen` with a passphrase of its own."""

    identity: Path
    passphrase_file: Path
    recipient: str
    fingerprint: str

    @property
    def signing_key(self) -> Path:
        return self.identity.with_name(self.identity.name + ".minisign.key")

    def verify_key(self) -> VerifyKey:
        pub = self.identity.with_name(self.identity.name + ".minisign.pub")
        return VerifyKey.parse(pub.read_text(encoding="ascii"))


@pytest.fixture
def new_keys(tmp_path: Path, runner: CliRunner) -> NewKeys:
    keydir = tmp_path / "keys-new"
    keydir.mkdir(mode=0o700)
    secret = keydir / "passphrase.txt"
    secret.write_text("a different passphrase for the new keys\n")
    identity = keydir / "olena-2025.age"
    made = run_triage(runner, "keygen", "-o", str(identity), "--passphrase-file", str(secret))
    assert made.exit_code == 0, made.output
    lines = dict(line.split(": ", 1) for line in made.stdout.splitlines() if ": " in line)
    return NewKeys(identity, secret, lines["recipient"], lines["fingerprint"])


@pytest.fixture
def imported(bench: Bench, tmp_path: Path) -> Bench:
    built = build([bench.investigator.recipient])
    assert bench.run("import", str(export_bundle(tmp_path / "export", [built]))).exit_code == 0
    return bench


def _old_vk(investigator: Investigator) -> VerifyKey:
    pub = investigator.identity.with_name(investigator.identity.name + ".minisign.pub")
    return VerifyKey.parse(pub.read_text(encoding="ascii"))


def _meta(bundle: Path, key: VerifyKey) -> dict[str, Any]:
    with open_bundle(bundle, expect_kind="rewrap", verify_keys=[key]) as reader:
        return dict(reader.manifest.meta)


Rewrap = Callable[..., Result]


@pytest.fixture
def rewrap(imported: Bench, new_keys: NewKeys, tmp_path: Path) -> Rewrap:
    def run(*extra: str) -> Result:
        out = tmp_path / "rewrap.bundle"
        out.unlink(missing_ok=True)
        return imported.run("rewrap", "--to", new_keys.recipient, "--out", str(out), *extra)

    return run


def test_signs_with_the_new_key_and_names_it(
    imported: Bench, new_keys: NewKeys, rewrap: Rewrap, tmp_path: Path
):
    result = rewrap(
        "-i", str(imported.investigator.identity),
        "--sign-with", str(new_keys.signing_key),
        "--sign-passphrase-file", str(new_keys.passphrase_file),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    key_id = new_keys.verify_key().key_id_hex
    assert f"signed with: minisign key {key_id} ({new_keys.signing_key}, of " in result.stdout
    meta = _meta(tmp_path / "rewrap.bundle", new_keys.verify_key())
    assert meta["signed_by"] == new_keys.fingerprint
    assert meta["recipients"] == [new_keys.fingerprint]
    with pytest.raises(ProtocolError) as refused:
        _meta(tmp_path / "rewrap.bundle", _old_vk(imported.investigator))
    assert refused.value.category == "signature"
    # The custody log is still signed by the workspace's own key, so it still verifies.
    assert imported.run("log", "verify").exit_code == 0


def test_by_default_the_key_beside_the_identity_signs_with_a_warning(
    imported: Bench, rewrap: Rewrap, tmp_path: Path
):
    result = rewrap()
    assert result.exit_code == 0, result.output
    old = imported.investigator
    meta = _meta(tmp_path / "rewrap.bundle", _old_vk(old))
    assert meta["signed_by"] == old.fingerprint
    assert result.stderr.startswith(
        f"triage: warning: the bundle is signed by {old.fingerprint}, which is not among the "
        "new recipients"
    )
    assert "--sign-with NEW.minisign.key" in result.stderr


def test_a_key_without_an_identity_beside_it_leaves_signed_by_out(
    new_keys: NewKeys, rewrap: Rewrap, tmp_path: Path
):
    loose = tmp_path / "release-signing.key"
    shutil.copy(new_keys.signing_key, loose)
    pf = str(new_keys.passphrase_file)
    result = rewrap("--sign-with", str(loose), "--sign-passphrase-file", pf)
    assert result.exit_code == 0, result.output
    assert "signed_by" not in _meta(tmp_path / "rewrap.bundle", new_keys.verify_key())
    assert f"({loose})\n" in result.stdout
    assert result.stderr == ""


def test_a_wrong_passphrase_for_the_signing_key(
    imported: Bench, new_keys: NewKeys, rewrap: Rewrap, tmp_path: Path
):
    # --passphrase-file is the old identity's; the new key has a passphrase of its own.
    old_pf = str(imported.investigator.passphrase_file)
    result = rewrap("--sign-with", str(new_keys.signing_key), "--sign-passphrase-file", old_pf)
    assert result.exit_code == ExitCode.KEY
    assert result.stderr.startswith(f"triage: error: wrong passphrase for {new_keys.signing_key}")
    assert not (tmp_path / "rewrap.bundle").exists()


def test_sign_passphrase_file_needs_sign_with(new_keys: NewKeys, rewrap: Rewrap, tmp_path: Path):
    result = rewrap("--sign-passphrase-file", str(new_keys.passphrase_file))
    assert result.exit_code == ExitCode.USAGE
    assert "--sign-passphrase-file is only for the key given with --sign-with" in result.stderr
    assert not (tmp_path / "rewrap.bundle").exists()
