"""receipt records: each submission's files and consent, sealed to the witness's reply key.

Revision ID: 0404
Revises: 0403
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0404"
down_revision = "0403"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_record",
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("sealed_files", sa.LargeBinary(), nullable=True),
        sa.Column("sealed_consent", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_submission_record_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_submission_record")),
    )


def downgrade() -> None:
    op.drop_table("submission_record")
