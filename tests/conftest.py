"""Shared fixtures for every layer's tests, and the run summary that says what was skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

POSTGRES_ENV = "INTAKE_TEST_DATABASE_URL"


def keyring_env(root: Path) -> dict[str, str]:
    """The environment that puts the keyring file under `root` (made here), owned by us.

    Production keeps it root-owned in /etc/intake; the path and the expected owner are
    configuration, so no test needs root.
    """
    folder = root / "etc-intake"
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "INTAKE_KEYRING_FILE": str(folder / "keyring.json"),
        "INTAKE_KEYRING_OWNER_UID": str(os.geteuid()),
    }


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly whether the storage tests also ran on PostgreSQL."""
    if os.environ.get(POSTGRES_ENV):
        terminalreporter.write_line(f"storage tests ran on SQLite and PostgreSQL ({POSTGRES_ENV})")
    else:
        terminalreporter.write_line(
            f"NOTE: PostgreSQL storage tests were SKIPPED: {POSTGRES_ENV} is not set "
            "(`make test` sets it when PostgreSQL is installed; SQLite ran)",
            yellow=True,
            bold=True,
        )
