"""codename first: pending witnesses expire, and a session keeps a note sealed to its cookie.

Revision ID: 0401
Revises: 0302
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0401"
down_revision = "0302"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("witness") as batch:
        batch.add_column(sa.Column("pending_until", sa.Integer(), nullable=True))
        batch.create_index(op.f("ix_witness_pending_until"), ["pending_until"], unique=False)
    with op.batch_alter_table("witness_session") as batch:
        batch.add_column(sa.Column("sealed_note", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("note_until", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not batch mode: a batch rebuild drops and
    # re-creates `witness`, and SQLite's DROP TABLE deletes every witness_session row through
    # the ON DELETE CASCADE (or fails on other tables' foreign keys) when the database has data.
    op.drop_column("witness_session", "note_until")
    op.drop_column("witness_session", "sealed_note")
    op.drop_index(op.f("ix_witness_pending_until"), table_name="witness")
    op.drop_column("witness", "pending_until")
