"""`triage status`, `triage tag` and `triage note`: the investigator's changes, each logged."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from triage.cli._ws import with_workspace

if TYPE_CHECKING:
    from triage.workspace.context import WorkContext

__all__ = ["note", "status", "tag"]


@click.command(
    epilog="Statuses: new, triaged, linked, closed, needs-info, duplicate-of:ID, "
    "rejected:spam, rejected:out-of-scope, hold:safety, hold:legal, withdrawn."
)
@click.argument("ident", metavar="ID")
@click.argument("new_status", metavar="STATUS")
@click.option("--note", "note_text", help="Why; kept as a note beside the change.")
@with_workspace
def status(ctx: WorkContext, ident: str, new_status: str, note_text: str | None) -> None:
    """Set a submission's status."""
    from triage.browse.edits import may_contact, set_status

    with ctx.session() as session:
        row = set_status(ctx, session, ident, new_status, note_text)
        click.echo(
            f"{row.id}: {row.status}" + (f" {row.status_target}" if row.status_target else "")
        )
        if row.status == "needs-info":
            other = "also agreed" if may_contact(row) else "did not agree"
            click.echo(
                f"triage: hint: ask with 'triage reply {row.id}': a reply waits in the witness's "
                f"account until they log in, and is not contact by phone or mail (the witness "
                f"{other} to be contacted otherwise, D3)",
                err=True,
            )


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("ident", metavar="ID")
@click.argument("changes", nargs=-1, required=True, metavar="+TAG|-TAG...")
@with_workspace
def tag(ctx: WorkContext, ident: str, changes: tuple[str, ...]) -> None:
    """Add (+tag) or remove (-tag) tags."""
    from triage.browse.edits import change_tags

    with ctx.session() as session:
        tags = change_tags(ctx, session, ident, changes)
    click.echo(", ".join(tags) or "no tags")


@click.command()
@click.argument("ident", metavar="ID")
@click.argument("text")
@with_workspace
def note(ctx: WorkContext, ident: str, text: str) -> None:
    """Add a note to a submission (notes are never edited or removed)."""
    from triage.browse.edits import add_note

    with ctx.session() as session:
        made = add_note(ctx, session, ident, text)
    click.echo(f"note added to {made.submission_id}")
