"""Fixtures for the crypto tests: real keys, the real age binaries, cheap scrypt."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from crypto.x25519 import X25519Identity, X25519Recipient

# Our own passphrase writes use a low scrypt work factor so tests stay fast; reading age's own
# default (18) is exercised once, in the interop tests.
FAST_LOG_N = 10


@dataclass(frozen=True)
class AgeKey:
    """A key pair made by the real age-keygen."""

    path: Path
    recipient: str
    identity: X25519Identity


def _require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.fail(f"{tool} is not installed (make tools installs it from Debian)")
    return found


@pytest.fixture(scope="session")
def age_bin() -> str:
    return _require("age")


@pytest.fixture(scope="session")
def age_keygen_bin() -> str:
    return _require("age-keygen")


@pytest.fixture
def identity() -> X25519Identity:
    return X25519Identity.generate()


@pytest.fixture
def recipient(identity: X25519Identity) -> X25519Recipient:
    return identity.recipient()


@pytest.fixture
def age_key(tmp_path: Path, age_keygen_bin: str) -> AgeKey:
    path = tmp_path / "age-key.txt"
    subprocess.run([age_keygen_bin, "-o", str(path)], check=True, capture_output=True)
    public = subprocess.run(
        [age_keygen_bin, "-y", str(path)], check=True, capture_output=True, text=True
    ).stdout.strip()
    secret = next(
        line for line in path.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-")
    )
    return AgeKey(path, public, X25519Identity.parse(secret))


# The two fixtures below serve the witness and minisign tests (written by other helpers), which
# share this directory: the cheapest costs libsodium accepts, imported lazily so that a change in
# those modules cannot break the rest of the crypto tests at collection time.
@pytest.fixture
def fast_kdf() -> object:
    from crypto.witness import FAST_TEST_COST  # noqa: PLC0415 - see above

    return FAST_TEST_COST


@pytest.fixture
def fast_scrypt() -> object:
    import nacl.pwhash.scrypt  # noqa: PLC0415 - see above

    from crypto.minisign import ScryptCost  # noqa: PLC0415 - see above

    return ScryptCost(
        opslimit=nacl.pwhash.scrypt.OPSLIMIT_MIN, memlimit=nacl.pwhash.scrypt.MEMLIMIT_MIN
    )
