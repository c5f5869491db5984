"""`triage import BUNDLE`: verify and import an export bundle, then write the signed ack."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from triage.cli._progress import BarProgress
from triage.cli._ws import with_workspace
from triage.cli.media_cmds import run_scan
from triage.errors import usage
from triage.text.safe import neutralise_line

if TYPE_CHECKING:
    from triage.importing.importer import ImportReport
    from triage.workspace.context import WorkContext

__all__ = ["import_bundle"]

_EPILOG = """\
Every item of the bundle is checked against its manifest in one pass; if anything
is wrong with the bundle, nothing is imported. Submissions sealed to your identity
are opened, every file is opened and its SHA-256 compared with the sealed
submission.json, and files stay sealed in the workspace. Importing the same bundle
again changes nothing and writes a new ack.

The ack names only the submissions opened and fully verified here; copy it to the
server for 'intake purge --ack ACK'.
"""


@click.command("import", epilog=_EPILOG)
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--ack",
    "ack_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help="Where to write the ack bundle (default: WORKSPACE/acks/ack-TIME.bundle).",
)
@click.option(
    "--accept-extra-recipient",
    "accept_reason",
    metavar="REASON",
    help="Import submissions sealed to more keys than 'triage team list' has; REASON goes to "
    "the custody log.",
)
@click.option(
    "--no-media",
    is_flag=True,
    help="Do not read the new files' own metadata now ('triage media scan' does it later).",
)
@with_workspace
def import_bundle(
    ctx: WorkContext,
    bundle: Path,
    ack_path: Path | None,
    accept_reason: str | None,
    no_media: bool,
) -> None:
    """Import an export bundle from the server."""
    from triage.importing.importer import run_import

    if accept_reason is not None and not accept_reason.strip():
        raise usage("--accept-extra-recipient needs a reason for the custody log")
    # Unlock both keys before the live bar starts: a passphrase prompt drawn under a bar that
    # keeps redrawing looks like a hung tool (and the bar would overwrite what is typed).
    ctx.identities()
    ctx.signing_key()
    with BarProgress("importing") as progress:
        report = run_import(
            ctx, bundle, ack_path=ack_path, progress=progress, accept_extra=accept_reason
        )
    _print(report)
    if not no_media and report.new:
        run_scan(ctx, set(report.new))
    _print_ack(report)


def _echo(text: str, *, err: bool = False) -> None:
    # Problems quote what a bundle holds (ids, names); no escape of a hostile bundle may
    # reach the investigator's terminal.
    click.echo(neutralise_line(text), err=err)


def _print(report: ImportReport) -> None:
    echo: Any = _echo
    echo(f"bundle: {report.submissions_in_bundle} submissions")
    echo(f"imported: {len(report.new)} new, {len(report.known)} already in the workspace")
    if report.not_yours:
        echo(f"not for your key: {report.not_yours} (left for other investigators)")
    for ident, problems in sorted(report.unverified.items()):
        echo(f"NOT VERIFIED {ident}: {'; '.join(problems)}")
    for problem in report.problems:
        echo(f"problem: {problem}")
    for ident in report.extra_accepted:
        echo(f"accepted although sealed to more than the team: {ident} (custody log has why)")
    if report.extra_refused:
        echo(
            f"triage: hint: {len(report.extra_refused)} submission(s) were sealed to a key "
            "besides the team's and stay on the server: if the team really grew, 'triage team "
            "add' the new key and import again; otherwise tell the admin at once",
            err=True,
        )
    for warning in [*report.keyring_warnings, *report.rule_warnings, *report.thread_warnings]:
        echo(f"warning: {warning}")
    for note in report.thread_notes:
        echo(f"note: {note}")
    for ident in report.recipient_mismatch:
        echo(f"warning: {ident}: the export's reply key differs from the sealed one")
    for effect in report.consent:
        what = "consent withdrawn" if effect.withdrawn else "consent narrowed"
        echo(f"{what}: {effect.submission_id} (by {effect.change_id})")


def _print_ack(report: ImportReport) -> None:
    # Last, after the media scan's lines: the ack's path is what the investigator copies next.
    echo: Any = _echo
    if report.ack_files:
        where = ", ".join(str(p) for p in report.ack_files)
        echo(f"ack: {report.acked} submissions in {where}")
        echo("copy the ack to the server and run 'intake purge --ack ACK'", err=True)
    else:
        echo("ack: none written (nothing was verified)")
