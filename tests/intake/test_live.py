"""`intake doctor`'s findings about the front and tor's PoW, from given readings.

The readings themselves come from a real HAProxy and a real tor in tests/deploy/test_live_status.py.
"""

from __future__ import annotations

from intake.findings import Severity
from intake.front_status import BackendStatus, FrontStatus
from intake.live import LiveStatus, Unavailable, live_findings
from intake.tor_metrics import OnionMetrics

ONION = "a" * 56


def _front(queued: int = 0, in_flight: int = 0) -> FrontStatus:
    return FrontStatus(
        connections=40,
        max_connections=4000,
        waiting_at_front=30,
        backends=(BackendStatus("uploads", in_flight, 384, queued, queued),),
        refused_connections=0,
        refused_requests=0,
        bad_or_slow_heads=0,
        circuits_tracked={"circuits": 3},
    )


def _findings(status: LiveStatus) -> dict[str, tuple[Severity, str]]:
    return {f.check: (f.severity, f.message) for f in live_findings(status)}


def test_a_quiet_site() -> None:
    found = _findings(LiveStatus(_front(), (OnionMetrics(ONION, 0, 0, 5, 5),)))
    assert found["front"] == (Severity.OK, "40/4000 connections, nothing queued")
    assert found["tor pow"][0] is Severity.OK


def test_queues_full_backends_and_pow_are_warnings() -> None:
    found = _findings(
        LiveStatus(_front(queued=7, in_flight=384), (OnionMetrics(ONION, 120, 9, 0, 0),))
    )
    assert found["front"][0] is Severity.WARNING
    assert "7 request(s) queued, full: uploads" in found["front"][1]
    assert found["tor pow"][0] is Severity.WARNING
    assert "effort 120, 9 queued" in found["tor pow"][1]


def test_unreadable_sources() -> None:
    not_root = Unavailable("/run/haproxy/intake-stats.sock is readable by root only", "sudo", True)
    down = Unavailable("tor's MetricsPort cannot be reached", "start tor")
    found = _findings(LiveStatus(not_root, down))
    assert found["front"][0] is Severity.OK  # root's socket by design: no fault
    assert found["tor pow"] == (Severity.WARNING, "tor's MetricsPort cannot be reached")
    assert _findings(LiveStatus(down, ()))["front"][0] is Severity.WARNING
