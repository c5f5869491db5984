"""The configuration of each tor in the private network, and the shipped torrc made to fit it.

Every tor runs with `TestingTorNetwork 1` and knows only our three authorities on 127.0.0.1,
so no tor ever contacts the public network. The voting schedule is the fastest tor accepts
(a consensus every 10 s) so that the network is usable about a minute after start.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from tests.deploy.conftest import DEPLOY

SHIPPED_TORRC = DEPLOY / "torrc"
WITNESS_DIR = "/var/lib/tor/intake/"
ADMIN_DIR = "/var/lib/tor/intake-admin-ssh/"
WITNESS_TARGET = "HiddenServicePort 80 127.0.0.1:8000"
METRICS_PORT = "MetricsPort 127.0.0.1:9035"
ADMIN_TARGET = "HiddenServicePort 22 127.0.0.1:22"


@dataclass(frozen=True)
class Authority:
    """What every tor of the network needs to know of one directory authority."""

    nickname: str
    or_port: int
    dir_port: int
    v3ident: str
    fingerprint: str

    def line(self) -> str:
        return (
            f"DirAuthority {self.nickname} orport={self.or_port} no-v2 "
            f"v3ident={self.v3ident} 127.0.0.1:{self.dir_port} {self.fingerprint}"
        )


@dataclass(frozen=True)
class Changes:
    """What a benchmark or the PoW test changes in the shipped service (tests use none).

    `witness_ports`: (onion port, local port) added to the witness onion (bench/tornet.py's
    plain server); `witness_lines`: options added to the witness service block; `lines`:
    options added at the end (global ones, such as a Log line).
    """

    witness_ports: tuple[tuple[int, int], ...] = ()
    witness_lines: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()


SHIPPED = Changes()  # the shipped service as it is


def common(datadir: Path, nickname: str, authorities: list[Authority]) -> str:
    """Lines every tor here has: the testing network, its own directory and log, our authorities."""
    lines = [
        "TestingTorNetwork 1",
        f"DataDirectory {datadir}",
        f"Nickname {nickname}",
        "RunAsDaemon 0",
        # tor exits by itself when the process that started it dies, however it dies (a
        # SIGKILLed pytest leaves no tor behind).
        f"__OwningControllerProcess {os.getpid()}",
        # Stop at once on SIGTERM: the harness stops everything at the end of a session.
        "ShutdownWaitLength 0",
        f"Log notice file {datadir}/notice.log",
        # Three authorities and a handful of relays: a path needs only two thirds of them known.
        "PathsNeededToBuildCircuits 0.67",
        # No GeoIP lookups, no DNS: nothing here has a reason to look beyond the loopback.
        "GeoIPFile /dev/null",
        "GeoIPv6File /dev/null",
        *(authority.line() for authority in authorities),
    ]
    return "\n".join(lines) + "\n"


def relay(or_port: int) -> str:
    """A non-exit relay on the loopback that need not test its own reachability."""
    return "\n".join(
        [
            # Relays are never clients here: no SOCKS port (tor would open 9050 by default).
            "SocksPort 0",
            "Address 127.0.0.1",
            f"ORPort 127.0.0.1:{or_port}",
            "AssumeReachable 1",
            "ExitRelay 0",
            "ExitPolicy reject *:*",
            "ContactInfo tornet@test.invalid",
            "",
        ]
    )


def authority(dir_port: int) -> str:
    """A v3 directory authority that votes every 10 s and gives every relay every flag."""
    return "\n".join(
        [
            "AuthoritativeDirectory 1",
            "V3AuthoritativeDirectory 1",
            f"DirPort 127.0.0.1:{dir_port}",
            # Vote + distribution delays must stay under half the interval (tor falls back to
            # half the interval while there is no consensus yet).
            "TestingV3AuthInitialVotingInterval 10",
            "TestingV3AuthInitialVoteDelay 2",
            "TestingV3AuthInitialDistDelay 2",
            "V3AuthVotingInterval 10",
            "V3AuthVoteDelay 2",
            "V3AuthDistDelay 2",
            # Fresh relays have no uptime or bandwidth history: vote the flags in regardless,
            # or no relay would be a guard or an onion-service directory for hours.
            "TestingDirAuthVoteGuard *",
            "TestingDirAuthVoteHSDir *",
            "TestingDirAuthVoteExit *",
            "",
        ]
    )


def control(port: int) -> str:
    """A control port on the loopback, authenticated by the cookie in the data directory."""
    return f"ControlPort 127.0.0.1:{port}\nCookieAuthentication 1\n"


def client(datadir: Path, socks_port: int, control_port: int) -> str:
    # ExtendedErrors: SOCKS5 replies say why an onion failed (0xF4: client authorization needed).
    # The onion-service domain at info level goes to its own file: that is where the client
    # says it solves a proof-of-work puzzle (tests/tornet/test_pow.py).
    return (
        f"SocksPort 127.0.0.1:{socks_port} ExtendedErrors\n"
        f"Log [rend]info file {datadir}/rend.log\n" + control(control_port)
    )


def shipped_service(
    service_root: Path,
    *,
    front_port: int,
    admin_port: int,
    control_port: int,
    metrics_port: int,
    changes: Changes = SHIPPED,
) -> str:
    """deploy/torrc with only its two directories and two targets moved, plus a control port.

    `changes` are for bench/tornet.py and the PoW test only.

    The control port is the harness's window on the service (descriptor uploads, PoW effort);
    everything else, PoW, circuit-id export and stream limits included, runs as shipped.
    """
    text = SHIPPED_TORRC.read_text(encoding="utf-8")
    for needed in (WITNESS_DIR, ADMIN_DIR, WITNESS_TARGET, ADMIN_TARGET, METRICS_PORT):
        assert needed in text, f"the shipped torrc no longer says {needed!r}"
    # Several networks (and a real server) may run on one machine: a free port each.
    text = text.replace(METRICS_PORT, f"MetricsPort 127.0.0.1:{metrics_port}")
    text = text.replace(WITNESS_DIR, f"{service_root / 'witness'}/")
    text = text.replace(ADMIN_DIR, f"{service_root / 'admin-ssh'}/")
    # Added lines go right after the witness's own port: HiddenService* options belong to the
    # HiddenServiceDir above them.
    ports = [f"HiddenServicePort 80 127.0.0.1:{front_port}"]
    ports += [
        f"HiddenServicePort {port} 127.0.0.1:{local}" for port, local in changes.witness_ports
    ]
    text = text.replace(WITNESS_TARGET, "\n".join([*ports, *changes.witness_lines]))
    text = text.replace(ADMIN_TARGET, f"HiddenServicePort 22 127.0.0.1:{admin_port}")
    return text + "\n" + control(control_port) + "".join(f"{line}\n" for line in changes.lines)


def shipped_value(key: str) -> str | None:
    """The value the shipped torrc gives `key` (its last occurrence), if any."""
    found = re.findall(rf"^{key}\s+(.+)$", SHIPPED_TORRC.read_text(encoding="utf-8"), re.M)
    return found[-1].strip() if found else None
