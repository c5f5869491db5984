"""transfer: the SHA-256 each blob had in its last export, checked by `intake purge`.

Revision ID: 0201
Revises: 0101
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0201"
down_revision = "0101"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exported_blob",
        sa.Column("blob_name", sa.String(length=64), nullable=False),
        sa.Column("sealed_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_name"],
            ["blob.name"],
            name=op.f("fk_exported_blob_blob_name_blob"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("blob_name", name=op.f("pk_exported_blob")),
    )


def downgrade() -> None:
    op.drop_table("exported_blob")
