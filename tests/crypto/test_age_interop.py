"""Interoperability with the real age and age-keygen binaries, in both directions."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from crypto.age import Sealer, open_bytes, open_stream, open_to_file, seal_bytes
from crypto.errors import NoIdentityMatchError
from crypto.keyfile import read_identities, write_identity_file
from crypto.scrypt import ScryptIdentity, ScryptRecipient
from crypto.x25519 import X25519Identity
from tests.crypto._pty import run_with_tty
from tests.crypto.conftest import FAST_LOG_N, AgeKey

SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536 + 7]
PASSPHRASE = b"interop passphrase"


def age_decrypt(age_bin: str, key: Path, sealed: bytes) -> bytes:
    result = subprocess.run(
        [age_bin, "-d", "-i", str(key)], input=sealed, capture_output=True, check=True
    )
    return result.stdout


@pytest.mark.parametrize("armor", [False, True], ids=["binary", "armored"])
@pytest.mark.parametrize("size", SIZES)
def test_we_seal_age_opens(age_bin: str, age_key: AgeKey, size: int, armor: bool) -> None:
    data = os.urandom(size)
    sealed = seal_bytes(data, [age_key.identity.recipient()], armor=armor)
    assert age_decrypt(age_bin, age_key.path, sealed) == data


@pytest.mark.parametrize("armor", [False, True], ids=["binary", "armored"])
@pytest.mark.parametrize("size", SIZES)
def test_age_seals_we_open(age_bin: str, age_key: AgeKey, size: int, armor: bool) -> None:
    data = os.urandom(size)
    command = [age_bin, "-e", "-r", age_key.recipient, *(["-a"] if armor else [])]
    sealed = subprocess.run(command, input=data, capture_output=True, check=True).stdout
    assert open_bytes(sealed, [age_key.identity]) == data


def test_several_recipients_both_ways(age_bin: str, age_key: AgeKey, tmp_path: Path) -> None:
    ours = X25519Identity.generate()
    third = X25519Identity.generate()
    recipients = [third.recipient(), age_key.identity.recipient(), ours.recipient()]
    data = os.urandom(100_000)
    sealed = seal_bytes(data, recipients)
    assert age_decrypt(age_bin, age_key.path, sealed) == data
    assert open_bytes(sealed, [ours]) == data
    command = [age_bin, "-e", "-r", str(third.recipient()), "-r", age_key.recipient]
    command += ["-r", str(ours.recipient())]
    by_age = subprocess.run(command, input=data, capture_output=True, check=True).stdout
    assert open_bytes(by_age, [ours]) == data
    assert open_bytes(by_age, [X25519Identity.generate(), third]) == data
    with pytest.raises(NoIdentityMatchError):
        open_bytes(by_age, [X25519Identity.generate()])


def test_age_keygen_identity_files_both_ways(
    age_bin: str, age_keygen_bin: str, age_key: AgeKey, tmp_path: Path
) -> None:
    ours = tmp_path / "ours.txt"
    write_identity_file(ours, X25519Identity.generate())
    (identity,) = read_identities(ours)
    sealed = seal_bytes(b"ours", [identity.recipient()])
    assert age_decrypt(age_bin, ours, sealed) == b"ours"
    (theirs,) = read_identities(age_key.path)
    assert open_bytes(seal_bytes(b"x", [theirs.recipient()]), [age_key.identity]) == b"x"


def test_we_seal_to_a_passphrase_age_opens(age_bin: str, tmp_path: Path) -> None:
    sealed = tmp_path / "secret.age"
    sealed.write_bytes(seal_bytes(b"by passphrase", [ScryptRecipient(PASSPHRASE, FAST_LOG_N)]))
    out = tmp_path / "secret.txt"
    status, _ = run_with_tty([age_bin, "-d", "-o", str(out), str(sealed)], [PASSPHRASE])
    assert status == 0
    assert out.read_bytes() == b"by passphrase"


def test_our_protected_identity_file_opens_in_age(age_bin: str, tmp_path: Path) -> None:
    identity = X25519Identity.generate()
    key = tmp_path / "key.age"
    write_identity_file(key, identity, passphrase=PASSPHRASE, log_n=FAST_LOG_N)
    sealed = tmp_path / "file.age"
    sealed.write_bytes(seal_bytes(b"opened by age", [identity.recipient()]))
    out = tmp_path / "file.txt"
    argv = [age_bin, "-d", "-i", str(key), "-o", str(out), str(sealed)]
    status, screen = run_with_tty(argv, [PASSPHRASE])
    assert status == 0, screen
    assert b"identity file" in screen  # age recognised it as a protected identity file
    assert out.read_bytes() == b"opened by age"


def test_identity_file_protected_by_age_p(age_bin: str, age_key: AgeKey, tmp_path: Path) -> None:
    """`age -p` seals with age's default work factor (2^18): the one costly scrypt we run."""
    protected = tmp_path / "key.age"
    argv = [age_bin, "-p", "-o", str(protected), str(age_key.path)]
    status, screen = run_with_tty(argv, [PASSPHRASE, PASSPHRASE])
    assert status == 0, screen
    assert b" 18\n" in protected.read_bytes().split(b"\n---")[0] + b"\n"
    (identity,) = read_identities(protected, passphrase_cb=lambda: PASSPHRASE)
    assert identity == age_key.identity


def test_armored_passphrase_file_from_us_opens_with_our_identity() -> None:
    sealed = seal_bytes(b"p", [ScryptRecipient(PASSPHRASE, FAST_LOG_N)], armor=True)
    assert open_bytes(sealed, [ScryptIdentity(PASSPHRASE)]) == b"p"
    with pytest.raises(NoIdentityMatchError):
        open_bytes(sealed, [ScryptIdentity(b"wrong")])


@pytest.mark.slow
def test_fifty_mebibytes_both_ways(age_bin: str, age_key: AgeKey, tmp_path: Path) -> None:
    size = 50 * 1024 * 1024
    source = tmp_path / "plain.bin"
    with source.open("wb") as f:
        for _ in range(50):
            f.write(os.urandom(1024 * 1024))
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    ours = tmp_path / "ours.age"
    with (
        source.open("rb") as src,
        ours.open("wb") as out,
        Sealer(out, [age_key.identity.recipient()]) as sealer,
    ):
        while piece := src.read(64 * 1024):
            sealer.write(piece)
    digest = hashlib.sha256()
    with subprocess.Popen(
        [age_bin, "-d", "-i", str(age_key.path), str(ours)], stdout=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None
        while piece := proc.stdout.read(1 << 20):
            digest.update(piece)
    assert proc.returncode == 0
    assert digest.hexdigest() == expected
    theirs = tmp_path / "theirs.age"
    subprocess.run(
        [age_bin, "-e", "-r", age_key.recipient, "-o", str(theirs), str(source)], check=True
    )
    target = tmp_path / "opened.bin"
    with theirs.open("rb") as inp:
        assert open_to_file(inp, [age_key.identity], target) == size
    assert hashlib.sha256(target.read_bytes()).hexdigest() == expected
    with theirs.open("rb") as inp:
        digest = hashlib.sha256()
        for chunk in open_stream(inp, [age_key.identity]):
            digest.update(chunk)
    assert digest.hexdigest() == expected
