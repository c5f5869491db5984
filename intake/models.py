"""The database tables: random ids, sealed-blob references and day-granularity dates, nothing else.

What a seized database yields is exactly what these columns hold, so each one earns its place:
no IP address, user agent, timestamp finer than a day (an hour number where a TTL needs it),
plaintext or file name. Schema changes go through Alembic (intake/migrations/).
"""

from __future__ import annotations

import enum
import secrets
from datetime import date

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from protocol.ids import new_reply_id, new_witness_id

__all__ = [
    "AttemptBudget",
    "Base",
    "Blob",
    "BlobRecipient",
    "BlobRole",
    "DraftBlob",
    "FormToken",
    "InvestigatorKey",
    "KeyStatus",
    "PendingDraft",
    "Reply",
    "Submission",
    "SubmissionState",
    "Witness",
    "WitnessSession",
    "new_id",
]

# Lengths: ids are "W-"/"S-"/"R-" + 16 Crockford characters (protocol.ids) or 22 url-safe
# characters (new_id); blob names 32 hex characters (protocol.ids.new_blob_name); fingerprints
# "SHA256:" + 43 base64 characters; age recipients 62 characters.
ID_LEN = 32
BLOB_NAME_LEN = 64
FINGERPRINT_LEN = 64
RECIPIENT_LEN = 128
SHA256_HEX_LEN = 64


def new_id() -> str:
    """A random row id (128 bits): ids reveal neither order nor count."""
    return secrets.token_urlsafe(16)


class Base(DeclarativeBase):
    """Declarative base with a naming convention: Alembic names constraints the same everywhere."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def _values(enum_cls: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in enum_cls]


def _enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    # A VARCHAR with a CHECK constraint rather than a native PostgreSQL enum: adding a value
    # later is then a plain migration on both databases.
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=_values,
        validate_strings=True,
    )


class KeyStatus(enum.StrEnum):
    """An investigator key's state in the keyring file (intake.keyring.file says what each
    may authorise): active, retired (routine rotation) or revoked (compromised)."""

    ACTIVE = "active"
    RETIRED = "retired"
    REVOKED = "revoked"


class SubmissionState(enum.StrEnum):
    """stored → exported (in a bundle) → purged (acknowledged by an investigator, blobs deleted)."""

    STORED = "stored"
    EXPORTED = "exported"
    PURGED = "purged"


class BlobRole(enum.StrEnum):
    """A submission's sealed submission.json (manifest) or one of its sealed files."""

    MANIFEST = "manifest"
    FILE = "file"


class InvestigatorKey(Base):
    """A cached copy of a keyring file entry (intake.keyring.cache): never read for a decision.

    It stays a table so blob recipient and reply rows keep a foreign key to a fingerprint.
    `retired_on` holds the day it left the active state (retired or revoked)."""

    __tablename__ = "investigator_key"

    fingerprint: Mapped[str] = mapped_column(String(FINGERPRINT_LEN), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(RECIPIENT_LEN), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    signing_key: Mapped[str] = mapped_column(Text)  # minisign public key file text
    signing_key_id: Mapped[str] = mapped_column(String(16), index=True)  # minisign key id, hex
    status: Mapped[KeyStatus] = mapped_column(_enum(KeyStatus, "key_status"))
    added_on: Mapped[date] = mapped_column(Date)
    retired_on: Mapped[date | None] = mapped_column(Date)


class Witness(Base):
    """A codename's lookup value and reply key. Outlives purges so a witness can still return."""

    __tablename__ = "witness"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=new_witness_id)
    lookup: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    reply_recipient: Mapped[str] = mapped_column(String(RECIPIENT_LEN))
    created_on: Mapped[date] = mapped_column(Date)
    # The hour (intake.clock.hour_bucket) after which a witness who was given a codename but
    # never sent a testimony is removed by the sweep; None once the first testimony commits.
    pending_until: Mapped[int | None] = mapped_column(Integer, index=True)

    submissions: Mapped[list[Submission]] = relationship(back_populates="witness")
    replies: Mapped[list[Reply]] = relationship(back_populates="witness")


class Reply(Base):
    """An investigator's reply, sealed offline to the witness's reply recipient."""

    __tablename__ = "reply"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=new_reply_id)
    witness_id: Mapped[str] = mapped_column(ForeignKey("witness.id"), index=True)
    blob_name: Mapped[str] = mapped_column(String(BLOB_NAME_LEN), unique=True)
    created_on: Mapped[date] = mapped_column(Date)
    signed_by: Mapped[str] = mapped_column(ForeignKey("investigator_key.fingerprint"))
    # Which submission it answers, as the replies bundle's meta said (None before issue 18);
    # not a foreign key, so that no reply row ever holds back a submission row's removal.
    submission_id: Mapped[str | None] = mapped_column(String(ID_LEN))

    witness: Mapped[Witness] = relationship(back_populates="replies")


class Submission(Base):
    """One sealed submission (a testimony, a follow-up or a consent change) and its lifecycle."""

    __tablename__ = "submission"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)  # protocol.ids
    witness_id: Mapped[str] = mapped_column(ForeignKey("witness.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("submission.id"))
    kind: Mapped[str] = mapped_column(String(32))
    received_on: Mapped[date] = mapped_column(Date, index=True)
    # The sealed submission.json; kept after a purge (a random name is no information).
    manifest_blob: Mapped[str] = mapped_column(String(BLOB_NAME_LEN))
    file_count: Mapped[int] = mapped_column(Integer)
    sealed_bytes: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[SubmissionState] = mapped_column(
        _enum(SubmissionState, "submission_state"), default=SubmissionState.STORED
    )
    exported_on: Mapped[date | None] = mapped_column(Date)
    acked_on: Mapped[date | None] = mapped_column(Date)
    purged_on: Mapped[date | None] = mapped_column(Date)
    # A testimony whose consent the witness withdrew: kept in clear so that the account says
    # "Withdrawn" without the codename (SECURITY.md, "What the server stores").
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    witness: Mapped[Witness] = relationship(back_populates="submissions")
    blobs: Mapped[list[Blob]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", passive_deletes=True
    )
    # What the witness sees again of it (issue 14 item 6); a relationship so that a flush
    # inserts the submission before its record.
    record: Mapped[SubmissionRecord | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class Blob(Base):
    """A sealed file in the blob store belonging to a submission; the row goes when it is purged."""

    __tablename__ = "blob"

    name: Mapped[str] = mapped_column(String(BLOB_NAME_LEN), primary_key=True)
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[BlobRole] = mapped_column(_enum(BlobRole, "blob_role"))
    sealed_size: Mapped[int] = mapped_column(BigInteger)
    sealed_sha256: Mapped[str] = mapped_column(String(SHA256_HEX_LEN))

    submission: Mapped[Submission] = relationship(back_populates="blobs")
    recipients: Mapped[list[BlobRecipient]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class BlobRecipient(Base):
    """Which investigator key fingerprints a blob's header is sealed to (updated by re-wraps)."""

    __tablename__ = "blob_recipient"

    blob_name: Mapped[str] = mapped_column(
        ForeignKey("blob.name", ondelete="CASCADE"), primary_key=True
    )
    fingerprint: Mapped[str] = mapped_column(
        ForeignKey("investigator_key.fingerprint"), primary_key=True, index=True
    )


class PendingDraft(Base):
    """What arrived of a witness's unfinished form: every file received whole, and the answers.

    One per witness (codename first: the witness exists before the form). Each file part is
    added the moment its closing boundary arrives, so a cut, a timeout or a killed worker loses
    only the part in flight. The answers and each file's metadata are sealed to the witness's
    reply key and to a key held only in the session cookie (intake.web.services.drafts); the
    server cannot read them. `expires_hour` is an hour number (intake.clock.hour_bucket).
    `token_hash` belongs to the drafts of before issue 14 (a token in the form's URL); those
    expire with their TTL.
    """

    __tablename__ = "pending_draft"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True, default=new_id)
    token_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    witness_id: Mapped[str | None] = mapped_column(
        ForeignKey("witness.id", ondelete="CASCADE"), unique=True
    )
    expires_hour: Mapped[int] = mapped_column(Integer, index=True)
    file_count: Mapped[int] = mapped_column(Integer, default=0)
    sealed_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sealed_answers: Mapped[bytes | None] = mapped_column(LargeBinary)

    blobs: Mapped[list[DraftBlob]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class DraftBlob(Base):
    """A sealed file kept for a pending draft; it becomes a Blob when the draft is submitted.

    `keyring_digest` is `intake.keyring.fingerprint_set_digest` of the keys it was sealed to, so
    the final submission can tell whether the keyring changed since.
    """

    __tablename__ = "draft_blob"

    name: Mapped[str] = mapped_column(String(BLOB_NAME_LEN), primary_key=True)
    draft_id: Mapped[str] = mapped_column(
        ForeignKey("pending_draft.id", ondelete="CASCADE"), index=True
    )
    sealed_size: Mapped[int] = mapped_column(BigInteger)
    sealed_sha256: Mapped[str] = mapped_column(String(SHA256_HEX_LEN))
    keyring_digest: Mapped[str] = mapped_column(String(SHA256_HEX_LEN))


class FormToken(Base):
    """A one-time submission token (its hash): a double click or a refresh submits once."""

    __tablename__ = "form_token"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_hour: Mapped[int] = mapped_column(Integer, index=True)


class AttemptBudget(Base):
    """Formerly the global hourly codename budget; nothing writes it any more.

    A global counter let anyone lock every witness out (issue 15); `intake sweep` removes the
    old rows, and the table goes with the next migration that can be sequenced safely.
    """

    __tablename__ = "attempt_budget"

    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


# --- witness-web section -------------------------------------------------------------------
# The witness-site helper appends its tables below this line, each with its own Alembic
# migration in intake/migrations/versions/ (down_revision = the latest one there).


# --- witness-web ---
class DraftFile(Base):
    """What the server must remember of a draft's file to seal it into submission.json later.

    Name, declared type, plaintext SHA-256 and size, group and the file key, as JSON sealed
    (age, X25519) to the witness's reply key and the session cookie's draft key (see
    PendingDraft): at rest the server cannot read a kept file's name, and the witness cannot
    forge the hashes.
    """

    __tablename__ = "draft_file"

    blob_name: Mapped[str] = mapped_column(
        ForeignKey("draft_blob.name", ondelete="CASCADE"), primary_key=True
    )
    sealed_meta: Mapped[bytes] = mapped_column(LargeBinary)


# --- transfer ---
class ExportedBlob(Base):
    """The SHA-256 a blob had in its submission's last export (`intake export`).

    An ack names the hashes of what the investigator imported; a re-wrap applied since then
    changes the blob's header and so its current hash, so `intake purge` compares the ack with
    these. The row goes with the blob when it is purged.
    """

    __tablename__ = "exported_blob"

    blob_name: Mapped[str] = mapped_column(
        ForeignKey("blob.name", ondelete="CASCADE"), primary_key=True
    )
    sealed_sha256: Mapped[str] = mapped_column(String(SHA256_HEX_LEN))
    # The fingerprints the blob's header was sealed to when it was exported, space-separated:
    # a retired key's ack may purge only what an export carried sealed to that key.
    recipients: Mapped[str] = mapped_column(Text, server_default="")


# --- witness sessions ---
class WitnessSession(Base):
    """A logged-in witness's session: the SHA-256 of the cookie's random token, never the token.

    A copy of the database therefore holds no session anyone can present. The deadlines are
    minute numbers (intake.clock.minute_bucket), checked when a request starts:
    `idle_until` admits any page (30 minutes idle, never past `absolute_until`, 12 hours after
    the login); `form_until` admits only the POST of the last form rendered in time (the
    form's CSRF lifetime), whose endpoint and one-time token hash to `form_hash`.
    `confirmed_parent` is the testimony whose consent the witness confirmed with the codename,
    until `confirmed_until` or the change's commit. The row is deleted at logout and by the
    sweep once every deadline has passed.
    """

    __tablename__ = "witness_session"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    witness_id: Mapped[str] = mapped_column(
        ForeignKey("witness.id", ondelete="CASCADE"), index=True
    )
    absolute_until: Mapped[int] = mapped_column(Integer)
    idle_until: Mapped[int] = mapped_column(Integer, index=True)
    form_until: Mapped[int | None] = mapped_column(Integer)
    form_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    confirmed_parent: Mapped[str | None] = mapped_column(String(ID_LEN))
    confirmed_until: Mapped[int | None] = mapped_column(Integer)
    # The session's note (the codename and the last receipt), sealed to a key that only the
    # session cookie holds, readable until the minute `note_until` (intake.web.notes).
    sealed_note: Mapped[bytes | None] = mapped_column(LargeBinary)
    note_until: Mapped[int | None] = mapped_column(Integer)


# --- receipt records (issue 14 item 6) ---
class SubmissionRecord(Base):
    """What a witness can see again of a submission, sealed (age) to their reply key alone.

    `sealed_files` holds the files' names, plaintext sizes and SHA-256; `sealed_consent` the
    submission's consent entry: a testimony's consent as given, or a consent change (None for
    a follow-up). Each names its submission inside. A testimony sent before records were kept
    has no row (or, from the first version, one with its consent only, shown as unchecked).
    The sweep removes the row `intake.maintenance.RECORD_DAYS_AFTER_PURGE` days after the
    purge (a consent change's only once its witness has no other record).
    """

    __tablename__ = "submission_record"

    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), primary_key=True
    )
    sealed_files: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_consent: Mapped[bytes | None] = mapped_column(LargeBinary)
