"""The investigator's keys: an age identity and a minisign key pair beside it, made and unlocked.

`triage keygen -o IDENTITY` writes IDENTITY (age), IDENTITY.minisign.key and
IDENTITY.minisign.pub. One passphrase protects both secret files, so one prompt unlocks both.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crypto.errors import KeyFormatError, NoIdentityMatchError
from crypto.keyfile import fingerprint, read_identities, write_identity_file
from crypto.minisign import MINISIGN_DEFAULT_COST, ScryptCost, SigningKey, VerifyKey
from crypto.scrypt import DEFAULT_LOG_N
from crypto.x25519 import X25519Identity
from triage.errors import ExitCode, TriageError

__all__ = [
    "KeyCosts",
    "KeyPaths",
    "NewKeys",
    "Signer",
    "default_costs",
    "generate_keys",
    "load_identities",
    "load_signer",
    "load_signing_key",
]

PassphraseSource = Callable[[], bytes]

_SIGNING_SUFFIX = ".minisign.key"


@dataclass(frozen=True)
class KeyCosts:
    """Passphrase KDF costs: age's scrypt work factor and minisign's scrypt limits.

    The defaults are age's and minisign's own (about a second and 256 MiB; a few seconds and
    1 GiB): the minisign key signs the acks that make the server delete testimony. Tests pass
    cheaper costs; nothing else should.
    """

    age_log_n: int = DEFAULT_LOG_N
    minisign: ScryptCost = MINISIGN_DEFAULT_COST


def default_costs() -> KeyCosts:
    return KeyCosts()


@dataclass(frozen=True)
class KeyPaths:
    identity: Path
    signing_key: Path
    verify_key: Path

    @classmethod
    def beside(cls, identity: Path) -> KeyPaths:
        return cls(
            identity,
            identity.with_name(identity.name + _SIGNING_SUFFIX),
            identity.with_name(identity.name + ".minisign.pub"),
        )


@dataclass(frozen=True)
class NewKeys:
    paths: KeyPaths
    recipient: str
    fingerprint: str
    verify_key: VerifyKey


def _create(path: Path, text: str, mode: int) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, mode)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def generate_keys(identity_path: Path, passphrase: bytes | None, costs: KeyCosts) -> NewKeys:
    """Write the three files (each exclusively; 0600 for secrets, 0644 for the public key).

    Raises FileExistsError before writing anything if any of them exists.
    """
    paths = KeyPaths.beside(identity_path)
    for path in (paths.identity, paths.signing_key, paths.verify_key):
        if path.exists() or path.is_symlink():
            raise FileExistsError(f"{path} already exists; not overwriting it")
    identity = X25519Identity.generate()
    signing = SigningKey.generate()
    written: list[Path] = []
    try:
        write_identity_file(paths.identity, identity, passphrase=passphrase, log_n=costs.age_log_n)
        written.append(paths.identity)
        _create(paths.signing_key, signing.to_file_text(passphrase, cost=costs.minisign), 0o600)
        written.append(paths.signing_key)
        _create(paths.verify_key, signing.verify_key().to_file_text(), 0o644)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    recipient = identity.recipient()
    return NewKeys(paths, str(recipient), fingerprint(recipient), signing.verify_key())


def _wrong_passphrase(path: Path) -> TriageError:
    return TriageError(
        f"wrong passphrase for {path}",
        hints=["type the passphrase you chose at 'triage keygen'"],
        category="passphrase",
        exit_code=ExitCode.KEY,
    )


def load_identities(path: Path, passphrase: PassphraseSource) -> list[X25519Identity]:
    """The identities in an identity file (asking for its passphrase only when it has one)."""
    try:
        return read_identities(path, passphrase_cb=passphrase)
    except NoIdentityMatchError:
        raise _wrong_passphrase(path) from None


def _sealed_minisign_key(text: str) -> bool:
    # The key's second line is base64 of sig_alg (2 bytes) || kdf_alg (2 bytes) || ...;
    # kdf_alg "Sc" means sealed with a passphrase. Anything malformed is left to the parser.
    lines = text.strip().splitlines()
    try:
        return len(lines) == 2 and base64.b64decode(lines[1][:8])[2:4] == b"Sc"
    except ValueError:
        return False


def load_signing_key(path: Path, passphrase: PassphraseSource) -> SigningKey:
    """The minisign secret key at `path` (the passphrase is asked only when it is sealed)."""
    text = path.read_text(encoding="ascii", errors="replace")
    if not _sealed_minisign_key(text):
        return SigningKey.from_file_text(text)
    try:
        return SigningKey.from_file_text(text, passphrase())
    except KeyFormatError as exc:
        if "wrong passphrase" in str(exc):
            raise _wrong_passphrase(path) from None
        raise


@dataclass(frozen=True)
class Signer:
    """A minisign key that signs a bundle, and the fingerprint of the age identity it belongs to.

    `fingerprint` is None when no identity lies beside the key (a key made with `minisign -G`
    rather than `triage keygen`): the bundle then names no signer, and the server goes by the
    signature alone, as it always does.
    """

    key: SigningKey
    fingerprint: str | None

    @property
    def key_id(self) -> str:
        return self.key.verify_key().key_id_hex


def load_signer(path: Path, passphrase: PassphraseSource) -> Signer:
    """The minisign secret key at `path`, with the fingerprint of the identity beside it.

    `triage keygen` writes IDENTITY.minisign.key beside IDENTITY under one passphrase, so the
    same passphrase unlocks IDENTITY to learn whose key it is (a minisign key does not say).
    Raises TriageError for a wrong passphrase, OSError when `path` cannot be read.
    """
    key = load_signing_key(path, passphrase)
    name = path.name.removesuffix(_SIGNING_SUFFIX)
    identity = path.with_name(name) if name and name != path.name else None
    if identity is None or not identity.is_file():
        return Signer(key, None)
    return Signer(key, fingerprint(load_identities(identity, passphrase)[0].recipient()))
