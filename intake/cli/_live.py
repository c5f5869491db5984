"""How `intake stats` prints the front and tor now, and the options saying where to read them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.table import Table

from intake.cli._common import console
from intake.errors import LiveUnavailableError
from intake.front_status import HAPROXY_SOCKET, FrontStatus
from intake.live import LiveStatus, Unavailable
from intake.tor_metrics import TOR_METRICS, OnionMetrics

__all__ = ["live_options", "show_live"]

_F = TypeVar("_F", bound=Callable[..., Any])


def live_options(command: _F) -> _F:
    """Add --haproxy-socket and --tor-metrics (the shipped deploy/ files' values by default)."""
    command = click.option(
        "--tor-metrics",
        default=TOR_METRICS,
        show_default=True,
        help="tor's MetricsPort (deploy/torrc), HOST:PORT.",
    )(command)
    return click.option(
        "--haproxy-socket",
        type=click.Path(dir_okay=False, path_type=Path),
        default=HAPROXY_SOCKET,
        show_default=True,
        help="HAProxy's stats socket (deploy/haproxy.cfg); root only.",
    )(command)


def _front_table(front: FrontStatus) -> Table:
    table = Table("backend", "at gunicorn", "slots", "queued", "queued max", title="front")
    for backend in front.backends:
        table.add_row(
            backend.name,
            str(backend.in_flight),
            str(backend.slots),
            str(backend.queued),
            str(backend.queued_max),
        )
    return table


def _echo_front(front: FrontStatus) -> None:
    console().print(_front_table(front))
    click.echo(
        f"connections: {front.connections} of {front.max_connections}; "
        f"waiting at the front (heads arriving, idle, queued): {front.waiting_at_front}"
    )
    click.echo(
        f"since start: {front.refused_connections} connections refused (per-circuit limit), "
        f"{front.refused_requests} requests denied (429 over a limit, 400 for a bad upload path), "
        f"{front.bad_or_slow_heads} heads cut or malformed (408/400)"
    )
    tracked = ", ".join(f"{name} {count}" for name, count in front.circuits_tracked.items())
    click.echo(f"circuits tracked (last 10 min): {tracked}")


def _echo_witness(witness: OnionMetrics) -> None:
    # The witness onion's address is public; tor's other services (the admin's SSH) are
    # never read (intake/tor_metrics.py).
    table = Table("PoW effort", "PoW queue", "introductions", "rendezvous", title="tor")
    table.add_row(
        str(witness.pow_effort),
        str(witness.pow_queue),
        str(witness.introductions),
        str(witness.rendezvous),
    )
    console().print(table)
    click.echo(f"witness onion: {witness.onion}.onion")


def _echo_unavailable(what: str, source: Unavailable) -> None:
    click.echo(f"{what}: unavailable: {source.reason}")
    click.echo(f"{what}: fix: {source.fix}")


def show_live(status: LiveStatus, *, as_json: bool, strict: bool = False) -> None:
    """The front's table and counters, then the witness onion's PoW figures (or why not).

    `strict` (`--live`): raise LiveUnavailableError when neither source could be read.
    """
    if as_json:
        click.echo(json.dumps(status.as_json(), indent=2))
    else:
        if isinstance(status.front, Unavailable):
            _echo_unavailable("front", status.front)
        else:
            _echo_front(status.front)
        if isinstance(status.witness, Unavailable):
            _echo_unavailable("tor", status.witness)
        else:
            _echo_witness(status.witness)
    if strict and status.nothing_read:
        raise LiveUnavailableError(
            "neither HAProxy's stats socket nor tor's MetricsPort could be read",
            hint="apply the fixes above; the stats socket needs root (sudo)",
        )
