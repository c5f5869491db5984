"""`intake init`, `migrate`, `serve` and `sweep`: setting up and running the witness site."""

from __future__ import annotations

import os
import sys
from datetime import timedelta

import click

from intake.blobstore import LocalBlobStore
from intake.cli._common import config_options, open_database
from intake.config import Config, is_loopback_bind
from intake.datadir import init_data_dir, read_secret_key
from intake.db import make_engine
from intake.errors import ConfigError
from intake.keyring import Keyring
from intake.maintenance import TEMP_MIN_IDLE, sweep
from intake.paths import find_gunicorn_conf
from intake.schema import upgrade_to_head
from intake.wordlists import load_all as load_wordlists

__all__ = ["register"]


@click.command()
@config_options
def init(config: Config) -> None:
    """Create the data directory (0700), the secret key (0600), the blob store and the schema.

    Safe to run again: what exists is kept (a too-open data directory is tightened).
    """
    engine = make_engine(config.database_url)
    try:
        report = init_data_dir(config, engine)
    finally:
        engine.dispose()
    verb = "created" if report.data_dir_created else "kept"
    click.echo(f"{verb} data directory {config.data_dir} (mode 0700)")
    if report.data_dir_tightened:
        click.echo("  its permissions were too open and are now 0700")
    verb = "created" if report.secret_key_created else "kept"
    click.echo(f"{verb} secret key {config.secret_key_file} (mode 0600)")
    click.echo(f"blob store {config.blob_dir}")
    _echo_schema(report.schema_before.current, report.schema_after.current)
    click.echo(
        "next: intake keys add RECIPIENT --name NAME --signing-key MINISIGN_PUB_FILE, "
        "then intake doctor"
    )


def _echo_schema(before: str | None, after: str | None) -> None:
    if before == after:
        click.echo(f"schema already at {after}")
    else:
        click.echo(f"schema migrated from {before or 'nothing'} to {after}")


@click.command()
@config_options
def migrate(config: Config) -> None:
    """Upgrade the database schema to this version's newest migration (idempotent)."""
    engine = make_engine(config.database_url)
    try:
        before = upgrade_to_head(engine)
    finally:
        engine.dispose()
    _echo_schema(before.current, before.head)


def _exec(argv: list[str], env: dict[str, str]) -> None:
    """Replace this process with gunicorn (a seam for tests)."""
    # The argv is ours (sys.executable and fixed arguments), never a shell string.
    os.execve(argv[0], argv, env)  # noqa: S606


@click.command()
@click.option(
    "--bind",
    help="HOST:PORT to listen on; loopback only (tor forwards to it).  [default: "
    "INTAKE_BIND or 127.0.0.1:8080]",
)
@config_options
def serve(config: Config, bind: str | None) -> None:
    """Run the witness site under gunicorn with deploy/gunicorn.conf.py."""
    bind = bind or config.bind
    if not is_loopback_bind(bind):
        raise ConfigError(
            f"refusing to listen on {bind}: the site must only be reached through tor",
            hint="bind 127.0.0.1:PORT; deploy/torrc forwards the onion service there",
        )
    conf = find_gunicorn_conf()
    read_secret_key(config.secret_key_file)  # fail here, not in every worker
    load_wordlists()  # likewise: a changed codename word list stops the server here
    with open_database(config) as db:
        sweep(db.sessions, LocalBlobStore(config.blob_dir))
        if not Keyring(config.keyring_file, db.sessions).has_active_key():
            click.echo(
                "intake: warning: no active investigator key; the site will refuse submissions",
                err=True,
            )
    env = dict(os.environ)
    env.update(
        INTAKE_DATA_DIR=str(config.data_dir),
        INTAKE_DATABASE_URL=config.database_url,
        INTAKE_BIND=bind,
    )
    click.echo(f"serving on http://{bind} (gunicorn, {conf})", err=True)
    argv = [sys.executable, "-m", "gunicorn", "--config", str(conf), "--bind", bind]
    _exec([*argv, "intake.wsgi:app"], env)


@click.command("sweep")
@click.option(
    "--min-idle-hours",
    type=click.FloatRange(min=0),
    default=TEMP_MIN_IDLE.total_seconds() / 3600,
    show_default=True,
    help="Remove temporary upload files idle this long (uploads in progress stay).",
)
@config_options
def sweep_command(config: Config, min_idle_hours: float) -> None:
    """Remove expired drafts, tokens and sessions, abandoned uploads and orphaned blobs, and
    receipt records kept longer than their time after a purge."""
    with open_database(config) as db:
        report = sweep(
            db.sessions,
            LocalBlobStore(config.blob_dir),
            temp_min_idle=timedelta(hours=min_idle_hours),
        )
    click.echo(
        f"removed {report.temps_removed} abandoned upload(s), {report.orphans_removed} orphaned "
        f"blob(s), {report.drafts_expired} expired draft(s) with {report.draft_blobs_removed} "
        f"file(s), {report.tokens_expired} expired form token(s), {report.sessions_expired} "
        f"expired session(s), {report.witnesses_expired} codename(s) never used, "
        f"{report.records_expired} receipt record(s) past their time after a purge"
    )


def register(cli: click.Group) -> None:
    for command in (init, migrate, serve, sweep_command):
        cli.add_command(command)
