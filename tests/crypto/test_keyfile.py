"""Keys and key files: age-keygen's format both ways, 0600 and O_EXCL, passphrases, fingerprints."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crypto.age import open_bytes, seal_bytes
from crypto.errors import KeyFormatError, NoIdentityMatchError
from crypto.keyfile import (
    fingerprint,
    identity_file_text,
    parse_identities,
    parse_recipient,
    read_identities,
    read_recipients_file,
    readable_by_others,
    write_identity_file,
)
from crypto.scrypt import ScryptRecipient
from crypto.x25519 import X25519Identity, X25519Recipient
from tests.crypto.conftest import FAST_LOG_N, AgeKey

# age's own test key (age/x25519_test.go and the CCTV vectors).
KNOWN_SECRET = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"


def test_identity_text_matches_age_keygen(tmp_path: Path, age_keygen_bin: str) -> None:
    identity = X25519Identity.generate()
    when = datetime(2024, 5, 1, 12, 30, 5, tzinfo=timezone(timedelta(hours=3)))
    text = identity_file_text(identity, created=when)
    assert text.splitlines() == [
        "# created: 2024-05-01T09:30:05Z",
        f"# public key: {identity.recipient()}",
        str(identity),
    ]
    path = tmp_path / "key.txt"
    write_identity_file(path, identity)
    derived = subprocess.run(
        [age_keygen_bin, "-y", str(path)], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert derived == str(identity.recipient())


def test_default_creation_time_is_now_in_utc() -> None:
    line = identity_file_text(X25519Identity.generate()).splitlines()[0]
    stamp = datetime.strptime(line, "# created: %Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=1)


def test_reads_what_age_keygen_writes(age_key: AgeKey) -> None:
    (identity,) = read_identities(age_key.path)
    assert str(identity.recipient()) == age_key.recipient
    assert identity == age_key.identity


def test_written_exclusively_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "key.txt"
    identity = X25519Identity.generate()
    write_identity_file(path, identity)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not readable_by_others(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        write_identity_file(path, X25519Identity.generate())
    assert path.read_bytes() == before
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "elsewhere.txt")
    with pytest.raises(FileExistsError):
        write_identity_file(link, identity)
    assert not (tmp_path / "elsewhere.txt").exists()
    path.chmod(0o644)
    assert readable_by_others(path)


def test_passphrase_protected_identity_file(tmp_path: Path) -> None:
    path = tmp_path / "key.age"
    identity = X25519Identity.generate()
    write_identity_file(path, identity, passphrase=b"correct horse", log_n=FAST_LOG_N)
    assert path.read_bytes().startswith(b"-----BEGIN AGE ENCRYPTED FILE-----\n")
    assert str(identity).encode() not in path.read_bytes()
    calls: list[int] = []

    def ask() -> bytes:
        calls.append(1)
        return b"correct horse"

    assert read_identities(path, passphrase_cb=ask) == [identity]
    assert calls == [1]
    with pytest.raises(NoIdentityMatchError, match="wrong passphrase"):
        read_identities(path, passphrase_cb=lambda: b"wrong")
    with pytest.raises(KeyFormatError, match="passphrase-protected"):
        read_identities(path)


def test_binary_sealed_identity_files_are_read_too(tmp_path: Path) -> None:
    identity = X25519Identity.generate()
    sealed = seal_bytes(identity_file_text(identity).encode(), [ScryptRecipient(b"pw", 10)])
    path = tmp_path / "key.age"
    path.write_bytes(sealed)
    assert read_identities(path, passphrase_cb=lambda: b"pw") == [identity]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no secret keys"),
        (b"# only a comment\n\n", "no secret keys"),
        (b"AGE-SECRET-KEY-1QQQ\n", "line 1 is not an age secret key"),
        (b"# c\nage1notasecret\n", "line 2"),
        (b"\xff\xfe", "not a text file"),
    ],
)
def test_malformed_identity_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "key.txt"
    path.write_bytes(content)
    with pytest.raises(KeyFormatError, match=message):
        read_identities(path)


def test_identity_parsing_tolerates_crlf_and_comments() -> None:
    identity = X25519Identity.parse(KNOWN_SECRET)
    data = f"# created: x\r\n\r\n{KNOWN_SECRET}\r\n{KNOWN_SECRET}".encode()
    assert parse_identities(data) == [identity, identity]


def test_oversized_key_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as f:
        f.truncate(16 * 1024 * 1024 + 1)
    with pytest.raises(KeyFormatError, match="too large"):
        read_identities(path)


def test_keys_round_trip_and_secrets_stay_out_of_repr() -> None:
    identity = X25519Identity.parse(KNOWN_SECRET)
    assert str(identity) == KNOWN_SECRET
    assert KNOWN_SECRET not in repr(identity)
    assert identity.secret.hex() not in repr(identity)
    recipient = identity.recipient()
    assert X25519Recipient.parse(str(recipient)) == recipient
    assert str(recipient).startswith("age1")
    assert len(str(recipient)) == 62
    assert X25519Identity.from_secret_bytes(identity.secret) == identity
    with pytest.raises(KeyFormatError):  # age, too, wants the prefix exactly as it writes it
        X25519Identity.parse(KNOWN_SECRET.lower())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "age1",
        KNOWN_SECRET,  # a secret where a recipient is expected
        "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gg",  # bad checksum
        "AGE1" + "q" * 58,
        "Age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg",
        "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqhw5lqz",  # not 32 bytes
        "age1\u00e9",
    ],
)
def test_malformed_recipients(text: str) -> None:
    with pytest.raises(KeyFormatError):
        parse_recipient(text)


def test_low_order_recipients_are_refused() -> None:
    with pytest.raises(KeyFormatError, match="invalid X25519 public key"):
        X25519Recipient.from_public_bytes(bytes(32))
    with pytest.raises(KeyFormatError, match="invalid X25519 public key"):
        X25519Recipient.from_public_bytes(bytes([1]) + bytes(31))
    with pytest.raises(KeyFormatError, match="32 bytes"):
        X25519Identity.from_secret_bytes(b"short")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("age1pq1" + "q" * 60, "post-quantum"),
        ("ssh-ed25519 AAAA", "SSH"),
        ("age1yubikey1qwerty", "plugin"),
        ("AGE-SECRET-KEY-1QQ", "not an X25519 recipient|malformed"),
    ],
)
def test_unsupported_recipient_kinds_are_named(text: str, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        parse_recipient(text)


def test_recipients_file(tmp_path: Path, age_key: AgeKey) -> None:
    others = [X25519Identity.generate().recipient() for _ in range(2)]
    path = tmp_path / "recipients.txt"
    path.write_text(
        f"# investigators\n\n{age_key.recipient}\n  {others[0]}  \r\n# retired\n{others[1]}"
    )
    recipients = read_recipients_file(path)
    assert [str(r) for r in recipients] == [age_key.recipient, *map(str, others)]
    sealed = seal_bytes(b"to all", recipients)
    assert open_bytes(sealed, [age_key.identity]) == b"to all"


def test_recipients_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "recipients.txt"
    path.write_text("# c\nage1nonsense\n")
    with pytest.raises(KeyFormatError, match="line 2"):
        read_recipients_file(path)
    path.write_text("# nobody\n\n")
    with pytest.raises(KeyFormatError, match="no recipients"):
        read_recipients_file(path)


def test_fingerprint_is_stable_and_unpadded() -> None:
    recipient = X25519Identity.parse(KNOWN_SECRET).recipient()
    value = fingerprint(recipient)
    assert value.startswith("SHA256:")
    assert len(value) == len("SHA256:") + 43
    assert "=" not in value
    assert value == fingerprint(X25519Recipient.parse(str(recipient)))
    assert value != fingerprint(X25519Identity.generate().recipient())
    expected = base64.b64encode(hashlib.sha256(str(recipient).encode()).digest()).rstrip(b"=")
    assert value == "SHA256:" + expected.decode()


def test_write_failure_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(fd: int) -> None:
        raise OSError("fsync failed")

    monkeypatch.setattr(os, "fsync", broken)
    path = tmp_path / "key.txt"
    with pytest.raises(OSError, match="fsync"):
        write_identity_file(path, X25519Identity.generate())
    assert not path.exists()
