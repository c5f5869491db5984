"""`triage media scan`: what each file says about itself (issue M), for files already here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from triage.cli._ws import to_folder_option, with_workspace
from triage.text.safe import neutralise_line

if TYPE_CHECKING:
    from triage.importing.media_scan import MediaScanReport
    from triage.workspace.context import WorkContext

__all__ = ["media", "print_scan", "run_scan"]

_SIMILAR_EPILOG = """\
vPDQ: a PDQ hash of a frame a second; frames of low quality are dropped; two
frames match within 31 bits; a file matches when one way at least 80 % of its
frames are found in the other and at least 30 % the other way. A 5 % crop is a
known limit of PDQ (see docs/media.md).
"""

_EPILOG = """\
Each file is read by PyAV (FFmpeg) and, where installed, ExifTool, each in a child
process with a time limit (then its whole process group is killed), a memory limit,
capped output, no network (a network namespace where the kernel grants one, and
always a seccomp filter refusing sockets, new processes and any change to files), and
the file on its standard input. PyAV can open no other file. ExifTool (Perl) must
open its modules, so it could read other files your account can read, but it can
send them nowhere and only its 18 tags are kept. A file they cannot read is
'unreadable'; the scan goes on. The opened copy is an unnamed 0600 file in the
workspace's tmp/ that vanishes when the scan closes it, even if the scan is killed.
Every file read and the tools' versions go to the custody log.
"""


def print_scan(report: MediaScanReport) -> None:
    for said in report.said:
        click.echo(f"triage: note: {said}", err=True)
    if report.scanned:
        click.echo(
            f"media: {report.scanned} file(s) scanned, {report.read} read, "
            f"{len(report.unreadable)} unreadable ({'; '.join(report.tools)})"
        )
    for name in report.unreadable:
        click.echo(neutralise_line(f"unreadable: {name}"))


def run_scan(ctx: WorkContext, only: set[str] | None, *, again: bool = False) -> None:
    from triage.importing.media_scan import scan_media

    print_scan(scan_media(ctx, only=only, again=again))


@click.group()
def media() -> None:
    """Media files: what each says about itself (time, place, device, software)."""


@media.command(epilog=_EPILOG)
@click.argument("idents", metavar="[ID]...", nargs=-1)
@click.option("--again", is_flag=True, help="Read files already scanned again (new tools).")
@with_workspace
def scan(ctx: WorkContext, idents: tuple[str, ...], again: bool) -> None:
    """Read the metadata of imported media files not scanned yet (of ID... if given)."""
    only = None
    if idents:
        from triage.browse.lookup import get_submission

        with ctx.session() as session:
            only = {get_submission(session, ident).id for ident in idents}
    run_scan(ctx, only, again=again)


@media.command(epilog=_SIMILAR_EPILOG)
@click.argument(
    "path", metavar="FILE", type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@with_workspace
def similar(ctx: WorkContext, path: Path) -> None:
    """Find the imported files that are FILE's picture or video, re-encoded or not."""
    from triage.corroborate.media_links import search_file

    digest, found = search_file(ctx, path)
    click.echo(f"{path.name}: sha256 {digest}")
    for match in found:
        s = match.similarity
        spans = ", ".join(f"{a:.0f}-{b:.0f} s" for a, b in s.ranges) or "-"
        click.echo(
            f"{match.submission_id}  file {match.blob_name}  {s.query_share:.0%} of FILE's "
            f"frames found, {s.other_share:.0%} back; FILE matched at {spans}"
        )
    if not found:
        click.echo("no imported file shows the same picture or video")


@media.command()
@click.argument("ident", metavar="ID")
@to_folder_option("Folder for the PNGs (created if missing; nothing is overwritten).")
@with_workspace
def sheet(ctx: WorkContext, ident: str, folder: Path) -> None:
    """One PNG of key frames per video of ID: a look without playing a file from outside."""
    from triage.browse.lookup import get_submission
    from triage.browse.sheet import write_sheets

    with ctx.session() as session:
        row = get_submission(session, ident)
        for done in write_sheets(ctx, row, folder):
            name = done.attachment.blob_name
            click.echo(f"{done.path}  ({name})" if done.path else f"{name}: {done.skipped}")
