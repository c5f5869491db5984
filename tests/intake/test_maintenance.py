"""The sweep on both databases: expired drafts, tokens, budgets, idle temps and orphaned blobs."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from intake.blobstore import LocalBlobStore, new_blob_name
from intake.clock import hour_bucket
from intake.context import Services
from intake.maintenance import sweep
from intake.models import (
    AttemptBudget,
    DraftBlob,
    FormToken,
    PendingDraft,
    Reply,
    Witness,
)
from tests.intake.conftest import Investigator

DAY = date(2025, 3, 1)


def _blob(store: LocalBlobStore) -> str:
    temp, handle = store.create_temp()
    with handle:
        handle.write(b"ciphertext")
    name = new_blob_name()
    store.commit(temp, name)
    return name


def _draft(services: Services, expires_hour: int, blob_name: str, token: bytes) -> None:
    with services.sessions() as session:
        draft = PendingDraft(token_hash=token, expires_hour=expires_hour, file_count=1)
        draft.blobs.append(
            DraftBlob(name=blob_name, sealed_size=10, sealed_sha256="0" * 64, keyring_digest="d")
        )
        session.add(draft)
        session.commit()


def _count(services: Services, model: type) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_expired_drafts_go_with_their_blobs(services: Services) -> None:
    store = services.store
    assert isinstance(store, LocalBlobStore)
    now = hour_bucket()
    expired, current = _blob(store), _blob(store)
    _draft(services, now - 1, expired, b"\x01" * 32)
    _draft(services, now + 5, current, b"\x02" * 32)
    gone = new_blob_name()  # a draft whose file a crash already removed
    _draft(services, now, gone, b"\x03" * 32)
    report = sweep(services.sessions, store)
    assert (report.drafts_expired, report.draft_blobs_removed) == (2, 2)
    assert not store.exists(expired)
    assert store.exists(current)
    assert _count(services, PendingDraft) == 1
    assert _count(services, DraftBlob) == 1


def test_tokens_and_budgets_expire(services: Services) -> None:
    now = hour_bucket()
    with services.sessions() as session:
        session.add(FormToken(token_hash=b"\x01" * 32, expires_hour=now - 1))
        session.add(FormToken(token_hash=b"\x02" * 32, expires_hour=now + 1))
        session.add(AttemptBudget(hour=now - 100, count=5))
        session.add(AttemptBudget(hour=now, count=5))
        session.commit()
    report = sweep(services.sessions, services.store)
    assert (report.tokens_expired, report.budget_hours_removed) == (1, 1)
    assert _count(services, FormToken) == 1
    assert _count(services, AttemptBudget) == 1


def test_orphans_go_only_when_old_and_unreferenced(
    keyed_services: Services, investigator: Investigator
) -> None:
    services = keyed_services
    store = services.store
    assert isinstance(store, LocalBlobStore)
    orphan, reply_blob, draft_blob = _blob(store), _blob(store), _blob(store)
    _draft(services, hour_bucket() + 10, draft_blob, b"\x04" * 32)
    with services.sessions() as session:
        witness = Witness(lookup=b"\x06" * 32, reply_recipient="age1r", created_on=DAY)
        session.add(witness)
        session.flush()
        session.add(
            Reply(
                witness_id=witness.id,
                blob_name=reply_blob,
                created_on=DAY,
                signed_by=investigator.fingerprint,
            )
        )
        session.commit()
    # With the default age a blob committed just now is never taken: its row may be on its way.
    assert sweep(services.sessions, store).orphans_removed == 0
    assert store.exists(orphan)
    report = sweep(services.sessions, store, orphan_min_age=timedelta(0))
    assert report.orphans_removed == 1
    assert not store.exists(orphan)
    assert store.exists(reply_blob)
    assert store.exists(draft_blob)


def test_sweep_of_a_clean_install_removes_nothing(services: Services) -> None:
    report = sweep(services.sessions, services.store, orphan_min_age=timedelta(0))
    assert report == type(report)()
