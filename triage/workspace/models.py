"""The workspace database: submissions as opened, attachments (kept sealed), and the triage work."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "Attachment",
    "Base",
    "Document",
    "SearchText",
    "ImportRecord",
    "MediaHash",
    "MediaRecord",
    "Incident",
    "IncidentMember",
    "Note",
    "Reply",
    "Submission",
    "Tag",
]

ID_LEN = 24  # "S-" + 16 Crockford characters, with room
SHA_LEN = 64
RECIPIENT_LEN = 100


# An attachment opened here whose plaintext SHA-256 and size are those its submission records.
VERIFIED = "verified"


class Base(DeclarativeBase):
    pass


class Submission(Base):
    """One opened submission.json. `document` is the opened JSON verbatim; the other columns
    are derived from it once, at import, for filtering (claims, as the witness made them)."""

    __tablename__ = "submission"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(String(ID_LEN), index=True)
    received_at: Mapped[datetime] = mapped_column(index=True)  # list: newest first
    day: Mapped[date] = mapped_column(index=True)
    ui_language: Mapped[str] = mapped_column(String(8))
    witness_recipient: Mapped[str] = mapped_column(String(RECIPIENT_LEN), index=True)
    # What the export bundle said the reply key was; replies are refused if it differs.
    export_recipient: Mapped[str | None] = mapped_column(String(RECIPIENT_LEN))
    status: Mapped[str] = mapped_column(String(32), index=True, default="new")
    status_target: Mapped[str | None] = mapped_column(String(ID_LEN))
    incident_types: Mapped[str] = mapped_column(String(1000), default="")  # "|a|b|"
    oblast: Mapped[str | None] = mapped_column(String(8), index=True)
    event_from: Mapped[date | None]
    event_to: Mapped[date | None]
    consent: Mapped[str] = mapped_column(String(400), default="")  # "|a|b|", after changes
    consent_original: Mapped[str] = mapped_column(String(400), default="")
    unit_tokens: Mapped[str] = mapped_column(Text, default="")  # "|155|shtorm|", folded
    sealed_item: Mapped[str] = mapped_column(String(120))
    sealed_sha256: Mapped[str] = mapped_column(String(SHA_LEN))
    sealed_blob: Mapped[str | None] = mapped_column(String(40))  # the server's name, if told
    plain_sha256: Mapped[str] = mapped_column(String(SHA_LEN))
    decrypted_by: Mapped[str] = mapped_column(String(60))
    imported_at: Mapped[datetime]

    files: Mapped[list[Attachment]] = relationship(
        back_populates="submission", order_by="Attachment.position"
    )
    tags: Mapped[list[Tag]] = relationship(order_by="Tag.name")
    # The opened document and the search text live in tables of their own: `list` then scans
    # a table of short rows, and search scans only the search text.
    opened: Mapped[Document] = relationship(lazy="select")
    search: Mapped[SearchText] = relationship(lazy="select")

    @property
    def document(self) -> str:
        """The opened submission.json, verbatim."""
        return self.opened.document


class Document(Base):
    __tablename__ = "submission_document"

    submission_id: Mapped[str] = mapped_column(ForeignKey("submission.id"), primary_key=True)
    document: Mapped[str] = mapped_column(Text)


class SearchText(Base):
    """All free text, codes and file names of a submission, normalised (triage.text.translit)."""

    __tablename__ = "submission_search"

    submission_id: Mapped[str] = mapped_column(ForeignKey("submission.id"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class Attachment(Base):
    """A file of a submission: its sealed blob in the workspace and what checking it found."""

    __tablename__ = "attachment"

    blob_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submission.id"), index=True)
    position: Mapped[int]
    sealed_sha256: Mapped[str] = mapped_column(String(SHA_LEN))
    plaintext_sha256: Mapped[str] = mapped_column(String(SHA_LEN), index=True)
    size: Mapped[int]
    declared_type: Mapped[str] = mapped_column(String(255))
    original_name: Mapped[str] = mapped_column(Text)  # may identify the witness; never a path
    group_no: Mapped[int]
    group_answers: Mapped[str] = mapped_column(Text)  # JSON, verbatim
    # verified | mismatch | damaged | missing | not-yours
    state: Mapped[str] = mapped_column(String(16))
    state_detail: Mapped[str] = mapped_column(Text, default="")
    stored: Mapped[bool] = mapped_column(default=False)

    submission: Mapped[Submission] = relationship(back_populates="files")
    media: Mapped[MediaRecord | None] = relationship(lazy="select")


class MediaRecord(Base):
    """What an attachment says about itself (triage.media), read by a sandboxed scan.

    `facts` is triage.media.facts.MediaFacts as JSON; the columns beside it are copies made
    for `triage list`'s filters. Added by issue M: a workspace made before it gets the table
    at its first scan (create_all of this table alone)."""

    __tablename__ = "media"

    blob_name: Mapped[str] = mapped_column(ForeignKey("attachment.blob_name"), primary_key=True)
    plaintext_sha256: Mapped[str] = mapped_column(String(SHA_LEN), index=True)
    state: Mapped[str] = mapped_column(String(16))  # read | unreadable
    has_gps: Mapped[bool] = mapped_column(default=False, index=True)
    recorded_at: Mapped[datetime | None] = mapped_column(index=True)  # UTC
    facts: Mapped[str] = mapped_column(Text)
    scanned_at: Mapped[datetime]


class MediaHash(Base):
    """A file's perceptual hashes (triage.media.similar): PDQ of a frame a second, vPDQ-style,
    as JSON [[seconds, hex, quality], ...]. Kept here only; nothing leaves the laptop."""

    __tablename__ = "media_hash"

    blob_name: Mapped[str] = mapped_column(ForeignKey("attachment.blob_name"), primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    plaintext_sha256: Mapped[str] = mapped_column(String(SHA_LEN), index=True)
    frames: Mapped[str] = mapped_column(Text)
    tool: Mapped[str] = mapped_column(String(120))


class Tag(Base):
    __tablename__ = "tag"

    submission_id: Mapped[str] = mapped_column(ForeignKey("submission.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Note(Base):
    """Append-only investigator notes."""

    __tablename__ = "note"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submission.id"), index=True)
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text)


class Incident(Base):
    __tablename__ = "incident"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), default="open")
    oblast: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]
    members: Mapped[list[IncidentMember]] = relationship(order_by="IncidentMember.added_at")


class IncidentMember(Base):
    __tablename__ = "incident_member"

    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id"), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submission.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # primary | corroborating | contextual
    added_at: Mapped[datetime]
    submission: Mapped[Submission] = relationship()


class Reply(Base):
    """A reply sealed to a witness's reply key; the text is kept so the team knows what was said."""

    __tablename__ = "reply"

    id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submission.id"), index=True)
    witness_recipient: Mapped[str] = mapped_column(String(RECIPIENT_LEN))
    sealed_sha256: Mapped[str] = mapped_column(String(SHA_LEN))
    size: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    exported_at: Mapped[datetime | None]


class ImportRecord(Base):
    """One import run: which export bundle (SHA-256 of its bundle.json), what came of it."""

    __tablename__ = "import_record"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    manifest_sha256: Mapped[str] = mapped_column(String(SHA_LEN), index=True)
    bundle_created: Mapped[date]
    imported_at: Mapped[datetime]
    new_submissions: Mapped[int]
    acknowledged: Mapped[int]
    ack_path: Mapped[str | None] = mapped_column(Text)


Index("ix_attachment_state", Attachment.state)
