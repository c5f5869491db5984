"""deploy/systemd: systemd accepts the units, and every hardening directive is there."""

from __future__ import annotations

import re
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, directives

UNITS = DEPLOY / "systemd"
SERVICES = ["intake.service", "intake-sweep.service"]
DATA_DIR = "/var/lib/intake"

# The confinement both services share (issue 6), as (directive, exact value).
HARDENING = [
    ("User", "intake"),
    ("ProtectSystem", "strict"),
    ("ReadWritePaths", DATA_DIR),
    ("ReadOnlyPaths", "/etc/intake"),
    ("Environment", "INTAKE_KEYRING_FILE=/etc/intake/keyring.json"),
    ("PrivateTmp", "yes"),
    ("NoNewPrivileges", "yes"),
    ("UMask", "0077"),
    ("LimitCORE", "0"),
    ("MemorySwapMax", "0"),
    ("CapabilityBoundingSet", ""),
    ("AmbientCapabilities", ""),
    ("SystemCallFilter", "@system-service"),
    ("SystemCallFilter", "~@privileged @resources"),
    ("SystemCallArchitectures", "native"),
    ("MemoryDenyWriteExecute", "yes"),
    ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
    ("IPAddressDeny", "any"),
    ("IPAddressAllow", "localhost"),
    ("PrivateDevices", "yes"),
    ("ProtectHome", "yes"),
    ("ProtectKernelTunables", "yes"),
    ("ProtectKernelModules", "yes"),
    ("ProtectControlGroups", "yes"),
    ("RestrictNamespaces", "yes"),
    ("RestrictSUIDSGID", "yes"),
    ("LockPersonality", "yes"),
]


def unit(name: str) -> list[tuple[str, str]]:
    return directives((UNITS / name).read_text(encoding="utf-8"))


def runnable_copies(tmp_path: Path) -> list[Path]:
    """The units with ExecStart pointed at a binary that exists here (verify checks it)."""
    copies = []
    for path in sorted(UNITS.iterdir()):
        text = re.sub(r"/opt/intake/venv/bin/\S+", "/bin/true", path.read_text(encoding="utf-8"))
        copy = tmp_path / path.name
        copy.write_text(text, encoding="utf-8")
        copies.append(copy)
    return copies


@pytest.fixture
def systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.skip("systemd-analyze is not installed; the directive tests below still run")
    return path


def test_systemd_analyze_verify_accepts_the_units_without_a_warning(
    systemd_analyze: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [systemd_analyze, "verify", "--man=no", *map(str, runnable_copies(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # verify exits 0 on an unknown directive or syscall group and only warns: warnings fail too.
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_exposure_score_is_low(systemd_analyze: str, tmp_path: Path) -> None:
    service = next(p for p in runnable_copies(tmp_path) if p.name == "intake.service")
    # --threshold is on systemd's 0-100 scale: 20 is an exposure of 2.0, the top of "OK".
    command = [systemd_analyze, "security", "--offline=yes", "--threshold=20", "--no-pager"]
    result = subprocess.run(
        [*command, str(service)], capture_output=True, text=True, timeout=60, check=False
    )
    if "--offline" in result.stderr or "unrecognized option" in result.stderr:
        pytest.skip("this systemd-analyze cannot score unit files offline")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_every_hardening_directive_is_set(name: str) -> None:
    found = unit(name)
    missing = [f"{k}={v}" for k, v in HARDENING if (k, v) not in found]
    assert missing == []


@pytest.mark.parametrize("name", SERVICES)
def test_the_data_directory_is_the_only_writable_path(name: str) -> None:
    found = unit(name)
    writable = [v for k, v in found if k in {"ReadWritePaths", "StateDirectory", "LogsDirectory"}]
    assert writable == [DATA_DIR]
    assert ("Environment", f"INTAKE_DATA_DIR={DATA_DIR}") in found


@pytest.mark.parametrize("name", SERVICES)
def test_nothing_writable_is_executable(name: str) -> None:
    # A worker that can write a file must not be able to run it: the data directory (and the
    # private temp directories) are mounted noexec for the service.
    found = unit(name)
    no_exec = {path for k, v in found if k == "NoExecPaths" for path in v.split()}
    writable = {path for k, v in found if k == "ReadWritePaths" for path in v.split()}
    assert writable <= no_exec
    assert {"/tmp", "/var/tmp", "/dev/shm"} <= no_exec


def test_site_runs_gunicorn_with_the_shipped_config() -> None:
    found = dict(unit("intake.service"))
    assert found["ExecStart"].split() == [
        "/opt/intake/venv/bin/gunicorn",
        "--config",
        "/etc/intake/gunicorn.conf.py",
        "intake.wsgi:app",
    ]
    assert found["Type"] == "notify"  # gunicorn's arbiter sends READY=1


def test_stop_timeout_outlasts_gunicorn_graceful_timeout() -> None:
    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    stop = int(dict(unit("intake.service"))["TimeoutStopSec"])
    assert stop > settings["graceful_timeout"]


def test_the_sweep_runs_before_the_site_and_every_hour() -> None:
    site = unit("intake.service")
    assert ("Wants", "intake-sweep.service") in site
    assert ("After", "intake-sweep.service") in site
    sweep = dict(unit("intake-sweep.service"))
    assert sweep["Type"] == "oneshot"
    assert sweep["ExecStart"] == "/opt/intake/venv/bin/intake sweep"
    timer = dict(unit("intake-sweep.timer"))
    assert timer["OnUnitActiveSec"] == "1h"
    assert timer["WantedBy"] == "timers.target"
