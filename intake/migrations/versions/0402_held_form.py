"""a held form admits only its own POST: the session keeps the hash of its endpoint and token.

Revision ID: 0402
Revises: 0401
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0402"
down_revision = "0401"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("witness_session") as batch:
        batch.add_column(sa.Column("form_hash", sa.LargeBinary(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("witness_session") as batch:
        batch.drop_column("form_hash")
