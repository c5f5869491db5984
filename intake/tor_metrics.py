"""The proof-of-work effort tor asks of clients, from tor's MetricsPort (deploy/torrc).

tor 0.4.8+ has no control-port GETINFO for an onion service's suggested PoW effort; it
publishes it, with the queue of introductions waiting for dispatch, as Prometheus gauges on
its MetricsPort (`tor_hs_pow_suggested_effort`, `tor_hs_rdv_pow_pqueue_count`). The shipped
torrc listens on the loopback only and answers the loopback only (MetricsPortPolicy).

tor labels every sample with the full address of its onion service, the admin's SSH onion
included (deploy/torrc), whose address is a secret that only admins should know. So only the
witness onion's figures are ever parsed, told apart by its virtual port 80 (`port="80"` on its
byte counters); no other address leaves this module, nor reaches a terminal or `--json`.
"""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass

from intake.errors import IntakeError

__all__ = ["TOR_METRICS", "OnionMetrics", "TorMetricsUnavailable", "read_tor_metrics"]

# deploy/torrc: MetricsPort 127.0.0.1:9035.
TOR_METRICS = "127.0.0.1:9035"
# `name{onion="...",...} value`; tor writes plain decimal values.
_SAMPLE = re.compile(r'^(tor_hs_\w+)\{onion="([a-z2-7]+)"[^}]*\} ([0-9.e+-]+)$', re.MULTILINE)
# deploy/torrc: `HiddenServicePort 80 127.0.0.1:8000`; the SSH onion's is 22.
_WITNESS = re.compile(r'^tor_hs_app_\w+\{onion="([a-z2-7]+)",port="80"\}', re.MULTILINE)
_GAUGES = {
    "tor_hs_pow_suggested_effort": "pow_effort",
    "tor_hs_rdv_pow_pqueue_count": "pow_queue",
    "tor_hs_intro_num_total": "introductions",
    "tor_hs_rdv_num_total": "rendezvous",
}


class TorMetricsUnavailable(IntakeError):
    """tor's MetricsPort could not be read; `fix` (the hint) says what to do."""

    category = "live"

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason, hint=fix)
        self.reason, self.fix = reason, fix


@dataclass(frozen=True)
class OnionMetrics:
    """The witness onion service: the PoW effort it suggests (0: the puzzle is off),
    introductions waiting in its PoW queue, and introductions and rendezvous since tor started."""

    onion: str
    pow_effort: int
    pow_queue: int
    introductions: int
    rendezvous: int

    @classmethod
    def parse(cls, text: str) -> OnionMetrics:
        """The witness onion's figures in a /metrics answer; every other service is skipped
        unread. Raises TorMetricsUnavailable when no service listens on port 80."""
        witnesses = set(_WITNESS.findall(text))
        if len(witnesses) != 1:
            raise TorMetricsUnavailable(
                f"tor's metrics show {len(witnesses)} onion service(s) on port 80, not one",
                "check that /etc/tor/torrc is deploy/torrc (HiddenServicePort 80, once)",
            )
        (witness,) = witnesses
        values = dict.fromkeys(_GAUGES.values(), 0)
        for name, onion, value in _SAMPLE.findall(text):
            if onion == witness and name in _GAUGES:
                values[_GAUGES[name]] += int(float(value))
        return cls(witness, **values)

    def as_json(self) -> dict[str, object]:
        return dict(vars(self))


def read_tor_metrics(address: str = TOR_METRICS, timeout: float = 5.0) -> OnionMetrics:
    """GET /metrics from tor's MetricsPort at HOST:PORT. Raises TorMetricsUnavailable."""
    host, _, port = address.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
    except (http.client.RemoteDisconnected, ConnectionResetError):
        # tor accepts the connection, then closes it without a word for an address its
        # MetricsPortPolicy rejects.
        raise TorMetricsUnavailable(
            f"tor's MetricsPort {address} closed the connection without answering",
            "check MetricsPortPolicy in /etc/tor/torrc (deploy/torrc: accept 127.0.0.1), "
            "and that tor is not stopping: systemctl status tor@default",
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise TorMetricsUnavailable(
            f"tor's MetricsPort {address} cannot be reached ({type(exc).__name__})",
            "check that tor runs with deploy/torrc (MetricsPort 127.0.0.1:9035): systemctl "
            "status tor@default; the firewall of deploy/README.md lets only root connect: sudo",
        ) from None
    finally:
        conn.close()
    if response.status != 200:
        raise TorMetricsUnavailable(
            f"tor's MetricsPort {address} answered {response.status}",
            "check MetricsPortPolicy in /etc/tor/torrc (deploy/torrc: accept 127.0.0.1)",
        )
    return OnionMetrics.parse(text)
