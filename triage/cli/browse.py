"""`triage list`, `triage show` and `triage extract`: finding and reading submissions."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from triage.browse.listing import Filters, ListRow, list_rows
from triage.cli._ws import to_folder_option, with_workspace
from triage.text.safe import neutralise_line

if TYPE_CHECKING:
    from triage.workspace.context import WorkContext

__all__ = ["extract", "list_submissions", "show"]

_DAY = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@click.command("list")
@click.option("--status", help="Only this status (e.g. new, triaged, withdrawn).")
@click.option("--type", "incident_type", help="Only this claimed incident type (e.g. torture).")
@click.option("--oblast", help="Only this oblast: ISO code (UA-23) or name (Zaporizhzhia).")
@click.option("--since", type=_DAY, help="Received on or after this day (YYYY-MM-DD).")
@click.option("--until", type=_DAY, help="Received on or before this day (YYYY-MM-DD).")
@click.option(
    "--tag", "tags", multiple=True, help="Only with this tag. Repeatable (all must match)."
)
@click.option(
    "--search", help="Words that must all appear, any script: Гром finds Grom and Hrom, and back."
)
@click.option("--limit", type=click.IntRange(min=0), help="At most this many (0: all).")
@click.option("--has-gps", is_flag=True, help="With a file that carries a GPS position.")
@click.option(
    "--recorded-since", type=_DAY, help="With a file recorded on or after this day (its own clock)."
)
@click.option(
    "--recorded-until",
    type=_DAY,
    help="With a file recorded on or before this day (its own clock).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON lines, one submission each (all rows).")
@with_workspace
def list_submissions(
    ctx: WorkContext,
    *,
    status: str | None,
    incident_type: str | None,
    oblast: str | None,
    since: datetime | None,
    until: datetime | None,
    tags: tuple[str, ...],
    search: str | None,
    limit: int | None,
    has_gps: bool,
    recorded_since: datetime | None,
    recorded_until: datetime | None,
    as_json: bool,
) -> None:
    """List submissions, newest first (100 unless --limit; --json lists all)."""
    if limit is None:
        limit = 0 if as_json else 100
    tags = tuple(tag.casefold() for tag in tags)
    filters = Filters(
        status, incident_type, oblast, _day(since), _day(until), tags, search, limit,
        has_gps=has_gps, recorded_since=_day(recorded_since),
        recorded_until=_day(recorded_until),
    )  # fmt: skip
    rows, total = list_rows(ctx.workspace.db_path, filters)
    if as_json:
        click.echo("\n".join(json.dumps(row.to_json(), ensure_ascii=False) for row in rows))
        return
    _table(rows, total)


def _table(rows: list[ListRow], total: int) -> None:
    """A plain aligned table (rich would cost its import time on every `list`)."""
    header = ("id", "day", "status", "claimed types", "oblast", "files", "tags")
    lines = [header] + [
        (r.id, r.day, r.status, ", ".join(r.types), r.oblast or "", str(r.files),
         neutralise_line(", ".join(r.tags)))
        for r in rows
    ]  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    click.echo(f"{len(rows)} of {total} shown")


@click.command()
@click.argument("ident", metavar="ID")
@with_workspace
def show(ctx: WorkContext, ident: str) -> None:
    """Show a submission: the testimony as written, its files and their verification, and
    its testimony's thread (replies sent, follow-ups and which reply each answers)."""
    from rich.console import Console
    from sqlalchemy import select

    from triage.browse.lookup import get_submission
    from triage.browse.show import render_submission
    from triage.browse.thread import thread_of
    from triage.workspace.models import IncidentMember, Note, Submission

    with ctx.session() as session:
        row = get_submission(session, ident)
        notes = list(session.scalars(select(Note).where(Note.submission_id == row.id)))
        members = select(IncidentMember).where(IncidentMember.submission_id == row.id)
        # The thread is the testimony's, whichever of its submissions is shown.
        root = session.get(Submission, row.parent_id) if row.parent_id else row
        root = root or row
        children = select(Submission).where(Submission.parent_id == root.id)
        ctx.record("viewed", "submission", row.id, object_sha256=row.plain_sha256)
        render_submission(
            Console(highlight=False, soft_wrap=True),
            row,
            notes,
            list(session.scalars(members)),
            thread=thread_of(session, root, list(session.scalars(children))),
        )


@click.command()
@click.argument("ident", metavar="ID")
@to_folder_option("Folder to write the files into (created if missing; nothing is overwritten).")
@with_workspace
def extract(ctx: WorkContext, ident: str, folder: Path) -> None:
    """Open a submission's files into DIR, bit for bit, each checked against its SHA-256."""
    from triage.browse.extract import extract_files
    from triage.browse.lookup import get_submission

    with ctx.session() as session:
        row = get_submission(session, ident)
        for done in extract_files(ctx, row, folder):
            if done.path is None:
                click.echo(f"{done.attachment.blob_name}: {done.skipped}")
            else:
                click.echo(f"{done.path}  sha256 {done.attachment.plaintext_sha256}  verified")
