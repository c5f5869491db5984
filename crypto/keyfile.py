"""Key files as age-keygen writes them, passphrase-protected identity files, key fingerprints."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from crypto._encoding import b64encode
from crypto.age import open_bytes, seal_bytes
from crypto.errors import KeyFormatError, NoIdentityMatchError
from crypto.scrypt import DEFAULT_LOG_N, ScryptIdentity, ScryptRecipient
from crypto.x25519 import X25519Identity, X25519Recipient

__all__ = [
    "fingerprint",
    "identity_file_text",
    "parse_identities",
    "parse_recipient",
    "read_identities",
    "read_recipients_file",
    "readable_by_others",
    "write_identity_file",
]

# age's own bound on key files; a key file is a few hundred bytes, so this only stops abuse.
MAX_KEY_FILE_BYTES = 16 * 1024 * 1024
# How age tells a passphrase-protected identity file (an age file, binary or armored) apart.
_SEALED_PREFIXES = (b"age-encryption", b"-----BEGIN AGE")

PassphraseCallback = Callable[[], bytes]


def fingerprint(recipient: X25519Recipient) -> str:
    """The one key fingerprint used everywhere: `SHA256:` + unpadded base64 of the recipient."""
    digest = hashlib.sha256(str(recipient).encode("ascii")).digest()
    return "SHA256:" + b64encode(digest)


def identity_file_text(identity: X25519Identity, *, created: datetime | None = None) -> str:
    """age-keygen's text form: `# created:`, `# public key:`, then the secret key line.

    The creation time is written in UTC, so the file does not reveal its maker's time zone.
    """
    when = (created or datetime.now(UTC)).astimezone(UTC)
    return (
        f"# created: {when.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
        f"# public key: {identity.recipient()}\n"
        f"{identity}\n"
    )


def write_identity_file(
    path: Path | str,
    identity: X25519Identity,
    *,
    passphrase: bytes | None = None,
    log_n: int = DEFAULT_LOG_N,
) -> None:
    """Create `path` (mode 0600, exclusively: raises `FileExistsError`, never overwrites).

    With a passphrase, the file is the identity file sealed to it with scrypt and armored:
    exactly what `age -p -a` makes, so `age -d -i path` asks for the passphrase and uses it.
    """
    data = identity_file_text(identity).encode("ascii")
    if passphrase is not None:
        data = seal_bytes(data, [ScryptRecipient(passphrase, log_n)], armor=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise


def readable_by_others(path: Path | str) -> bool:
    """Whether group or others may access the file (a secret key file should be 0600)."""
    return bool(os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def _read_limited(path: Path | str) -> bytes:
    with open(path, "rb") as f:
        data = f.read(MAX_KEY_FILE_BYTES + 1)
    if len(data) > MAX_KEY_FILE_BYTES:
        raise KeyFormatError(f"{path}: file too large for a key file")
    return data


def _lines(data: bytes, path: Path | str) -> list[tuple[int, str]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KeyFormatError(f"{path}: not a text file") from exc
    numbered = ((n, line.strip()) for n, line in enumerate(text.split("\n"), start=1))
    return [(n, line) for n, line in numbered if line and not line.startswith("#")]


def parse_identities(data: bytes, *, source: str = "identity file") -> list[X25519Identity]:
    """Identities from identity-file text: `#` comments and blank lines allowed, at least one."""
    identities = []
    for number, line in _lines(data, source):
        try:
            identities.append(X25519Identity.parse(line))
        except KeyFormatError as exc:  # the message must not echo a line that may be a secret
            raise KeyFormatError(f"{source}: line {number} is not an age secret key") from exc
    if not identities:
        raise KeyFormatError(f"{source}: no secret keys found")
    return identities


def read_identities(
    path: Path | str, *, passphrase_cb: PassphraseCallback | None = None
) -> list[X25519Identity]:
    """Read a plain or passphrase-protected identity file (age's two forms).

    A protected file calls `passphrase_cb()` once. Raises `KeyFormatError` when the file is
    malformed or protected with no callback given, and `NoIdentityMatchError` for a wrong
    passphrase. Use `readable_by_others` to warn about loose permissions.
    """
    data = _read_limited(path)
    if data.startswith(_SEALED_PREFIXES):
        if passphrase_cb is None:
            raise KeyFormatError(f"{path}: identity file is passphrase-protected")
        try:
            data = open_bytes(data, [ScryptIdentity(passphrase_cb())])
        except NoIdentityMatchError as exc:
            raise NoIdentityMatchError(f"{path}: wrong passphrase for identity file") from exc
    return parse_identities(data, source=str(path))


def parse_recipient(text: str) -> X25519Recipient:
    """Parse one recipient (`age1...`); raises `KeyFormatError`, naming unsupported kinds."""
    text = text.strip()
    if text.startswith("age1pq1"):
        raise KeyFormatError("post-quantum (age1pq1...) recipients are not supported")
    if text.startswith(("ssh-", "ecdsa-")):
        raise KeyFormatError("SSH keys are not supported as recipients; use an age1... key")
    if text[: text.rfind("1")].lower().startswith("age1"):  # age1<plugin>1...
        raise KeyFormatError("plugin recipients are not supported")
    return X25519Recipient.parse(text)


def read_recipients_file(path: Path | str) -> list[X25519Recipient]:
    """Recipients from a file, one per line; `#` comments and blank lines allowed."""
    recipients = []
    for number, line in _lines(_read_limited(path), path):
        try:
            recipients.append(parse_recipient(line))
        except KeyFormatError as exc:
            raise KeyFormatError(f"{path}: line {number}: {exc}") from exc
    if not recipients:
        raise KeyFormatError(f"{path}: no recipients found")
    return recipients
