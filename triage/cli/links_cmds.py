"""`triage links` (corroboration suggestions) and `triage incident new|list|add|show`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from triage.cli._ws import with_workspace
from triage.errors import usage
from triage.text.safe import neutralise_line

if TYPE_CHECKING:
    from triage.workspace.context import WorkContext

__all__ = ["incident", "links"]

_LINKS_EPILOG = """\
Same file (same SHA-256) and same witness (same reply key) are shown so they are not
mistaken for corroboration: they are one source. Candidates share at least two of:
overlapping date windows, the oblast, unit or call-sign tokens (compared across
Ukrainian, Russian and English spellings). A submission its witness withdrew is
marked WITHDRAWN: it is not to be used, and 'triage incident add' refuses it. Nothing
is linked automatically: add a submission to an incident with 'triage incident add'.
"""


@click.command(epilog=_LINKS_EPILOG)
@click.argument("ident", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per related submission.")
@with_workspace
def links(ctx: WorkContext, ident: str, as_json: bool) -> None:
    """Suggest submissions related to ID, with the reasons."""
    from triage.browse.lookup import get_submission
    from triage.corroborate.links import find_links, withdrawn_ids

    with ctx.session() as session:
        row = get_submission(session, ident)
        found = find_links(session, row)
        withdrawn = withdrawn_ids(session, [link.submission_id for link in found])
    for link in found:
        if as_json:
            record = {
                "id": link.submission_id,
                "kinds": sorted(link.kinds),
                "reasons": link.reasons,
                "independent": link.independent,
                "withdrawn": link.submission_id in withdrawn,
            }
            click.echo(json.dumps(record, ensure_ascii=False))
            continue
        label = "possibly independent" if link.independent else "same source"
        withdrew = link.submission_id in withdrawn
        mark = "  WITHDRAWN by the witness: not to be used" if withdrew else ""
        click.echo(f"{link.submission_id}  ({label}){mark}")
        for reason in link.reasons:
            click.echo(f"    {reason}")
    if not found and not as_json:
        click.echo("no related submissions found")


@click.group()
def incident() -> None:
    """Group submissions into incidents (one event: one place, one time)."""


@incident.command("new")
@click.argument("title")
@click.option("--oblast", help="Where it happened: ISO code (UA-23) or name.")
@with_workspace
def incident_new(ctx: WorkContext, title: str, oblast: str | None) -> None:
    """Create an incident; prints its id."""
    from triage.corroborate.incidents import new_incident

    with ctx.session() as session:
        made = new_incident(ctx, session, title, oblast)
    click.echo(made.id)


@incident.command("list")
@with_workspace
def incident_list(ctx: WorkContext) -> None:
    """List incidents, oldest first, with their status and number of submissions."""
    from triage.corroborate.incidents import list_incidents, status_label

    with ctx.session() as session:
        found = list_incidents(session)
    for item in found:
        click.echo(
            f"{item.id}  {status_label(item.status)}  {item.oblast or '-'}  "
            f"submissions {item.members}  {neutralise_line(item.title)}"
        )
    if not found:
        click.echo("no incidents yet: create one with 'triage incident new'")


@incident.command("add")
@click.argument("incident_id", metavar="INCIDENT")
@click.argument("idents", nargs=-1, required=True, metavar="ID...")
@click.option(
    "--role",
    default="corroborating",
    show_default=True,
    type=click.Choice(["primary", "corroborating", "contextual"]),
    help="How the submission relates to the incident.",
)
@click.option(
    "--override",
    metavar="REASON",
    help="Link a submission its witness withdrew anyway; REASON goes to the custody log.",
)
@with_workspace
def incident_add(
    ctx: WorkContext, incident_id: str, idents: tuple[str, ...], role: str, override: str | None
) -> None:
    """Link submissions to an incident (a confirmed suggestion; logged)."""
    from triage.corroborate.incidents import add_members

    if override is not None and not override.strip():
        raise usage("--override needs a reason for the custody log")
    with ctx.session() as session:
        added = add_members(ctx, session, incident_id, idents, role, override=override)
    click.echo(f"added {len(added)}: {', '.join(added) or 'all were already linked'}")


@incident.command("show")
@click.argument("incident_id", metavar="INCIDENT")
@with_workspace
def incident_show(ctx: WorkContext, incident_id: str) -> None:
    """Show an incident, its submissions and its independent sources."""
    from triage.corroborate.incidents import get_incident, independent_sources, status_label

    with ctx.session() as session:
        found = get_incident(session, incident_id)
        rows = [member.submission for member in found.members]
        sources = independent_sources(rows)
        click.echo(f"{found.id}  {neutralise_line(found.title)}")
        click.echo(f"status: {status_label(found.status)}   oblast: {found.oblast or 'not set'}")
        for member in found.members:
            sub = member.submission
            click.echo(
                f"  {sub.id}  {member.role:<13} {sub.status:<10} {sub.day}  files {len(sub.files)}"
            )
        click.echo(f"submissions: {len(rows)}   independent sources: {sources.count}")
        for group in sources.groups:
            if len(group) > 1:
                click.echo(f"  one source: {', '.join(group)} (same witness or same file)")
