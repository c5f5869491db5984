"""The models on both databases: cascades, constraints and day-granularity dates."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from intake.context import Services
from intake.models import (
    Blob,
    BlobRecipient,
    BlobRole,
    DraftBlob,
    PendingDraft,
    Submission,
    SubmissionState,
    Witness,
)
from tests.intake.conftest import Investigator

DAY = date(2025, 3, 1)


def _submission(services: Services, fingerprint: str) -> str:
    with services.sessions() as session:
        witness = Witness(lookup=b"\x01" * 32, reply_recipient="age1reply", created_on=DAY)
        submission = Submission(
            id="S-0000000000000001",
            witness=witness,
            kind="testimony",
            received_on=DAY,
            manifest_blob="0" * 32,
            file_count=1,
            sealed_bytes=42,
        )
        blob = Blob(
            name="1" * 32,
            submission=submission,
            role=BlobRole.FILE,
            sealed_size=42,
            sealed_sha256="f" * 64,
        )
        blob.recipients.append(BlobRecipient(fingerprint=fingerprint))
        session.add(submission)
        session.commit()
        assert witness.id.startswith("W-")
        return submission.id


def test_rows_round_trip_with_days(keyed_services: Services, investigator: Investigator) -> None:
    submission_id = _submission(keyed_services, investigator.fingerprint)
    with keyed_services.sessions() as session:
        row = session.get(Submission, submission_id)
        assert row is not None
        assert row.state is SubmissionState.STORED
        assert type(row.received_on) is date
        assert [blob.name for blob in row.blobs] == ["1" * 32]


def test_deleting_a_submission_cascades_to_blobs(
    keyed_services: Services, investigator: Investigator
) -> None:
    submission_id = _submission(keyed_services, investigator.fingerprint)
    with keyed_services.sessions() as session:
        # Core DELETE: the database's own ON DELETE CASCADE, not the ORM's.
        session.execute(delete(Submission).where(Submission.id == submission_id))
        session.commit()
        assert session.scalar(select(func.count()).select_from(Blob)) == 0
        assert session.scalar(select(func.count()).select_from(BlobRecipient)) == 0


def test_a_blob_recipient_must_be_a_known_key(keyed_services: Services) -> None:
    with pytest.raises(IntegrityError):
        _submission(keyed_services, "SHA256:unknown")


def test_witness_lookup_is_unique(services: Services) -> None:
    with services.sessions() as session:
        session.add(Witness(lookup=b"\x02" * 32, reply_recipient="a", created_on=DAY))
        session.add(Witness(lookup=b"\x02" * 32, reply_recipient="b", created_on=DAY))
        with pytest.raises(IntegrityError):
            session.commit()


def test_enum_columns_are_checked_by_the_database(services: Services) -> None:
    insert = text(
        "INSERT INTO investigator_key (fingerprint, recipient, name, signing_key, "
        "signing_key_id, status, added_on) VALUES ('f', 'r', 'n', 's', 'i', 'bogus', '2025-01-01')"
    )
    with services.sessions() as session, pytest.raises(IntegrityError):
        session.execute(insert)


def test_enum_values_are_checked_in_python(services: Services) -> None:
    with services.sessions() as session:
        session.execute(
            text(
                "INSERT INTO witness (id, lookup, reply_recipient, created_on) "
                "VALUES ('W-1', :lookup, 'r', '2025-01-01')"
            ),
            {"lookup": b"\x03" * 32},
        )
        session.add(
            Submission(
                id="S-2",
                witness_id="W-1",
                kind="testimony",
                received_on=DAY,
                manifest_blob="0" * 32,
                file_count=0,
                sealed_bytes=0,
                state="lost",
            )
        )
        with pytest.raises(StatementError):
            session.commit()


def test_draft_blobs_go_with_their_draft(services: Services) -> None:
    with services.sessions() as session:
        draft = PendingDraft(token_hash=b"\x04" * 32, expires_hour=10)
        draft.blobs.append(
            DraftBlob(name="2" * 32, sealed_size=1, sealed_sha256="0" * 64, keyring_digest="d")
        )
        session.add(draft)
        session.commit()
        session.execute(delete(PendingDraft))
        session.commit()
        assert session.scalar(select(func.count()).select_from(DraftBlob)) == 0
