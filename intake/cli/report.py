"""`intake stats` and `intake doctor`: how much is stored, and whether the installation is sound."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
from rich.table import Table

from intake.cli._common import (
    ExitCode,
    config_options,
    console,
    json_option,
    lazy_config_options,
    open_database,
    print_error,
)
from intake.cli._live import live_options, show_live
from intake.config import Config
from intake.doctor import Finding, Severity, diagnose
from intake.errors import ConfigError
from intake.live import live_findings, read_live
from intake.paths import find_gunicorn_conf
from intake.stats import DayCounts, collect_stats

__all__ = ["register"]

GIB = 1024**3


def _row(label: str, counts: DayCounts) -> list[str]:
    return [
        label,
        str(counts.submissions),
        str(counts.files),
        f"{counts.sealed_bytes / GIB:.2f}",
        str(counts.awaiting_export),
        str(counts.awaiting_ack),
        str(counts.purged),
    ]


@click.command()
@click.option(
    "--live",
    is_flag=True,
    help="Only the front and tor, now (no database; as root, to read HAProxy's stats socket).",
)
@live_options
@json_option
@lazy_config_options
def stats(
    load_config: Callable[[], Config],
    live: bool,
    haproxy_socket: Path,
    tor_metrics: str,
    as_json: bool,
) -> None:
    """Counts by day received (submissions, files, sealed GiB, awaiting export/ack, purged),
    then the front and tor now: connections, queues, refusals, the PoW effort tor asks."""
    status = read_live(haproxy_socket, tor_metrics)
    if live:
        show_live(status, as_json=as_json, strict=True)
        return
    config = load_config()
    with open_database(config) as db:
        result = collect_stats(db.sessions, config.blob_dir)
    if as_json:
        click.echo(json.dumps({**result.as_json(), "live": status.as_json()}, indent=2))
        return
    table = Table(
        "day", "submissions", "files", "sealed GiB", "awaiting export", "awaiting ack", "purged"
    )
    for day in result.days:
        table.add_row(*_row(day.day.isoformat() if day.day else "", day))
    table.add_row(*_row("total", result.totals), style="bold")
    console().print(table)
    click.echo(f"free disk: {result.free_disk_bytes / GIB:.1f} GiB")
    show_live(status, as_json=False)


def _default_gunicorn_conf() -> Path | None:
    try:
        return find_gunicorn_conf()
    except ConfigError:
        return None


def _echo_finding(finding: Finding) -> None:
    label = {Severity.OK: "ok", Severity.WARNING: "WARNING", Severity.PROBLEM: "PROBLEM"}
    click.echo(f"{label[finding.severity]:<8} {finding.check}: {finding.message}")
    if finding.fix and finding.severity is not Severity.OK:
        click.echo(f"{'':<8} fix: {finding.fix}")


@click.command()
@click.option(
    "--gunicorn-conf",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The gunicorn config the service uses (default: the shipped deploy/gunicorn.conf.py).",
)
@click.option(
    "--torrc",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The torrc tor runs with: check that its SSH onion has client authorisation.",
)
@live_options
@json_option
@config_options
def doctor(  # noqa: PLR0917 - click passes each option by name; the order is not an API
    config: Config,
    gunicorn_conf: Path | None,
    torrc: Path | None,
    haproxy_socket: Path,
    tor_metrics: str,
    as_json: bool,
) -> None:
    """Check permissions, secret key, database, keyring, free disk, bind, swap and the torrc,
    then the front (queues, full backends) and tor (the PoW effort it asks).

    Every problem comes with its fix; the exit status is 8 when there is one.
    """
    conf = gunicorn_conf or _default_gunicorn_conf()
    findings = diagnose(config, gunicorn_conf=conf, torrc=torrc)
    findings.extend(live_findings(read_live(haproxy_socket, tor_metrics)))
    if as_json:
        click.echo(json.dumps([finding.as_json() for finding in findings], indent=2))
    else:
        for finding in findings:
            _echo_finding(finding)
    problems = sum(finding.severity is Severity.PROBLEM for finding in findings)
    if problems:
        print_error(
            f"{problems} problem(s) found", "apply each fix above, then run intake doctor again"
        )
        raise click.exceptions.Exit(ExitCode.PROBLEMS_FOUND)


def register(cli: click.Group) -> None:
    cli.add_command(stats)
    cli.add_command(doctor)
