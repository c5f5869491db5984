"""Re-wrap: a header for new recipients from an identity that opens the file; payload untouched."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest

from crypto.age import Sealer, header_for_file_key, open_bytes, rewrap_header, seal_bytes
from crypto.errors import ArmorError, HeaderError, MacError, NoIdentityMatchError
from crypto.scrypt import ScryptIdentity, ScryptRecipient
from crypto.x25519 import X25519Identity
from tests.crypto.conftest import FAST_LOG_N, AgeKey


def test_rewrap_to_new_recipients_keeps_the_payload() -> None:
    old, new_a, new_b = (X25519Identity.generate() for _ in range(3))
    data = os.urandom(200_000)
    sealed = seal_bytes(data, [old.recipient()])
    header, offset = rewrap_header(
        io.BytesIO(sealed), [old], [new_a.recipient(), new_b.recipient()]
    )
    rewrapped = header + sealed[offset:]
    assert sealed[offset:] == rewrapped[len(header) :]
    assert len(sealed) - offset == 16 + len(data) + 4 * 16  # nonce and payload, nothing else
    assert open_bytes(rewrapped, [new_a]) == data
    assert open_bytes(rewrapped, [new_b]) == data
    with pytest.raises(NoIdentityMatchError):
        open_bytes(rewrapped, [old])


def test_offset_counts_from_the_stream_start_position() -> None:
    identity = X25519Identity.generate()
    sealed = seal_bytes(b"x", [identity.recipient()])
    stream = io.BytesIO(b"PREFIX" + sealed)
    stream.seek(6)
    _, offset = rewrap_header(stream, [identity], [identity.recipient()])
    assert offset == 6 + 168  # one X25519 recipient makes a 168-byte header


def test_rewrapped_file_opens_with_age(tmp_path: Path, age_key: AgeKey, age_bin: str) -> None:
    ours = X25519Identity.generate()
    data = os.urandom(70_000)
    sealed = seal_bytes(data, [ours.recipient()])
    header, offset = rewrap_header(io.BytesIO(sealed), [ours], [age_key.identity.recipient()])
    path = tmp_path / "rewrapped.age"
    path.write_bytes(header + sealed[offset:])
    result = subprocess.run(
        [age_bin, "-d", "-i", str(age_key.path), str(path)], check=True, capture_output=True
    )
    assert result.stdout == data


def test_rewrap_between_passphrase_and_keys() -> None:
    identity = X25519Identity.generate()
    sealed = seal_bytes(b"secret", [ScryptRecipient(b"pw", FAST_LOG_N)])
    header, offset = rewrap_header(
        io.BytesIO(sealed), [ScryptIdentity(b"pw")], [identity.recipient()]
    )
    assert open_bytes(header + sealed[offset:], [identity]) == b"secret"


def test_rewrap_refuses_what_it_cannot_vouch_for() -> None:
    identity, stranger = X25519Identity.generate(), X25519Identity.generate()
    sealed = seal_bytes(b"data", [identity.recipient()])
    with pytest.raises(NoIdentityMatchError):
        rewrap_header(io.BytesIO(sealed), [stranger], [stranger.recipient()])
    tampered = sealed.replace(b"age-encryption.org/v1\n", b"age-encryption.org/v1\n-> x\n\n", 1)
    with pytest.raises(MacError):
        rewrap_header(io.BytesIO(tampered), [identity], [stranger.recipient()])
    with pytest.raises(HeaderError):
        rewrap_header(io.BytesIO(b"not an age file\n"), [identity], [stranger.recipient()])
    armored = seal_bytes(b"data", [identity.recipient()], armor=True)
    with pytest.raises(ArmorError, match="binary"):
        rewrap_header(io.BytesIO(armored), [identity], [stranger.recipient()])


def test_server_reissues_a_header_from_the_sealer_file_key() -> None:
    """The upload path: seal with the keyring of the day, then re-issue for a rotated keyring."""
    before, after = X25519Identity.generate(), X25519Identity.generate()
    out = io.BytesIO()
    with Sealer(out, [before.recipient()]) as sealer:
        sealer.write(b"testimony" * 10_000)
    sealed = out.getvalue()
    _, offset = rewrap_header(io.BytesIO(sealed), [before], [before.recipient()])
    reissued = header_for_file_key(sealer.file_key, [after.recipient()]) + sealed[offset:]
    assert open_bytes(reissued, [after]) == b"testimony" * 10_000


def test_header_for_file_key_checks_its_inputs() -> None:
    recipient = X25519Identity.generate().recipient()
    with pytest.raises(ValueError, match="16 bytes"):
        header_for_file_key(bytes(15), [recipient])
    with pytest.raises(ValueError, match="at least one"):
        header_for_file_key(bytes(16), [])
    with pytest.raises(ValueError, match="only recipient"):
        header_for_file_key(bytes(16), [recipient, ScryptRecipient(b"pw", FAST_LOG_N)])
