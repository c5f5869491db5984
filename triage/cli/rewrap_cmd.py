"""`triage rewrap`: headers for a new set of investigator keys, for the server to apply."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from triage.cli._passphrase import Passphrases
from triage.cli._ws import CachedPassphrase, with_workspace
from triage.errors import usage

if TYPE_CHECKING:
    from crypto.x25519 import X25519Recipient
    from triage.keys.investigator import Signer
    from triage.keys.rewrap import RewrapReport
    from triage.workspace.context import WorkContext

__all__ = ["rewrap"]

_EPILOG = """\
Give every key that must open the files from now on (the whole active keyring):
the server refuses a bundle whose recipient set differs from its keyring. Open
the files with the identity that opens them today (-i OLD after a rotation).

The server applies the bundle only if it is signed by the minisign key of an
active investigator key, which triage cannot check offline. By default the key
beside the identity signs (IDENTITY.minisign.key). Once 'intake keys rotate'
has retired that key, sign with the new one: --sign-with NEW.minisign.key.
Check that the minisign key id printed here is the signing_key_id of an active
key in 'intake keys list --json'.

\b
Example, after a rotation:
  triage rewrap -i OLD --sign-with NEW.minisign.key --to age1new... --out rewrap.bundle
Then, on the server: intake keys apply-rewrap rewrap.bundle
"""


@click.command(epilog=_EPILOG)
@click.option(
    "--to",
    "recipients",
    multiple=True,
    required=True,
    metavar="RECIPIENT",
    help="An age recipient (age1...) of the new set. Repeatable.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="BUNDLE",
    help="Where to write the signed rewrap bundle.",
)
@click.option(
    "--sign-with",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="MINISIGN_KEY",
    help="Sign the bundle with this minisign secret key (NEW.minisign.key after a rotation) "
    "instead of the one beside the identity.",
)
@click.option(
    "--sign-passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Read the passphrase of --sign-with from the first line of FILE.",
)
@with_workspace
def rewrap(
    ctx: WorkContext,
    recipients: tuple[str, ...],
    out: Path,
    sign_with: Path | None,
    sign_passphrase_file: Path | None,
) -> None:
    """Re-wrap every imported sealed file's header to new recipients."""
    from crypto.keyfile import parse_recipient
    from triage.keys.investigator import load_signer
    from triage.keys.rewrap import rewrap as run_rewrap

    parsed = [parse_recipient(text) for text in recipients]
    signer: Signer | None = None
    if sign_with is not None:
        # Its own passphrase: after a rotation the new key set was made with its own.
        ask = CachedPassphrase(
            Passphrases(sign_passphrase_file), f"Enter passphrase for {sign_with}:"
        )
        signer = load_signer(sign_with, ask)
    elif sign_passphrase_file is not None:
        raise usage(
            "--sign-passphrase-file is only for the key given with --sign-with",
            "add --sign-with MINISIGN_KEY, or leave --sign-passphrase-file out",
        )
    _echo(run_rewrap(ctx, parsed, out, signer=signer), parsed, sign_with or ctx.keys.signing_key)


def _echo(report: RewrapReport, recipients: list[X25519Recipient], key_path: Path) -> None:
    from crypto.keyfile import fingerprint

    new = sorted(fingerprint(r) for r in recipients)
    click.echo(f"{report.headers} headers in {', '.join(str(p) for p in report.written)}")
    click.echo("recipients: " + ", ".join(new))
    signer = report.signer
    whose = f", of {signer.fingerprint}" if signer.fingerprint else ""
    click.echo(f"signed with: minisign key {signer.key_id} ({key_path}{whose})")
    if report.skipped:
        click.echo(f"not re-wrapped (do not open with this identity): {len(report.skipped)}")
    if signer.fingerprint is not None and signer.fingerprint not in new:
        # Not an error: the server may hold this minisign key for another, active age key.
        click.echo(
            f"triage: warning: the bundle is signed by {signer.fingerprint}, which is not among "
            "the new recipients; the server refuses it unless this minisign key belongs to an "
            "active key (after a rotation, sign with --sign-with NEW.minisign.key)",
            err=True,
        )
