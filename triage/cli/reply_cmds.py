"""`triage reply` and `triage replies export`: answers to witnesses, sealed offline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from triage.cli._ws import with_workspace
from triage.errors import usage

if TYPE_CHECKING:
    from triage.workspace.context import WorkContext

__all__ = ["replies", "reply"]


_REPLY_EPILOG = """\
The reply waits, sealed, in the witness's account on the server: the witness reads it
only after logging in with their codename. It is not contact by phone, mail or any
other channel, so it respects a witness who did not agree to be contacted (D3); ask
for more information this way, then mark the submission 'triage status ID needs-info'.
Run 'triage replies export' to take the replies to the server.
"""


@click.command(epilog=_REPLY_EPILOG)
@click.argument("ident", metavar="ID")
@click.argument("text", required=False)
@click.option(
    "--file",
    "text_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the reply (UTF-8 text) from this file.",
)
@with_workspace
def reply(ctx: WorkContext, ident: str, text: str | None, text_file: Path | None) -> None:
    """Seal a reply to the witness of ID: it waits in their account."""
    from triage.browse.replies import seal_reply

    if (text is None) == (text_file is None):
        raise usage("give the reply as TEXT or with --file, not both or neither")
    if text_file is not None:
        text = text_file.read_text(encoding="utf-8")
    assert text is not None  # noqa: S101 - narrowing for mypy
    with ctx.session() as session:
        made = seal_reply(ctx, session, ident, text)
    click.echo(f"{made.id}: sealed to the witness of {made.submission_id}")


@click.group()
def replies() -> None:
    """Replies waiting to go to the server."""


@replies.command("export")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="BUNDLE",
    help="Where to write the signed replies bundle.",
)
@click.option("--all", "everything", is_flag=True, help="Include replies exported before.")
@with_workspace
def replies_export(ctx: WorkContext, out: Path, everything: bool) -> None:
    """Write the replies bundle for 'intake replies import'."""
    from triage.browse.replies import export_replies

    with ctx.session() as session:
        written, done = export_replies(ctx, session, out, everything=everything)
    click.echo(f"{len(done)} replies in {', '.join(str(p) for p in written)}")
