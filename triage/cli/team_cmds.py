"""`triage team add/list/remove`: the team's age recipients, which `triage import` counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from triage.cli._ws import with_workspace
from triage.text.safe import neutralise_line

if TYPE_CHECKING:
    from triage.workspace.context import WorkContext

__all__ = ["team"]

_EPILOG = """\
An age X25519 stanza does not say whose key it is for, so 'triage import' counts them:
a submission sealed to more keys than the team has (or to a key of another type) was
sealed to someone besides the team, and is refused. Without a list, the team is this
workspace's own key. Add every investigator whose key the server seals to.
"""


@click.group(epilog=_EPILOG)
def team() -> None:
    """The team's age recipients, which imports count stanzas against."""


@team.command("add")
@click.argument("recipient")
@click.option("--name", default="investigator", help="Who it is, for people reading the list.")
@with_workspace
def add(ctx: WorkContext, recipient: str, name: str) -> None:
    """Add an investigator's age recipient (age1…) to the team."""
    from triage.keys.team import Member, load_team, save_team

    member = Member.parse(recipient, name)
    save_team(ctx.workspace, load_team(ctx.workspace).with_member(member))
    ctx.record("team_added", "key", member.fingerprint, details={"name": member.name})
    click.echo(f"added: {member.fingerprint} {member.name}")


@team.command("remove")
@click.argument("key", metavar="RECIPIENT|FINGERPRINT")
@with_workspace
def remove(ctx: WorkContext, key: str) -> None:
    """Remove a member (by recipient or fingerprint) from the team."""
    from triage.keys.team import load_team, save_team

    before = load_team(ctx.workspace)
    after = before.without(key)
    gone = next(m for m in before.members if m not in after.members)
    save_team(ctx.workspace, after)
    ctx.record("team_removed", "key", gone.fingerprint, details={"name": gone.name})
    click.echo(f"removed: {gone.fingerprint} {gone.name}")


@team.command("list")
@with_workspace
def list_team(ctx: WorkContext) -> None:
    """Show the team: fingerprint, name and recipient of each member."""
    from triage.keys.team import load_team

    members = load_team(ctx.workspace).members
    for member in members:
        click.echo(neutralise_line(f"{member.fingerprint}  {member.name}  {member.recipient}"))
    click.echo(f"{len(members)} key(s): imports refuse submissions sealed to more")
