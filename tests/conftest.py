"""Shared fixtures for every layer's tests, and the run summary that says what was skipped."""

from __future__ import annotations

import os

import pytest

POSTGRES_ENV = "INTAKE_TEST_DATABASE_URL"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly whether the storage tests also ran on PostgreSQL."""
    if os.environ.get(POSTGRES_ENV):
        terminalreporter.write_line(f"storage tests ran on SQLite and PostgreSQL ({POSTGRES_ENV})")
    else:
        terminalreporter.write_line(
            f"NOTE: PostgreSQL storage tests were SKIPPED: {POSTGRES_ENV} is not set "
            "(`.ci/run` sets it; SQLite ran)",
            yellow=True,
            bold=True,
        )
