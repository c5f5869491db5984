"""`triage keygen` and `triage init`: the investigator's keys, and a workspace that uses them."""

from __future__ import annotations

from pathlib import Path

import click

from triage.cli._passphrase import Passphrases, passphrase_file_option
from triage.cli._ws import CachedPassphrase
from triage.custody.log import EntrySpec
from triage.errors import ExitCode, TriageError, usage, workspace_error
from triage.workspace.context import WorkContext
from triage.workspace.layout import create_workspace

__all__ = ["init", "keygen"]

_KEYGEN_EPILOG = """\
Three files are written, each only if it does not exist yet: IDENTITY (an age
identity, sealed with your passphrase unless --no-passphrase), IDENTITY.minisign.key
(your signing key, sealed with the same passphrase) and IDENTITY.minisign.pub.
Give the admin the recipient (age1...) and IDENTITY.minisign.pub; keep the other
two files, and a backup of them, to yourself: a lost identity means testimony
sealed to it can never be opened again. A passphrase needs at least 15 characters
(four random words are plenty); keygen refuses a weaker one and says why.
"""


@click.command(epilog=_KEYGEN_EPILOG)
@click.option(
    "-o",
    "--output",
    "identity",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="IDENTITY",
    help="Where to write the identity file.",
)
@click.option(
    "--no-passphrase",
    is_flag=True,
    help="Write the secret files unprotected (only on a machine with full-disk encryption).",
)
@passphrase_file_option
def keygen(identity: Path, no_passphrase: bool, passphrase_file: Path | None) -> None:
    """Make an age identity and a minisign signing key for an investigator."""
    from triage.keys import investigator as keys

    if no_passphrase and passphrase_file is not None:
        raise usage("--no-passphrase and --passphrase-file contradict each other")
    passphrase = None
    if not no_passphrase:
        passphrase = Passphrases(passphrase_file).get("Enter a passphrase:", confirm=True)
        _refuse_weak(passphrase)
    made = keys.generate_keys(identity, passphrase, keys.default_costs())
    protection = "unprotected" if passphrase is None else "passphrase-protected"
    click.echo(f"identity: {made.paths.identity} ({protection})")
    click.echo(f"signing key: {made.paths.signing_key} ({protection})")
    click.echo(f"recipient: {made.recipient}")
    click.echo(f"minisign public key: {made.verify_key.to_base64()} ({made.paths.verify_key})")
    click.echo(f"minisign key id: {made.verify_key.key_id_hex}")
    click.echo(f"fingerprint: {made.fingerprint}")
    click.echo(
        f"for the admin: intake keys add {made.recipient} --name NAME "
        f"--signing-key {made.paths.verify_key.name}"
    )


def _refuse_weak(passphrase: bytes) -> None:
    from triage.keys.strength import MIN_LENGTH, weakness

    why = weakness(passphrase.decode("utf-8", errors="replace"))
    if why is not None:
        raise TriageError(
            f"passphrase too weak: {why}",
            hints=[
                f"use four or more random words (at least {MIN_LENGTH} characters): it guards "
                "every testimony sealed to this key, and a stolen copy can be attacked offline"
            ],
            category="passphrase",
            exit_code=ExitCode.KEY,
        )


@click.command()
@click.argument("workspace", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-i",
    "--identity",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="IDENTITY",
    help="The identity file this workspace opens bundles with (from 'triage keygen').",
)
@passphrase_file_option
def init(workspace: Path, identity: Path, passphrase_file: Path | None) -> None:
    """Create a workspace: a private directory with the database and the sealed files."""
    from crypto.keyfile import fingerprint
    from crypto.minisign import VerifyKey
    from triage.keys.investigator import KeyPaths, load_identities

    paths = KeyPaths.beside(identity)
    if not paths.verify_key.is_file():
        raise workspace_error(
            f"{paths.verify_key} is missing",
            "keep the .minisign.key and .minisign.pub files that 'triage keygen' wrote beside "
            "the identity",
        )
    verify_key = VerifyKey.parse(paths.verify_key.read_text(encoding="ascii"))
    ask = CachedPassphrase(Passphrases(passphrase_file), "Enter passphrase for your identity:")
    recipient = load_identities(identity, ask)[0].recipient()
    made = create_workspace(
        workspace,
        identity=identity,
        recipient=str(recipient),
        fingerprint=fingerprint(recipient),
        verify_key=verify_key.to_file_text(),
    )
    ctx = WorkContext.open(made.root, None, ask)
    details = {"identity": str(made.config.identity), "minisign_key_id": verify_key.key_id_hex}
    ctx.log().append(EntrySpec("created", "workspace", made.config.workspace_id, None, details))
    click.echo(f"workspace: {made.root}")
    click.echo(f"identity: {made.config.identity} ({made.config.fingerprint})")
    click.echo(
        "keep the workspace on an encrypted volume: it holds opened testimony",
        err=True,
    )
