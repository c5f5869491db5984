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


def _backfill_recipients() -> None:
    """Exports made before this revision recorded no recipients: take them from the blobs'
    recipient rows, so an ack made before a rotation still counts after the upgrade."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT blob_name, fingerprint FROM blob_recipient")).all()
    found: dict[str, list[str]] = {}
    for blob_name, fingerprint in rows:
        found.setdefault(blob_name, []).append(fingerprint)
    update = sa.text("UPDATE exported_blob SET recipients = :fps WHERE blob_name = :name")
    for name, fingerprints in found.items():
        bind.execute(update, {"fps": " ".join(sorted(fingerprints)), "name": name})


def upgrade() -> None:
    _set_states("active", "retired", "revoked")
    with op.batch_alter_table("exported_blob") as batch:
        batch.add_column(sa.Column("recipients", sa.Text(), server_default="", nullable=False))
    _backfill_recipients()


def downgrade() -> None:
    with op.batch_alter_table("exported_blob") as batch:
        batch.drop_column("recipients")
    # A revoked key becomes retired: the old code then refuses it (retired keys authorised
    # nothing there either).
    op.execute("UPDATE investigator_key SET status = 'retired' WHERE status = 'revoked'")
    _set_states("active", "retired")
