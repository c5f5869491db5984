"""sessions: witness sessions kept on the server, the cookie's token stored only as a hash.

Revision ID: 0301
Revises: 0201
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0301"
down_revision = "0201"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "witness_session",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("witness_id", sa.String(length=32), nullable=False),
        sa.Column("absolute_until", sa.Integer(), nullable=False),
        sa.Column("idle_until", sa.Integer(), nullable=False),
        sa.Column("form_until", sa.Integer(), nullable=True),
        sa.Column("confirmed_parent", sa.String(length=32), nullable=True),
        sa.Column("confirmed_until", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["witness_id"],
            ["witness.id"],
            name=op.f("fk_witness_session_witness_id_witness"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_witness_session")),
    )
    for column in ("idle_until", "witness_id"):
        op.create_index(
            op.f(f"ix_witness_session_{column}"), "witness_session", [column], unique=False
        )


def downgrade() -> None:
    op.drop_table("witness_session")
