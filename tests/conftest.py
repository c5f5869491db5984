"""Shared fixtures for every layer's tests, and the run summary that says what was skipped."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

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


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """A fresh schema on the shared PostgreSQL: (base url, schema name); dropped afterwards.

    Each test gets its own schema, so tests run in parallel against one database.
    """
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_ENV} (the SQLite half ran)")
    schema = f"intake_rel_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(make_url(base).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield base, schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def schema_url(base: str, schema: str, *, port: int | None = None, host: str = "127.0.0.1") -> str:
    """A server's database URL for `schema` on the PostgreSQL at `base` (or at `host`:`port`,
    e.g. through a proxy that can cut it or a relay into another network namespace)."""
    url = make_url(base).set(drivername="postgresql+psycopg")
    if port is not None:
        url = url.set(host=host, port=port)
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


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
