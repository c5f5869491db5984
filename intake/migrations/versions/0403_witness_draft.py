"""witness drafts: a pending draft belongs to a witness and keeps the sealed answers.

Revision ID: 0403
Revises: 0402
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0403"
down_revision = "0402"
branch_labels = None
depends_on = None


# pending_draft's dependants, set aside and put back parents first (literal SQL: no names built).
# pysqlite runs CREATE TEMP TABLE outside the transaction, so a failed upgrade's rollback leaves
# them on the connection, which the pool hands to the next upgrade: each one begins by
# dropping them, as 0302 does (the drop at the end is undone when a failure rolls back).
_DROP = (
    "DROP TABLE IF EXISTS temp.kept_draft_file",
    "DROP TABLE IF EXISTS temp.kept_draft_blob",
)
_SET_ASIDE = (
    *_DROP,
    "CREATE TEMP TABLE kept_draft_blob AS SELECT * FROM draft_blob",
    "CREATE TEMP TABLE kept_draft_file AS SELECT * FROM draft_file",
)
_PUT_BACK = (
    "INSERT INTO draft_blob SELECT * FROM temp.kept_draft_blob",
    "INSERT INTO draft_file SELECT * FROM temp.kept_draft_file",
)


@contextmanager
def _dependants_kept() -> Iterator[None]:
    """Keep draft_blob and draft_file rows across a batch rebuild of pending_draft.

    On SQLite the rebuild drops pending_draft, and with foreign keys on (intake.db) that DROP
    TABLE deletes every draft_blob row, and so every draft_file row, through ON DELETE CASCADE.
    `PRAGMA foreign_keys` cannot be turned off inside the migration's transaction and
    `defer_foreign_keys` does not stop cascades, so the rows wait in temporary tables and are
    put back once the new pending_draft holds the same ids. PostgreSQL alters in place.
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


def upgrade() -> None:
    with _dependants_kept(), op.batch_alter_table("pending_draft") as batch:
        batch.alter_column("token_hash", existing_type=sa.LargeBinary(length=32), nullable=True)
        batch.add_column(sa.Column("witness_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("sealed_answers", sa.LargeBinary(), nullable=True))
        batch.create_unique_constraint(op.f("uq_pending_draft_witness_id"), ["witness_id"])
        batch.create_foreign_key(
            op.f("fk_pending_draft_witness_id_witness"),
            "witness",
            ["witness_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    # Witness drafts have no token: they cannot live under the old schema.
    op.execute(sa.text("DELETE FROM pending_draft WHERE token_hash IS NULL"))
    with _dependants_kept(), op.batch_alter_table("pending_draft") as batch:
        batch.drop_constraint(op.f("fk_pending_draft_witness_id_witness"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_pending_draft_witness_id"), type_="unique")
        batch.drop_column("sealed_answers")
        batch.drop_column("witness_id")
        batch.alter_column("token_hash", existing_type=sa.LargeBinary(length=32), nullable=False)
