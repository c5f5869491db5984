"""`triage rewrap`: headers for a new set of investigator keys, for the server to apply."""

# ruff: noqa: PLC0415  # services (crypto) load inside the command

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from triage.cli._ws import with_workspace

if TYPE_CHECKING:
    from triage.workspace.context import WorkContext

__all__ = ["rewrap"]

_EPILOG = """\
Give every key that must open the files from now on (the whole active keyring):
the server refuses a bundle whose recipient set differs from its keyring. Run it
with the identity that opens the files today (-i OLD_IDENTITY after a rotation).
Then: 'intake keys apply-rewrap BUNDLE' on the server.
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
@with_workspace
def rewrap(ctx: WorkContext, recipients: tuple[str, ...], out: Path) -> None:
    """Re-wrap every imported sealed file's header to new recipients."""
    from crypto.keyfile import fingerprint, parse_recipient
    from triage.rewrap import rewrap as run_rewrap

    parsed = [parse_recipient(text) for text in recipients]
    report = run_rewrap(ctx, parsed, out)
    click.echo(f"{report.headers} headers in {', '.join(str(p) for p in report.written)}")
    click.echo("recipients: " + ", ".join(sorted(fingerprint(r) for r in parsed)))
    if report.skipped:
        click.echo(f"not re-wrapped (do not open with this identity): {len(report.skipped)}")
