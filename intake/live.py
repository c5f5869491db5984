"""The site under load, as an admin sees it without logs: the front (HAProxy) and tor's PoW.

`intake stats` shows a `LiveStatus`; `intake doctor` turns it into findings. Either source may
be unreachable (not root, a service down): that is reported with its fix, never raised; only
`intake stats --live` fails when it could read neither. Of tor's onion services only the
witness's is ever read (intake/tor_metrics.py: the SSH onion's address stays unread).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from intake.findings import Finding, Severity, ok
from intake.front_status import FrontStatus, FrontUnavailable, read_front
from intake.tor_metrics import OnionMetrics, TorMetricsUnavailable, read_tor_metrics

__all__ = ["LiveStatus", "Unavailable", "live_findings", "read_live"]


@dataclass(frozen=True)
class Unavailable:
    """Why a source could not be read, and what to do about it."""

    reason: str
    fix: str
    not_root: bool = False

    def as_json(self) -> dict[str, object]:
        return {"unavailable": self.reason, "fix": self.fix}


@dataclass(frozen=True)
class LiveStatus:
    front: FrontStatus | Unavailable
    witness: OnionMetrics | Unavailable

    @property
    def nothing_read(self) -> bool:
        return isinstance(self.front, Unavailable) and isinstance(self.witness, Unavailable)

    def as_json(self) -> dict[str, object]:
        return {"front": self.front.as_json(), "tor": self.witness.as_json()}


def read_live(haproxy_socket: Path, tor_metrics: str) -> LiveStatus:
    """Both sources, each read once; never raises for an unreachable one."""
    front: FrontStatus | Unavailable
    witness: OnionMetrics | Unavailable
    try:
        front = read_front(haproxy_socket)
    except FrontUnavailable as exc:
        front = Unavailable(exc.reason, exc.fix, exc.not_root)
    try:
        witness = read_tor_metrics(tor_metrics)
    except TorMetricsUnavailable as exc:
        witness = Unavailable(exc.reason, exc.fix)
    return LiveStatus(front, witness)


def _front_finding(front: FrontStatus | Unavailable) -> Finding:
    if isinstance(front, Unavailable) and front.not_root:
        # doctor runs as the service user (as root it could leave root-owned files in the data
        # directory) and the socket is root's on purpose: no fault of the install, but the
        # queues and full backends went unchecked, which an OK would hide.
        return Finding(
            "front",
            Severity.WARNING,
            f"not checked: {front.reason}",
            "check the front as root: sudo /opt/intake/venv/bin/intake stats --live",
        )
    if isinstance(front, Unavailable):
        return Finding("front", Severity.WARNING, front.reason, front.fix)
    summary = f"{front.connections}/{front.max_connections} connections"
    full = [b.name for b in front.backends if b.slots and b.in_flight >= b.slots]
    if front.queued or full:
        return Finding(
            "front",
            Severity.WARNING,
            f"{summary}; {front.queued} request(s) queued, full: {', '.join(full) or 'none'}",
            "under a flood the per-circuit limits hold; see deploy/README.md, 'During an attack'",
        )
    return ok("front", f"{summary}, nothing queued")


def _pow_finding(witness: OnionMetrics | Unavailable) -> Finding:
    if isinstance(witness, Unavailable):
        return Finding("tor pow", Severity.WARNING, witness.reason, witness.fix)
    if witness.pow_effort or witness.pow_queue:
        return Finding(
            "tor pow",
            Severity.WARNING,
            f"tor asks clients for proof-of-work (effort {witness.pow_effort}, "
            f"{witness.pow_queue} queued): the witness site is under a flood",
            "nothing to change: Tor Browser solves the puzzle; see deploy/README.md, "
            "'During an attack'",
        )
    return ok("tor pow", "no proof-of-work asked of the witness site's clients")


def live_findings(status: LiveStatus) -> list[Finding]:
    """`intake doctor`'s view of the front and of tor's PoW."""
    return [_front_finding(status.front), _pow_finding(status.witness)]
