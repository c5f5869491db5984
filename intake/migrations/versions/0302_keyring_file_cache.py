"""keyring file: the investigator_key table becomes a cache; a revoked state; export recipients.

The keyring moved to a root-owned file (intake.keyring); the table stays, as a cache the
service writes from the file, so blob recipient and reply rows keep their foreign keys. Its
state gains `revoked`. Each exported blob records the key fingerprints it was sealed to when
exported: `intake purge` lets a retired key's ack purge only those.

Revision ID: 0302
Revises: 0301
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0302"
down_revision = "0301"
branch_labels = None
depends_on = None

_CHECK = "ck_investigator_key_key_status"


def _set_states(*states: str) -> None:
    allowed = ", ".join(f"'{state}'" for state in states)
    # A VARCHAR with a CHECK (models._enum): changing the allowed values is dropping and
    # re-creating the constraint; SQLite needs the table copied for that (batch mode).
    with op.batch_alter_table("investigator_key") as batch:
        batch.drop_constraint(op.f(_CHECK), type_="check")
        batch.create_check_constraint("key_status", sa.text(f"status IN ({allowed})"))


def upgrade() -> None:
    _set_states("active", "retired", "revoked")
    with op.batch_alter_table("exported_blob") as batch:
        batch.add_column(sa.Column("recipients", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("exported_blob") as batch:
        batch.drop_column("recipients")
    # A revoked key becomes retired: the old code then refuses it (retired keys authorised
    # nothing there either).
    op.execute("UPDATE investigator_key SET status = 'retired' WHERE status = 'revoked'")
    _set_states("active", "retired")
