"""Database engine and session factory: SQLite (WAL, secure_delete) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

import sqlite3
from typing import Any, TypeAlias

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from intake.errors import DatabaseError

__all__ = ["SessionFactory", "check_connection", "make_engine", "make_session_factory"]

SessionFactory: TypeAlias = sessionmaker[Session]

# How long a SQLite writer waits for another one (milliseconds). Gunicorn threads and the admin
# CLI share one file; a commit takes milliseconds, so 10 s only matters under a real pile-up.
SQLITE_BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Per connection: WAL, secure_delete, foreign keys, busy timeout.

    - WAL lets the witness site read while a submission commits.
    - secure_delete=ON overwrites deleted rows' content with zeros in the database file, so a
      purged submission's row does not linger in free pages (the WAL file and the filesystem
      may still hold old copies: SECURITY.md says so).
    - foreign_keys: SQLite leaves them off unless asked, per connection.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):  # pragma: no cover - pysqlite only
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for a URL from `Config.database_url` (already normalised to psycopg 3).

    Raises DatabaseError when the URL names a driver that is not installed.
    """
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        # pre_ping: a PostgreSQL restart must not cost the next witness their submission.
        return create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError) as exc:
        raise DatabaseError(
            f"cannot use the database url: {exc.__class__.__name__}",
            hint="check INTAKE_DATABASE_URL (or --database-url)",
        ) from exc


def make_session_factory(engine: Engine) -> SessionFactory:
    """Sessions that keep loaded values after commit (views render them after the transaction)."""
    return sessionmaker(engine, expire_on_commit=False)


def check_connection(engine: Engine) -> None:
    """Open a connection and run a trivial query; raise DatabaseError if the database is down."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"the database is unreachable ({exc.__class__.__name__})",
            hint="check INTAKE_DATABASE_URL and that the database server is running",
        ) from exc
