"""keyring file: the investigator_key table becomes a cache; a revoked state; export recipients.

The keyring moved to a root-owned file (intake.keyring); the table stays, as a cache the
service writes from the file, so blob recipient and reply rows keep their foreign keys. Its
state gains `revoked`. Each exported blob records the key fingerprints it was sealed to when
exported: `intake purge` lets a retired key's ack purge only those.

Rows survive both ways (tests/intake/test_migrations.py, with data). The downgrade drops only
what 0301 has no place for: each exported blob's recorded recipients (the column), and the
`revoked` state, which becomes `retired`.

Revision ID: 0302
Revises: 0301
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0302"
down_revision = "0301"
branch_labels = None
depends_on = None

_CHECK = "ck_investigator_key_key_status"

# investigator_key's dependants, set aside and put back (literal SQL: no names built).
# pysqlite runs CREATE TEMP TABLE outside the transaction, so a failed upgrade's rollback leaves
# them on the connection, which the pool hands to the next upgrade: each one begins by
# dropping them (the drop at the end is undone when a failure rolls back what preceded it).
_DROP = (
    "DROP TABLE IF EXISTS temp.kept_reply",
    "DROP TABLE IF EXISTS temp.kept_blob_recipient",
)
_SET_ASIDE = (
    *_DROP,
    "CREATE TEMP TABLE kept_blob_recipient AS SELECT * FROM blob_recipient",
    "CREATE TEMP TABLE kept_reply AS SELECT * FROM reply",
    "DELETE FROM blob_recipient",
    "DELETE FROM reply",
)
_PUT_BACK = (
    "INSERT INTO blob_recipient SELECT * FROM temp.kept_blob_recipient",
    "INSERT INTO reply SELECT * FROM temp.kept_reply",
)


@contextmanager
def _dependants_kept() -> Iterator[None]:
    """Keep blob_recipient and reply rows across a batch rebuild of investigator_key.

    On SQLite the rebuild drops investigator_key, and with foreign keys on (intake.db) that
    DROP TABLE fails while any blob recipient or reply refers to a key (their foreign keys
    have no ON DELETE). `PRAGMA foreign_keys` cannot be turned off inside the migration's
    transaction, so the rows wait in temporary tables and are put back once the new table
    holds the same fingerprints (as 0403 does for pending_draft). PostgreSQL alters in place.
    """
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    try:
        for statement in _SET_ASIDE:
            op.execute(sa.text(statement))
        yield
        for statement in _PUT_BACK:
            op.execute(sa.text(statement))
    finally:
        for statement in _DROP:
            op.execute(sa.text(statement))


def _set_states(*states: str) -> None:
    allowed = ", ".join(f"'{state}'" for state in states)
    # A VARCHAR with a CHECK (models._enum): changing the allowed values is dropping and
    # re-creating the constraint; SQLite needs the table copied for that (batch mode).
    with _dependants_kept(), op.batch_alter_table("investigator_key") as batch:
        batch.drop_constraint(op.f(_CHECK), type_="check")
        batch.create_check_constraint("key_status", sa.text(f"status IN ({allowed})"))


def _backfill_recipients() -> None:
    """Exports made before this revision recorded no recipients: take them from the blobs'
    recipient rows, so an ack made before a rotation still counts after the upgrade."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT blob_name, fingerprint FROM blob_recipient")).all()
    found: dict[str, list[str]] = {}
    for blob_name, fingerprint in rows:
        found.setdefault(blob_name, []).append(fingerprint)
    update = sa.text("UPDATE exported_blob SET recipients = :fps WHERE blob_name = :name")
    for name, fingerprints in found.items():
        bind.execute(update, {"fps": " ".join(sorted(fingerprints)), "name": name})


def upgrade() -> None:
    _set_states("active", "retired", "revoked")
    with op.batch_alter_table("exported_blob") as batch:
        batch.add_column(sa.Column("recipients", sa.Text(), server_default="", nullable=False))
    _backfill_recipients()


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), as 0401 and 0405 do: nothing refers to
    # exported_blob, but a rebuild is not needed to drop a column without constraints.
    op.drop_column("exported_blob", "recipients")
    # A revoked key becomes retired: the old code then refuses it (retired keys authorised
    # nothing there either).
    op.execute("UPDATE investigator_key SET status = 'retired' WHERE status = 'revoked'")
    _set_states("active", "retired")
