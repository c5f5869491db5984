"""`intake doctor`'s findings about the front and tor's PoW, from given readings.

The readings themselves come from a real HAProxy and a real tor in tests/deploy/test_live_status.py.
"""

from __future__ import annotations

import pytest

from intake.findings import Severity
from intake.front_status import BackendStatus, FrontStatus
from intake.live import LiveStatus, Unavailable, live_findings
from intake.tor_metrics import OnionMetrics, TorMetricsUnavailable

ONION = "a" * 56
SSH_ONION = "s" * 56
# The shape of tor 0.4.8's /metrics for deploy/torrc: the witness (port 80), then the SSH onion.
METRICS = f"""\
# HELP tor_hs_app_write_bytes_total Total number of bytes written to the application
tor_hs_app_write_bytes_total{{onion="{ONION}",port="80"}} 10
tor_hs_pow_suggested_effort{{onion="{ONION}"}} 48
tor_hs_rdv_pow_pqueue_count{{onion="{ONION}"}} 3
tor_hs_intro_num_total{{onion="{ONION}"}} 7
tor_hs_rdv_num_total{{onion="{ONION}"}} 5
tor_hs_app_write_bytes_total{{onion="{SSH_ONION}",port="22"}} 99
tor_hs_pow_suggested_effort{{onion="{SSH_ONION}"}} 0
tor_hs_intro_num_total{{onion="{SSH_ONION}"}} 2
"""


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
    found = _findings(LiveStatus(_front(), OnionMetrics(ONION, 0, 0, 5, 5)))
    assert found["front"] == (Severity.OK, "40/4000 connections, nothing queued")
    assert found["tor pow"][0] is Severity.OK


def test_queues_full_backends_and_pow_are_warnings() -> None:
    found = _findings(
        LiveStatus(_front(queued=7, in_flight=384), OnionMetrics(ONION, 120, 9, 0, 0))
    )
    assert found["front"][0] is Severity.WARNING
    assert "7 request(s) queued, full: uploads" in found["front"][1]
    assert found["tor pow"][0] is Severity.WARNING
    assert "effort 120, 9 queued" in found["tor pow"][1]


def test_unreadable_sources() -> None:
    not_root = Unavailable("/run/haproxy/intake-stats.sock is readable by root only", "sudo", True)
    down = Unavailable("tor's MetricsPort cannot be reached", "start tor")
    found = _findings(LiveStatus(not_root, down))
    # root's socket by design, but the queues went unchecked: a warning, never OK.
    assert found["front"] == (
        Severity.WARNING,
        "not checked: /run/haproxy/intake-stats.sock is readable by root only",
    )
    assert found["tor pow"] == (Severity.WARNING, "tor's MetricsPort cannot be reached")
    assert LiveStatus(not_root, down).nothing_read
    quiet = OnionMetrics(ONION, 0, 0, 0, 0)
    assert _findings(LiveStatus(down, quiet))["front"][0] is Severity.WARNING
    assert not LiveStatus(down, quiet).nothing_read


def test_only_the_witness_onion_is_read() -> None:
    witness = OnionMetrics.parse(METRICS)
    assert witness == OnionMetrics(ONION, pow_effort=48, pow_queue=3, introductions=7, rendezvous=5)
    assert SSH_ONION not in repr(witness)


def test_no_witness_onion_is_unavailable_and_names_no_other() -> None:
    ssh_only = "\n".join(line for line in METRICS.splitlines() if ONION not in line)
    with pytest.raises(TorMetricsUnavailable) as raised:
        OnionMetrics.parse(ssh_only)
    assert "0 onion service(s) on port 80" in raised.value.reason
    assert SSH_ONION not in raised.value.reason + raised.value.fix
