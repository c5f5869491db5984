"""`triage case export` and `triage case verify`: court-ready case bundles."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from triage.cli._ws import with_workspace
from triage.text.safe import neutralise_line

if TYPE_CHECKING:
    from triage.workspace.context import WorkContext

__all__ = ["case"]

_EXPORT_EPILOG = """\
Only submissions whose witness consented to the recipient class are included;
--override REASON includes the others (logged and stated in the export record),
never those whose witness withdrew consent, and never with their identifying
details. With --seal-to, the bundle is written as DIR.tar.age, sealed to those
keys, and no plaintext copy is left outside the workspace.
"""


@click.group()
def case() -> None:
    """Case bundles for prosecutors and other recipients."""


@case.command("export", epilog=_EXPORT_EPILOG)
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--to", "to", required=True, type=click.Path(file_okay=False, path_type=Path),
              metavar="DIR", help="The case bundle folder to create (must not exist).")  # fmt: skip
@click.option(
    "--recipient", required=True, metavar="NAME", help="Who receives it (e.g. OPG Ukraine)."
)
@click.option("--recipient-class", required=True, metavar="CLASS",
              help="Their consent class (A4), e.g. ua-prosecutors, icc-otp.")  # fmt: skip
@click.option("--purpose", required=True, metavar="TEXT", help="Why they receive it.")
@click.option("--seal-to", "seal_to", multiple=True, metavar="RECIPIENT",
              help="Seal the whole bundle to this age key (age1...). Repeatable.")  # fmt: skip
@click.option(
    "--override", metavar="REASON", help="Include submissions outside the witness's consent."
)
@with_workspace
def case_export(
    ctx: WorkContext,
    *,
    incident_id: str,
    to: Path,
    recipient: str,
    recipient_class: str,
    purpose: str,
    seal_to: tuple[str, ...],
    override: str | None,
) -> None:
    """Export an incident as a case bundle."""
    from crypto.keyfile import parse_recipient
    from triage.case.export import CaseRequest, export_case

    request = CaseRequest(
        incident_id.strip().upper(), to, recipient, recipient_class, purpose, override,
        tuple(parse_recipient(text) for text in seal_to),
    )  # fmt: skip
    result = export_case(ctx, request)
    for decision in result.decisions:
        verdict = "included" if decision.included else "WITHHELD"
        click.echo(f"{decision.submission.id}: {verdict}: {decision.reason}")
    click.echo(f"case bundle: {result.output} ({result.files} originals)")
    click.echo(f"manifest sha256: {result.root_hash}")


@case.command("verify")
@click.argument(
    "folder", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The exporter's minisign.pub, obtained separately (recommended).")  # fmt: skip
def case_verify(folder: Path, pubkey: Path | None) -> None:
    """Verify a case bundle: signature, every file's SHA-256, nothing added."""
    from crypto.minisign import VerifyKey
    from triage.case.verify import verify_case

    key = VerifyKey.parse(pubkey.read_text(encoding="ascii")) if pubkey else None
    check = verify_case(folder, key)
    click.echo(f"case bundle intact: {check.files} files, signed by minisign key {check.key_id}")
    # The comment is the signer's text: a hostile bundle's escapes must not reach the terminal.
    click.echo(f"signed: {neutralise_line(check.trusted_comment)}")
    if check.key_from_bundle:
        click.echo(
            f"note: the key came with the bundle; confirm {check.key_id} with the sender",
            err=True,
        )
