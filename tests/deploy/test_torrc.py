"""deploy/torrc: the real tor accepts it, and the defences tor would not insist on are there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deploy.conftest import (
    DEPLOY,
    defaults_files,
    directives,
    installable_copy,
    run_tor,
)
from tests.deploy.haproxy import FRONT_BIND, sections
from tests.deploy.haproxy import shipped as haproxy_config

WITNESS_DIR = "/var/lib/tor/intake/"
ADMIN_DIR = "/var/lib/tor/intake-admin-ssh/"


def services(text: str) -> dict[str, list[tuple[str, str]]]:
    """Each HiddenServiceDir with the HiddenService* lines that follow it."""
    blocks: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for key, value in directives(text):
        if key == "HiddenServiceDir":
            current = blocks.setdefault(value, [])
        elif key.startswith("HiddenService") and current is not None:
            current.append((key, value))
    return blocks


def torrc_problems(text: str) -> list[str]:
    """What our torrc must say that tor itself does not require (tor accepts a torrc without it)."""
    top = directives(text)
    problems = [
        f"missing '{key} {value}'"
        for key, value in (("SocksPort", "0"), ("SafeLogging", "1"))
        if (key, value) not in top
    ]
    problems += [
        f"{key} {value} must not be set"
        for key, value in top
        if key == "SocksPort" and value != "0"
    ]
    witness = services(text).get(WITNESS_DIR, [])
    for needed in (
        ("HiddenServicePort", "80 127.0.0.1:8000"),
        ("HiddenServiceExportCircuitID", "haproxy"),
        ("HiddenServicePoWDefensesEnabled", "1"),
    ):
        if needed not in witness:
            problems.append(f"witness service: missing '{needed[0]} {needed[1]}'")
    return problems


def shipped() -> str:
    return (DEPLOY / "torrc").read_text(encoding="utf-8")


def test_real_tor_verifies_the_shipped_torrc(tor: str, tmp_path: Path) -> None:
    torrc = installable_copy(tmp_path, shipped())
    for defaults in defaults_files(tmp_path):
        assert "Configuration was valid" in run_tor(
            tor, tmp_path, torrc, defaults, "--verify-config"
        )


def test_effective_config_has_no_socks_port_and_keeps_the_defences(
    tor: str, tmp_path: Path
) -> None:
    # Debian's defaults add two SocksPort lines; the torrc's single "SocksPort 0" must replace them.
    torrc = installable_copy(tmp_path, shipped())
    for defaults in defaults_files(tmp_path):
        effective = directives(run_tor(tor, tmp_path, torrc, defaults, "--dump-config", "full"))
        assert [v for k, v in effective if k == "SocksPort"] == ["0"]
        assert ("SafeLogging", "1") in effective
        assert ("HiddenServicePoWDefensesEnabled", "1") in effective


def test_shipped_torrc_has_every_defence() -> None:
    assert torrc_problems(shipped()) == []
    witness, admin = services(shipped())[WITNESS_DIR], services(shipped())[ADMIN_DIR]
    assert ("HiddenServiceVersion", "3") in witness
    assert ("HiddenServiceVersion", "3") in admin
    assert ("HiddenServicePort", "22 127.0.0.1:22") in admin


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("HiddenServicePoWDefensesEnabled 1", "HiddenServicePoWDefensesEnabled"),
        ("SafeLogging 1", "SafeLogging"),
        ("SocksPort 0", "SocksPort"),
        ("HiddenServiceExportCircuitID haproxy", "HiddenServiceExportCircuitID"),
    ],
)
def test_tor_accepts_a_torrc_without_a_defence_but_the_check_does_not(
    tor: str, tmp_path: Path, line: str, problem: str
) -> None:
    weakened = re.sub(rf"^{re.escape(line)}$", "", shipped(), flags=re.MULTILINE)
    assert weakened != shipped()
    torrc = installable_copy(tmp_path, weakened)
    assert "Configuration was valid" in run_tor(
        tor, tmp_path, torrc, defaults_files(tmp_path)[0], "--verify-config"
    )
    assert any(problem in p for p in torrc_problems(weakened))


def test_onion_port_targets_the_haproxy_front() -> None:
    target = dict(services(shipped())[WITNESS_DIR])["HiddenServicePort"].split()[1]
    assert target == FRONT_BIND
    # The circuit id reaches HAProxy only if HAProxy expects the PROXY line tor sends.
    assert f"bind {FRONT_BIND} accept-proxy" in sections(haproxy_config())["frontend witness"]
