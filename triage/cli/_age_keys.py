"""Recipients and identities for `triage encrypt` / `triage decrypt`, with age's CLI rules."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crypto.errors import NoIdentityMatchError
from triage.cli._passphrase import Passphrases
from triage.errors import ExitCode, TriageError

if TYPE_CHECKING:
    from crypto.header import Identity, Recipient

__all__ = ["is_passphrase_sealed", "load_identities", "load_recipients", "no_match_error"]

# What an age file sealed with a passphrase starts with: a scrypt stanza must be alone.
_SCRYPT_START = b"age-encryption.org/v1\n-> scrypt "
_ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
PEEK_SIZE = 128  # enough for the armor line and the first 64-character base64 line


def load_recipients(
    recipients: Sequence[str],
    recipient_files: Sequence[Path],
    use_passphrase: bool,
    passphrases: Passphrases,
) -> list[Recipient]:
    """The recipients given by -r / -R, or a scrypt recipient for -p (never both).

    Raises TriageError for a bad combination, KeyFormatError for a bad key, OSError for a
    file that cannot be read.
    """
    if use_passphrase:
        if recipients or recipient_files:
            raise _usage("-p/--passphrase can't be combined with -r or -R")
        from crypto.scrypt import ScryptRecipient

        passphrase = passphrases.get("Enter passphrase:", confirm=True)
        return [ScryptRecipient(passphrase)]
    if passphrases.file is not None:
        raise _usage("--passphrase-file is only used with -p/--passphrase")
    if not recipients and not recipient_files:
        raise _usage(
            "no recipients given",
            "seal to keys with -r RECIPIENT or -R FILE, or to a passphrase with -p",
        )
    from crypto.keyfile import parse_recipient, read_recipients_file

    found: list[Recipient] = [parse_recipient(text) for text in recipients]
    for path in recipient_files:
        found.extend(read_recipients_file(path))
    return found


def load_identities(
    identity_files: Sequence[Path], passphrases: Passphrases, *, passphrase_sealed: bool
) -> list[Identity]:
    """The identities from -i files, or a scrypt identity when the input uses a passphrase.

    Passphrase-protected identity files ask for their passphrase (or read --passphrase-file).
    Raises TriageError when the input and the options do not fit together.
    """
    if passphrase_sealed:
        if identity_files:
            raise _usage(
                "INPUT is sealed with a passphrase, not to a key",
                "run without -i; the passphrase is asked on the terminal (or --passphrase-file)",
            )
        from crypto.scrypt import ScryptIdentity

        return [ScryptIdentity(passphrases.get("Enter passphrase:"))]
    if not identity_files:
        raise _usage(
            "no identity given, and INPUT is not sealed with a passphrase",
            "pass -i IDENTITY, the key file the sender sealed to",
        )
    found: list[Identity] = []
    for path in identity_files:
        found.extend(_read_identity_file(path, passphrases))
    return found


def _read_identity_file(path: Path, passphrases: Passphrases) -> list[Identity]:
    from crypto.keyfile import read_identities, readable_by_others

    def ask() -> bytes:
        return passphrases.get(f"Enter passphrase for identity file {str(path)!r}:")

    try:
        identities: list[Identity] = list(read_identities(path, passphrase_cb=ask))
    except NoIdentityMatchError as exc:  # what read_identities raises for a wrong passphrase
        raise TriageError(
            f"wrong passphrase for identity file {path}",
            hints=["type the passphrase that protects this identity file"],
            category="passphrase",
            exit_code=ExitCode.KEY,
        ) from exc
    if readable_by_others(path):
        click.echo(
            f"triage: warning: {path} is readable by other users; run 'chmod 600 {path}'",
            err=True,
        )
    return identities


def is_passphrase_sealed(head: bytes) -> bool:
    """Whether the first bytes of an age file (binary or armored) show a scrypt stanza."""
    text = head.lstrip()
    if text.startswith(_ARMOR_BEGIN):
        lines = text[len(_ARMOR_BEGIN) :].split(b"\n")
        body = lines[1].strip() if len(lines) > 1 else b""
        body = body[: len(body) // 4 * 4]
        try:
            text = base64.b64decode(body, validate=True)
        except binascii.Error:
            return False
    return text.startswith(_SCRYPT_START)


def no_match_error(identity_files: Sequence[Path], identities: Sequence[Identity]) -> TriageError:
    """A no-match failure restated for the person holding these identities."""
    if not identity_files:
        return TriageError(
            "the passphrase does not open this file",
            hints=["check the passphrase and try again"],
            category="no_match",
            exit_code=ExitCode.NO_MATCH,
        )
    from crypto.keyfile import fingerprint
    from crypto.x25519 import X25519Identity

    mine = [fingerprint(i.recipient()) for i in identities if isinstance(i, X25519Identity)]
    return TriageError(
        "no identity matched any of the recipients",
        hints=[
            "is this file sealed to another key? check the fingerprint with the sender; "
            f"yours: {', '.join(mine) or 'none'}",
        ],
        category="no_match",
        exit_code=ExitCode.NO_MATCH,
    )


def _usage(message: str, hint: str | None = None) -> TriageError:
    if hint is None:
        context = click.get_current_context(silent=True)
        hint = f"run '{context.command_path if context else 'triage'} --help' for usage"
    return TriageError(message, hints=[hint], category="usage", exit_code=ExitCode.USAGE)
