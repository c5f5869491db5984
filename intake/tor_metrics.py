"""The proof-of-work effort tor asks of clients, from tor's MetricsPort (deploy/torrc).

tor 0.4.8+ has no control-port GETINFO for an onion service's suggested PoW effort; it
publishes it, with the queue of introductions waiting for dispatch, as Prometheus gauges on
its MetricsPort (`tor_hs_pow_suggested_effort`, `tor_hs_rdv_pow_pqueue_count`). The shipped
torrc listens on the loopback only and answers the loopback only (MetricsPortPolicy).
"""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass

__all__ = ["TOR_METRICS", "OnionMetrics", "TorMetricsUnavailable", "read_tor_metrics"]

# deploy/torrc: MetricsPort 127.0.0.1:9035.
TOR_METRICS = "127.0.0.1:9035"
# `name{onion="...",...} value`; tor writes plain decimal values.
_SAMPLE = re.compile(r'^(tor_hs_\w+)\{onion="([a-z2-7]+)"[^}]*\} ([0-9.e+-]+)$', re.MULTILINE)
_GAUGES = {
    "tor_hs_pow_suggested_effort": "pow_effort",
    "tor_hs_rdv_pow_pqueue_count": "pow_queue",
    "tor_hs_intro_num_total": "introductions",
    "tor_hs_rdv_num_total": "rendezvous",
}


class TorMetricsUnavailable(Exception):
    """tor's MetricsPort could not be read; `fix` says what to do."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.reason, self.fix = reason, fix


@dataclass(frozen=True)
class OnionMetrics:
    """One onion service: the PoW effort it suggests (0: the puzzle is off), introductions
    waiting in its PoW queue, and introductions and rendezvous since tor started."""

    onion: str
    pow_effort: int
    pow_queue: int
    introductions: int
    rendezvous: int

    @classmethod
    def parse_all(cls, text: str) -> tuple[OnionMetrics, ...]:
        """Every onion service in a /metrics answer, in the order tor lists them."""
        found: dict[str, dict[str, int]] = {}
        for name, onion, value in _SAMPLE.findall(text):
            values = found.setdefault(onion, dict.fromkeys(_GAUGES.values(), 0))
            if name in _GAUGES:
                values[_GAUGES[name]] += int(float(value))
        return tuple(cls(onion, **values) for onion, values in found.items())

    def as_json(self) -> dict[str, object]:
        return dict(vars(self))


def read_tor_metrics(address: str = TOR_METRICS, timeout: float = 5.0) -> tuple[OnionMetrics, ...]:
    """GET /metrics from tor's MetricsPort at HOST:PORT. Raises TorMetricsUnavailable."""
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as exc:
        raise TorMetricsUnavailable(
            f"tor's MetricsPort {address} cannot be reached ({type(exc).__name__})",
            "check that tor runs with deploy/torrc (MetricsPort 127.0.0.1:9035)",
        ) from None
    finally:
        conn.close()
    if response.status != 200:
        raise TorMetricsUnavailable(
            f"tor's MetricsPort {address} answered {response.status}",
            "check MetricsPortPolicy in /etc/tor/torrc (deploy/torrc: accept 127.0.0.1)",
        )
    return OnionMetrics.parse_all(text)
