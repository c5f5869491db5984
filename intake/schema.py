"""Schema migrations through Alembic: upgrade to head, and where a database stands."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from intake.errors import DatabaseError

__all__ = ["SchemaStatus", "alembic_config", "head_revision", "schema_status", "upgrade_to_head"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database's schema stands against the code's newest migration."""

    current: str | None
    head: str

    @property
    def at_head(self) -> bool:
        return self.current == self.head


def alembic_config() -> AlembicConfig:
    """An Alembic config for our migrations directory; no alembic.ini is needed or read."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest revision this code knows. A branched history is a bug in the migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the initial migration always exists
        raise DatabaseError("no migrations found")
    return head


def schema_status(engine: Engine) -> SchemaStatus:
    """The database's current revision (None when never migrated) and the head.

    Raises DatabaseError when the database cannot be reached.
    """
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"cannot read the schema revision ({exc.__class__.__name__})",
            hint="check INTAKE_DATABASE_URL and that the database server is running",
        ) from exc
    return SchemaStatus(current=current, head=head_revision())


def upgrade_to_head(engine: Engine) -> SchemaStatus:
    """Apply every missing migration in one transaction; returns the status before upgrading.

    Idempotent: at head it does nothing. Raises DatabaseError when the database is unreachable
    or a migration fails (the transaction is rolled back where the database allows).
    """
    before = schema_status(engine)
    if before.at_head:
        return before
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"the migration failed ({exc.__class__.__name__})",
            hint="run `intake migrate -v` for the traceback; the database was left as it was",
        ) from exc
    return before
