"""The engine: SQLite pragmas, PostgreSQL through psycopg 3, unreachable databases reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from intake.db import check_connection, make_engine
from intake.errors import DatabaseError


def test_sqlite_runs_wal_with_secure_delete(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
    finally:
        engine.dispose()


def test_the_engine_works_on_each_database(engine: Engine) -> None:
    check_connection(engine)
    assert engine.dialect.name in {"sqlite", "postgresql"}
    if engine.dialect.name == "postgresql":
        assert engine.dialect.driver == "psycopg"


def test_an_unreachable_database_is_a_database_error() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    try:
        with pytest.raises(DatabaseError, match="unreachable") as info:
            check_connection(engine)
        assert info.value.category == "database"
    finally:
        engine.dispose()


def test_an_unopenable_sqlite_file_is_a_database_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.sqlite3'}")
    try:
        with pytest.raises(DatabaseError):
            check_connection(engine)
    finally:
        engine.dispose()
