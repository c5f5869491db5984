"""minisign signatures and keys, checked against the real minisign binary both ways."""

from __future__ import annotations

import base64
import os
import pty
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import KeyFormatError, SignatureError
from crypto.minisign import (
    ScryptCost,
    Signature,
    SigningKey,
    VerifyKey,
    find_key,
    sign,
    sign_file,
    sign_prehashed,
    verify,
    verify_file,
)


def run_on_tty(args: list[str], answers: list[str], cwd: Path) -> tuple[int, str]:
    """Run a command on a pseudo-terminal, typing one answer per "Password" prompt.

    minisign reads passphrases from its terminal, as a person would type them.
    """
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd)
    os.close(slave)
    output, answered = b"", 0
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            output += data
            if answered < len(answers) and output.count(b"Password") > answered:
                os.write(master, answers[answered].encode() + b"\n")
                answered += 1
    finally:
        os.close(master)
    return proc.wait(timeout=120), output.decode(errors="replace")


def minisign_verify(pub: Path, message: Path, sig: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["minisign", "-V", "-p", str(pub), "-m", str(message), "-x", str(sig)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def keypair(tmp_path: Path) -> tuple[SigningKey, Path]:
    sk = SigningKey.generate()
    pub = tmp_path / "key.pub"
    pub.write_text(sk.verify_key().to_file_text())
    return sk, pub


@pytest.fixture
def minisign_key(tmp_path: Path) -> tuple[Path, Path]:
    """A key pair made by `minisign -G -W` (unencrypted)."""
    pub, sec = tmp_path / "m.pub", tmp_path / "m.key"
    subprocess.run(["minisign", "-G", "-W", "-p", pub, "-s", sec], check=True, capture_output=True)
    return pub, sec


def test_minisign_accepts_our_signature_and_refuses_a_changed_byte(
    tmp_path: Path, keypair: tuple[SigningKey, Path]
) -> None:
    sk, pub = keypair
    message = tmp_path / "data.bin"
    message.write_bytes(os.urandom(100_000))
    sig = tmp_path / "data.bin.minisig"
    sig.write_text(sign(message.read_bytes(), sk, trusted_comment="bundle ack 2025-06-01"))
    result = minisign_verify(pub, message, sig)
    assert result.returncode == 0, result.stderr
    assert "Trusted comment: bundle ack 2025-06-01" in result.stdout

    changed = bytearray(message.read_bytes())
    changed[54_321] ^= 0x01
    message.write_bytes(bytes(changed))
    assert minisign_verify(pub, message, sig).returncode != 0
    with pytest.raises(SignatureError, match="does not match"):
        verify(sig.read_text(), bytes(changed), sk.verify_key())


def test_sign_file_streams_and_minisign_agrees(
    tmp_path: Path, keypair: tuple[SigningKey, Path]
) -> None:
    sk, pub = keypair
    message = tmp_path / "big.bin"
    with message.open("wb") as out:
        for _ in range(48):
            out.write(os.urandom(65_536))
    sig = tmp_path / "big.minisig"
    sig.write_text(sign_file(message, sk, trusted_comment="streamed"))
    assert minisign_verify(pub, message, sig).returncode == 0
    assert verify_file(sig.read_text(), message, sk.verify_key()) == "streamed"
    assert verify(sig.read_text(), message.read_bytes(), sk.verify_key()) == "streamed"


def test_we_verify_what_minisign_signed(tmp_path: Path, minisign_key: tuple[Path, Path]) -> None:
    pub, sec = minisign_key
    message = tmp_path / "note.txt"
    message.write_bytes(b"testimony manifest\n")
    subprocess.run(
        ["minisign", "-S", "-s", sec, "-m", message, "-t", "signed by minisign"],
        check=True,
        capture_output=True,
    )
    sig_text = (tmp_path / "note.txt.minisig").read_text()
    vk = VerifyKey.parse(pub.read_text())
    assert verify(sig_text, message.read_bytes(), vk) == "signed by minisign"
    assert verify_file(sig_text, message, vk) == "signed by minisign"
    with pytest.raises(SignatureError):
        verify(sig_text, b"testimony manifest!\n", vk)


def test_altered_trusted_comment_is_refused_by_both(
    tmp_path: Path, keypair: tuple[SigningKey, Path]
) -> None:
    sk, pub = keypair
    message = tmp_path / "m"
    message.write_bytes(b"x")
    text = sign(b"x", sk, trusted_comment="kind ack")
    forged = text.replace("trusted comment: kind ack", "trusted comment: kind export")
    sig = tmp_path / "m.minisig"
    sig.write_text(forged)
    assert minisign_verify(pub, message, sig).returncode != 0
    with pytest.raises(SignatureError, match="trusted comment"):
        verify(forged, b"x", sk.verify_key())


def test_signature_by_another_key_is_refused() -> None:
    one, other = SigningKey.generate(), SigningKey.generate()
    text = sign(b"data", one, trusted_comment="t")
    with pytest.raises(SignatureError, match=one.verify_key().key_id_hex):
        verify(text, b"data", other.verify_key())
    # Same key id, different key: the signature itself must fail.
    impostor = VerifyKey(key_id=one.key_id, public_key=other.verify_key().public_key)
    with pytest.raises(SignatureError, match="does not match"):
        verify(text, b"data", impostor)
    assert find_key(text, [other.verify_key(), one.verify_key()]) == one.verify_key()
    with pytest.raises(SignatureError, match="not a known key"):
        find_key(text, [other.verify_key()])


def test_legacy_minisign_signature_is_refused(
    tmp_path: Path, minisign_key: tuple[Path, Path]
) -> None:
    pub, sec = minisign_key
    message = tmp_path / "m"
    message.write_bytes(b"legacy")
    subprocess.run(
        ["minisign", "-S", "-l", "-s", sec, "-m", message], check=True, capture_output=True
    )
    with pytest.raises(SignatureError, match="legacy"):
        verify((tmp_path / "m.minisig").read_text(), b"legacy", VerifyKey.parse(pub.read_text()))


def _edit_line(text: str, index: int, edit: Callable[[str], str]) -> str:
    lines = text.splitlines()
    lines[index] = edit(lines[index])
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: "",
        lambda t: "\n".join(t.splitlines()[:3]),
        lambda t: t.replace("untrusted comment:", "comment:"),
        lambda t: _edit_line(t, 2, lambda line: line.replace("trusted comment: ", "trusted: ")),
        lambda t: _edit_line(t, 1, lambda line: "!" + line[1:]),
        lambda t: "\n".join([*t.splitlines()[:3], "AAAA"]),
        lambda t: t + "x" * 9000,
        lambda t: _edit_line(t, 1, lambda line: "Q" + line[1:]),
        lambda t: _edit_line(t, 1, lambda line: line[:1] + "W" + line[2:]),
    ],
)
def test_malformed_signature_text_is_a_signature_error(mangle: object) -> None:
    sk = SigningKey.generate()
    text = sign(b"d", sk, trusted_comment="c")
    with pytest.raises(SignatureError):
        verify(mangle(text), b"d", sk.verify_key())  # type: ignore[operator]


def test_comments_must_be_one_short_line() -> None:
    sk = SigningKey.generate()
    with pytest.raises(ValueError, match="64 bytes"):
        sign_prehashed(b"short", sk, trusted_comment="c")
    with pytest.raises(ValueError, match="one line"):
        sign(b"d", sk, trusted_comment="two\nlines")
    with pytest.raises(ValueError, match="one line"):
        sign(b"d", sk, trusted_comment="x" * 1001)


@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=2000), comment=st.text(max_size=80).filter(lambda c: "\n" not in c))
def test_round_trip_and_any_flipped_byte_fails(data: bytes, comment: str) -> None:
    comment = comment.replace("\r", "").replace("\x00", "")
    sk = SigningKey.generate()
    text = sign(data, sk, trusted_comment=comment)
    assert Signature.parse(text).key_id_hex == sk.verify_key().key_id_hex
    assert verify(text, data, sk.verify_key()) == comment
    if data:
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x80
        with pytest.raises(SignatureError):
            verify(text, bytes(flipped), sk.verify_key())


def test_public_key_file_matches_minisign(minisign_key: tuple[Path, Path]) -> None:
    pub, sec = minisign_key
    vk = VerifyKey.parse(pub.read_text())
    assert vk.to_file_text() == pub.read_text()
    bare = pub.read_text().splitlines()[1]
    assert VerifyKey.parse(bare) == vk
    assert f"minisign public key {vk.key_id_hex}" in pub.read_text()
    assert SigningKey.from_file_text(sec.read_text(), None).verify_key() == vk


@pytest.mark.parametrize(
    "text",
    ["", "not base64!", base64.b64encode(b"Ed" + bytes(10)).decode(), "untrusted comment: x\n"],
)
def test_malformed_public_key_is_a_key_error(text: str) -> None:
    with pytest.raises(KeyFormatError):
        VerifyKey.parse(text)


def test_minisign_reads_our_unencrypted_secret_key(tmp_path: Path) -> None:
    sk = SigningKey.generate()
    sec, pub = tmp_path / "our.key", tmp_path / "recreated.pub"
    sec.write_text(sk.to_file_text(None))
    subprocess.run(["minisign", "-R", "-s", sec, "-p", pub], check=True, capture_output=True)
    assert VerifyKey.parse(pub.read_text()) == sk.verify_key()
    assert SigningKey.from_file_text(sec.read_text()) == sk


def test_minisign_opens_our_passphrase_protected_key(
    tmp_path: Path, fast_scrypt: ScryptCost
) -> None:
    sk = SigningKey.generate()
    sec, pub, message = tmp_path / "our.key", tmp_path / "our.pub", tmp_path / "m.txt"
    sec.write_text(sk.to_file_text(b"correct horse", cost=fast_scrypt))
    pub.write_text(sk.verify_key().to_file_text())
    message.write_bytes(b"signed by minisign with our key file")
    code, out = run_on_tty(
        ["minisign", "-S", "-s", str(sec), "-m", str(message), "-t", "ok"],
        ["correct horse"],
        tmp_path,
    )
    assert code == 0, out
    assert minisign_verify(pub, message, tmp_path / "m.txt.minisig").returncode == 0
    code, out = run_on_tty(
        ["minisign", "-S", "-s", str(sec), "-m", str(message), "-x", "other.sig"],
        ["wrong"],
        tmp_path,
    )
    assert code != 0
    assert "Wrong password" in out


def test_passphrase_round_trip_and_wrong_passphrase(fast_scrypt: ScryptCost) -> None:
    sk = SigningKey.generate()
    text = sk.to_file_text(b"s3cret", cost=fast_scrypt)
    assert "minisign encrypted secret key" in text
    assert SigningKey.from_file_text(text, b"s3cret") == sk
    with pytest.raises(KeyFormatError, match="wrong passphrase"):
        SigningKey.from_file_text(text, b"s3cret ")
    with pytest.raises(KeyFormatError, match="protected by a passphrase"):
        SigningKey.from_file_text(text, None)
    with pytest.raises(KeyFormatError, match="empty passphrase"):
        sk.to_file_text(b"", cost=fast_scrypt)
    with pytest.raises(KeyFormatError, match="cannot use"):
        sk.to_file_text(b"pw", cost=ScryptCost(opslimit=1, memlimit=1))
    assert "secret_key" not in repr(sk)


def _patch_secret(text: str, offset: int, value: bytes) -> str:
    raw = bytearray(base64.b64decode(text.splitlines()[1]))
    raw[offset : offset + len(value)] = value
    return f"{text.splitlines()[0]}\n{base64.b64encode(bytes(raw)).decode()}\n"


def _append_secret(text: str, extra: bytes) -> str:
    raw = base64.b64decode(text.splitlines()[1]) + extra
    return f"{text.splitlines()[0]}\n{base64.b64encode(raw).decode()}\n"


def test_hostile_secret_key_files_are_refused(fast_scrypt: ScryptCost) -> None:
    sk = SigningKey.generate()
    plain = sk.to_file_text(None)
    sealed = sk.to_file_text(b"pw", cost=fast_scrypt)
    cases = {
        "unknown key derivation": _patch_secret(plain, 2, b"Xx"),
        "not a minisign Ed25519": _patch_secret(plain, 0, b"RS"),
        "checksum": _patch_secret(plain, 70, b"\xff"),
        "unreasonable scrypt cost": _patch_secret(sealed, 46, (2**40).to_bytes(8, "little")),
        "wrong length": _append_secret(plain, b"\x00" * 3),
        "inconsistent": _patch_secret(_patch_secret(plain, 126, bytes(32)), 110, b"\x01"),
        "untrusted comment line": "just one line",
    }
    for message, text in cases.items():
        with pytest.raises(KeyFormatError, match=message):
            SigningKey.from_file_text(text, b"pw")


@pytest.mark.slow
def test_we_open_a_passphrase_key_minisign_generated(tmp_path: Path) -> None:
    # minisign seals with its default cost (1 GiB scrypt, a few seconds): one such key only.
    code, out = run_on_tty(
        ["minisign", "-G", "-p", "m.pub", "-s", "m.key"], ["tEst pass", "tEst pass"], tmp_path
    )
    assert code == 0, out
    sk = SigningKey.from_file_text((tmp_path / "m.key").read_text(), b"tEst pass")
    assert sk.verify_key() == VerifyKey.parse((tmp_path / "m.pub").read_text())


def test_key_id_is_printed_like_minisign_without_zero_padding() -> None:
    vk = SigningKey.generate().verify_key()
    small = type(vk)(key_id=bytes([0xAB, 0x2F] + [0] * 6), public_key=vk.public_key)
    assert small.key_id_hex == "2FAB"
    assert "minisign public key 2FAB\n" in small.to_file_text()
