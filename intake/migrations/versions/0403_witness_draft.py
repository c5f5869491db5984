"""witness drafts: a pending draft belongs to a witness and keeps the sealed answers.

Revision ID: 0403
Revises: 0402
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0403"
down_revision = "0402"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pending_draft") as batch:
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
    with op.batch_alter_table("pending_draft") as batch:
        batch.drop_constraint(op.f("fk_pending_draft_witness_id_witness"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_pending_draft_witness_id"), type_="unique")
        batch.drop_column("sealed_answers")
        batch.drop_column("witness_id")
        batch.alter_column("token_hash", existing_type=sa.LargeBinary(length=32), nullable=False)
