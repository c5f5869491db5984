"""witness-web: sealed metadata of the files kept in a pending draft.

Revision ID: 0101
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0101"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "draft_file",
        sa.Column("blob_name", sa.String(length=64), nullable=False),
        sa.Column("sealed_meta", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_name"],
            ["draft_blob.name"],
            name=op.f("fk_draft_file_blob_name_draft_blob"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("blob_name", name=op.f("pk_draft_file")),
    )


def downgrade() -> None:
    op.drop_table("draft_file")
