"""consent and replies (issue 18): a submission's `withdrawn` flag in clear, and which
submission a reply answers (the replies bundle's meta already told the server).

Revision ID: 0405
Revises: 0404
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0405"
down_revision = "0404"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN, not batch mode: batch mode rebuilds `submission` on
    # SQLite for a default that is an expression (false()), and that DROP TABLE deleted every
    # blob row (and their recipients and export marks) through the ON DELETE CASCADE. SQLite
    # takes the column as is: false() compiles to the constant 0 there.
    op.add_column(
        "submission",
        sa.Column("withdrawn", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("reply", sa.Column("submission_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not batch mode: a batch rebuild drops and
    # re-creates `submission`, and SQLite's DROP TABLE deletes every blob row (and their
    # recipients and export marks) through the ON DELETE CASCADE when the database has data.
    op.drop_column("reply", "submission_id")
    op.drop_column("submission", "withdrawn")
