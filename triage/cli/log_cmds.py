"""`triage log verify` and `triage log checkpoint`: the custody log's integrity."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from triage.cli._ws import with_workspace
from triage.errors import ExitCode, TriageError

if TYPE_CHECKING:
    from triage.workspace.context import WorkContext

__all__ = ["log"]


@click.group()
def log() -> None:
    """The custody log: every import, view, change and export, hash-chained."""


@log.command("verify")
@with_workspace
def log_verify(ctx: WorkContext) -> None:
    """Check every entry's hash chain and every checkpoint's signature."""
    from triage.custody.check import verify_log

    report = verify_log(ctx.log(), ctx.verify_keys(), ctx.workspace.config.workspace_id)
    if not report.ok:
        raise TriageError(
            f"custody log broken at line {report.broken_line}: {report.reason}",
            hints=[
                f"lines 1 to {report.entries} are intact; keep a copy of the log as it is "
                "and compare it with the custody extracts of earlier exports",
            ],
            category="custody",
            exit_code=ExitCode.DAMAGED,
        )
    click.echo(
        f"custody log intact: {report.entries} entries, {report.checkpoints} signed checkpoints"
    )
    click.echo(f"head: seq {report.head_seq} {report.head_hash}")


@log.command("checkpoint")
@with_workspace
def log_checkpoint(ctx: WorkContext) -> None:
    """Sign the current head of the log with your minisign key."""
    entry = ctx.checkpoint("requested")
    click.echo(f"checkpoint at seq {entry['seq']}: signed head {entry['prev_hash']}")
