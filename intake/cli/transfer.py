"""`intake export`, `intake purge`, `intake replies import`, `intake keys apply-rewrap`.

Thin commands over intake.transfer: parse options, open the database and the blob store, call
one service, print what it did. Errors leave through the group's one funnel (exit 7 for a
refused bundle, 5 for storage).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from intake.blobstore import LocalBlobStore
from intake.cli._common import Database, config_options, json_option, open_database
from intake.cli.keys import keys_group
from intake.config import Config
from intake.keyring import Keyring
from intake.transfer import (
    RewrapReport,
    apply_rewrap,
    import_replies,
    plan_export,
    purge_acknowledged,
    run_export,
)
from protocol.bundle import FAT32_MAX_FILE_SIZE, MIN_PART_SIZE, parse_size

__all__ = ["register"]

MIB = 1024**2
_bundle_argument = click.argument(
    "bundle", type=click.Path(dir_okay=False, path_type=Path), metavar="BUNDLE"
)


@contextmanager
def _open(config: Config) -> Iterator[tuple[Database, LocalBlobStore, Keyring]]:
    with open_database(config) as db:
        yield db, LocalBlobStore(config.blob_dir), Keyring(config.keyring_file, db.sessions)


def _part_size(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int:
    if value is None:
        return FAT32_MAX_FILE_SIZE
    try:
        size = parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if size < MIN_PART_SIZE:
        raise click.BadParameter(f"parts must be at least {MIN_PART_SIZE} bytes")
    return size


@click.command("export")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the bundle (never overwritten; BUNDLE.part001 … when split).",
)
@click.option(
    "--not-exported",
    "selection",
    flag_value="new",
    default=True,
    help="Only submissions never exported (the default).",
)
@click.option(
    "--all", "selection", flag_value="all", help="Every submission not yet purged, again."
)
@click.option(
    "--max-size",
    "max_part_size",
    callback=_part_size,
    metavar="SIZE",
    help="Split into parts of at most SIZE (700M, 4G …).  [default: 4 GiB - 1, FAT32's limit]",
)
@config_options
def export(config: Config, out: Path, selection: str, max_part_size: int) -> None:
    """Write the sealed submissions to an export bundle for the offline laptop.

    Nothing in it is plaintext: sealed files, each submission's sealed submission.json, ids,
    days and the witnesses' public reply keys. What it carries is marked exported.
    """
    with _open(config) as (db, store, keyring):
        plan = plan_export(db.sessions, keyring, include_exported=selection == "all")
        if not plan.submissions:
            click.echo("nothing to export" + ("" if selection == "all" else " (try --all)"))
            return
        stderr = Console(stderr=True)
        with Progress(
            TextColumn("exporting"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=stderr,
            disable=not stderr.is_terminal,
        ) as progress:
            task = progress.add_task("export", total=plan.total_bytes)
            report = run_export(
                plan,
                db.sessions,
                store,
                out,
                max_part_size=max_part_size,
                progress=lambda size: progress.advance(task, size),
            )
    click.echo(
        f"exported {report.submissions} submission(s) with {report.files} file(s), "
        f"{report.sealed_bytes / MIB:.1f} MiB sealed"
    )
    for path in report.paths:
        click.echo(f"wrote {path}")
    click.echo("once the investigator has imported it: intake purge --ack ACK_BUNDLE")


@click.command("purge")
@click.option(
    "--ack",
    "ack",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The ack bundle `triage import` wrote (signed by an active investigator key).",
)
@config_options
def purge(config: Config, ack: Path) -> None:
    """Delete the submissions an investigator acknowledged as imported and verified.

    Their blobs are overwritten and unlinked; the witness and submission rows stay, so a
    returning witness sees "delivered to investigators" and can read replies.
    """
    with _open(config) as (db, store, keyring):
        report = purge_acknowledged(db.sessions, store, keyring, ack)
    click.echo(
        f"purged {len(report.purged)} submission(s): {report.blobs_deleted} blob(s) "
        f"overwritten and deleted; acknowledged by {report.signer_name} "
        f"({report.signer_fingerprint})"
    )
    if report.already_purged:
        click.echo(f"{len(report.already_purged)} submission(s) were already purged")


@click.group("replies")
def replies_group() -> None:
    """Replies from investigators to witnesses."""


@replies_group.command("import")
@_bundle_argument
@config_options
def replies_import(config: Config, bundle: Path) -> None:
    """Store the replies in BUNDLE (from `triage replies export`) for their witnesses.

    Each reply is sealed to its witness's reply key; the witness reads it at the next login.
    """
    with _open(config) as (db, store, keyring):
        report = import_replies(db.sessions, store, keyring, bundle)
    click.echo(
        f"imported {len(report.imported)} reply(ies) for {report.witnesses} witness(es), "
        f"signed by {report.signer_name} ({report.signer_fingerprint})"
    )
    if report.already_imported:
        click.echo(f"{len(report.already_imported)} reply(ies) were already imported")


def _rewrap_json(report: RewrapReport) -> str:
    data = asdict(report)
    return json.dumps(data, indent=2)


@click.command("apply-rewrap")
@_bundle_argument
@json_option
@config_options
def apply_rewrap_command(config: Config, bundle: Path, as_json: bool) -> None:
    """Replace stored headers with those re-wrapped offline in BUNDLE (`triage rewrap`).

    The bundle must be signed by an active investigator key and wrap to exactly the active
    keyring. Payloads are kept byte for byte; each file is swapped atomically.
    """
    with _open(config) as (db, store, keyring):
        report = apply_rewrap(db.sessions, store, keyring, bundle)
    if as_json:
        click.echo(_rewrap_json(report))
        return
    submissions = len({c.submission_id for c in report.changed})
    click.echo(
        f"re-wrapped {len(report.changed)} blob(s) of {submissions} submission(s) to "
        f"{len(report.recipients)} key(s); signed by {report.signer_name} "
        f"({report.signer_fingerprint})"
    )
    if report.unchanged:
        click.echo(f"{len(report.unchanged)} blob(s) already had their new header")
    if report.not_stored:
        click.echo(f"{len(report.not_stored)} blob(s) are no longer stored (purged); skipped")
    if report.still_on_retired_keys:
        click.echo(
            f"{report.still_on_retired_keys} stored blob(s) are still sealed to a retired key: "
            "export them (intake export --all), re-wrap (triage rewrap) and apply again"
        )


def register(cli: click.Group) -> None:
    cli.add_command(export)
    cli.add_command(purge)
    cli.add_command(replies_group)
    keys_group.add_command(apply_rewrap_command)
