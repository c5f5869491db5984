"""Initial schema: keyring, witnesses, replies, submissions, blobs, drafts, tokens, budget.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    # VARCHAR + CHECK, named by the models' convention (ck_<table>_<name>).
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _index(table: str, column: str) -> None:
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "attempt_budget",
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", name=op.f("pk_attempt_budget")),
    )
    op.create_table(
        "form_token",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("expires_hour", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_form_token")),
    )
    _index("form_token", "expires_hour")
    op.create_table(
        "investigator_key",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("signing_key", sa.Text(), nullable=False),
        sa.Column("signing_key_id", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            _enum(op.f("ck_investigator_key_key_status"), "active", "retired"),
            nullable=False,
        ),
        sa.Column("added_on", sa.Date(), nullable=False),
        sa.Column("retired_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_investigator_key")),
        sa.UniqueConstraint("recipient", name=op.f("uq_investigator_key_recipient")),
    )
    _index("investigator_key", "signing_key_id")
    op.create_table(
        "pending_draft",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("expires_hour", sa.Integer(), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("sealed_bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_draft")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_pending_draft_token_hash")),
    )
    _index("pending_draft", "expires_hour")
    op.create_table(
        "witness",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("lookup", sa.LargeBinary(length=32), nullable=False),
        sa.Column("reply_recipient", sa.String(length=128), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_witness")),
        sa.UniqueConstraint("lookup", name=op.f("uq_witness_lookup")),
    )
    op.create_table(
        "draft_blob",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("draft_id", sa.String(length=32), nullable=False),
        sa.Column("sealed_size", sa.BigInteger(), nullable=False),
        sa.Column("sealed_sha256", sa.String(length=64), nullable=False),
        sa.Column("keyring_digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["pending_draft.id"],
            name=op.f("fk_draft_blob_draft_id_pending_draft"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_draft_blob")),
    )
    _index("draft_blob", "draft_id")
    op.create_table(
        "reply",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("witness_id", sa.String(length=32), nullable=False),
        sa.Column("blob_name", sa.String(length=64), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("signed_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["signed_by"],
            ["investigator_key.fingerprint"],
            name=op.f("fk_reply_signed_by_investigator_key"),
        ),
        sa.ForeignKeyConstraint(
            ["witness_id"], ["witness.id"], name=op.f("fk_reply_witness_id_witness")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply")),
        sa.UniqueConstraint("blob_name", name=op.f("uq_reply_blob_name")),
    )
    _index("reply", "witness_id")
    op.create_table(
        "submission",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("witness_id", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("manifest_blob", sa.String(length=64), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("sealed_bytes", sa.BigInteger(), nullable=False),
        sa.Column(
            "state",
            _enum(op.f("ck_submission_submission_state"), "stored", "exported", "purged"),
            nullable=False,
        ),
        sa.Column("exported_on", sa.Date(), nullable=True),
        sa.Column("acked_on", sa.Date(), nullable=True),
        sa.Column("purged_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["submission.id"], name=op.f("fk_submission_parent_id_submission")
        ),
        sa.ForeignKeyConstraint(
            ["witness_id"], ["witness.id"], name=op.f("fk_submission_witness_id_witness")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission")),
    )
    _index("submission", "received_on")
    _index("submission", "witness_id")
    op.create_table(
        "blob",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("role", _enum(op.f("ck_blob_blob_role"), "manifest", "file"), nullable=False),
        sa.Column("sealed_size", sa.BigInteger(), nullable=False),
        sa.Column("sealed_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_blob_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_blob")),
    )
    _index("blob", "submission_id")
    op.create_table(
        "blob_recipient",
        sa.Column("blob_name", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_name"],
            ["blob.name"],
            name=op.f("fk_blob_recipient_blob_name_blob"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fingerprint"],
            ["investigator_key.fingerprint"],
            name=op.f("fk_blob_recipient_fingerprint_investigator_key"),
        ),
        sa.PrimaryKeyConstraint("blob_name", "fingerprint", name=op.f("pk_blob_recipient")),
    )
    _index("blob_recipient", "fingerprint")


def downgrade() -> None:
    for table in (
        "blob_recipient",
        "blob",
        "submission",
        "reply",
        "draft_blob",
        "witness",
        "pending_draft",
        "investigator_key",
        "form_token",
        "attempt_budget",
    ):
        # Dropping a table drops its indexes and constraints on both databases.
        op.drop_table(table)
