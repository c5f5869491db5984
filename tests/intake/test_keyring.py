"""The keyring on SQLite and PostgreSQL: precise refusals that change nothing, fresh reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select

from crypto.minisign import SigningKey
from intake.app import build_services
from intake.context import Services
from intake.errors import (
    DuplicateKeyError,
    KeyringError,
    LastActiveKeyError,
    MalformedKeyError,
    UnknownKeyError,
)
from intake.keyring import NewKey, fingerprint_set_digest
from intake.models import Blob, BlobRecipient, BlobRole, KeyStatus, Submission, Witness
from tests.intake.conftest import Investigator
from tests.intake.keyring_admin import admin

MakeInvestigator = Callable[[], Investigator]
DAY = date(2025, 3, 1)


def _fingerprints(services: Services) -> list[tuple[str, KeyStatus]]:
    return [(k.fingerprint, k.status) for k in services.keyring.list_keys()]


def test_add_then_list(services: Services, investigator: Investigator) -> None:
    info = admin(services).add(investigator.new_key("Anna"), today=DAY)
    assert info.fingerprint == investigator.fingerprint
    assert info.fingerprint.startswith("SHA256:")
    [listed] = services.keyring.list_keys()
    assert listed == info
    assert listed.status is KeyStatus.ACTIVE
    assert listed.added_on == DAY
    assert listed.retired_on is None
    assert listed.signing_key_id == investigator.signing_key.verify_key().key_id_hex
    assert services.keyring.active_recipients() == [investigator.recipient]
    assert services.keyring.has_active_key()


def test_duplicate_is_refused_and_changes_nothing(
    services: Services, investigator: Investigator
) -> None:
    admin(services).add(investigator.new_key("Anna"))
    with pytest.raises(DuplicateKeyError, match="already in the keyring"):
        admin(services).add(investigator.new_key("Anna again"))
    assert [k.name for k in services.keyring.list_keys()] == ["Anna"]


def test_a_signing_key_belongs_to_one_active_key(
    services: Services, make_investigator: MakeInvestigator
) -> None:
    first, second = make_investigator(), make_investigator()
    admin(services).add(first.new_key())
    reused = NewKey.parse(str(second.recipient), name="B", signing_key=first.signing_key_text)
    with pytest.raises(DuplicateKeyError, match="signing key"):
        admin(services).add(reused)
    assert len(services.keyring.list_keys()) == 1


@pytest.mark.parametrize(
    ("recipient", "message"),
    [
        ("age1notarecipient", "recipient does not parse"),
        ("", "recipient does not parse"),
        ("AGE-SECRET-KEY-1QQQQ", "secret key, not a recipient"),
        ("ssh-ed25519 AAAA", "recipient does not parse"),
    ],
)
def test_malformed_recipients(investigator: Investigator, recipient: str, message: str) -> None:
    with pytest.raises(MalformedKeyError, match=message) as info:
        NewKey.parse(recipient, name="x", signing_key=investigator.signing_key_text)
    assert info.value.category == "keyring"
    assert info.value.hint


def test_malformed_signing_keys(investigator: Investigator) -> None:
    recipient = str(investigator.recipient)
    with pytest.raises(MalformedKeyError, match="signing key does not parse"):
        NewKey.parse(recipient, name="x", signing_key="untrusted comment: x\nnot base64!!\n")
    secret = SigningKey.generate().to_file_text(None)
    with pytest.raises(MalformedKeyError, match="minisign secret key"):
        NewKey.parse(recipient, name="x", signing_key=secret)


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "bad\x1bname"])
def test_malformed_names(investigator: Investigator, name: str) -> None:
    with pytest.raises(MalformedKeyError, match="name"):
        investigator.new_key(name)


def test_a_bare_minisign_public_key_line_is_accepted(investigator: Investigator) -> None:
    bare = investigator.signing_key.verify_key().to_base64()
    new = NewKey.parse(str(investigator.recipient), name="x", signing_key=bare)
    assert new.verify_key == investigator.signing_key.verify_key()


def test_retire_needs_force_for_the_last_active_key(
    services: Services, make_investigator: MakeInvestigator
) -> None:
    first, second = make_investigator(), make_investigator()
    admin(services).add(first.new_key("A"))
    with pytest.raises(LastActiveKeyError) as info:
        admin(services).retire(first.fingerprint)
    assert "--force" in (info.value.hint or "")
    assert services.keyring.has_active_key()

    admin(services).add(second.new_key("B"))
    retired = admin(services).retire(first.fingerprint, today=DAY)
    assert retired.status is KeyStatus.RETIRED
    assert retired.retired_on == DAY
    assert services.keyring.active_recipients() == [second.recipient]

    admin(services).retire(second.fingerprint, force=True)
    assert not services.keyring.has_active_key()
    assert services.keyring.active_recipients() == []


def test_retire_errors(services: Services, make_investigator: MakeInvestigator) -> None:
    first, second = make_investigator(), make_investigator()
    admin(services).add(first.new_key("A"))
    admin(services).add(second.new_key("B"))
    with pytest.raises(UnknownKeyError, match="no key with fingerprint"):
        admin(services).retire("SHA256:nothing")
    # The "SHA256:" prefix may be left out.
    admin(services).retire(first.fingerprint.removeprefix("SHA256:"))
    with pytest.raises(KeyringError, match="already retired"):
        admin(services).retire(first.fingerprint)
    with pytest.raises(DuplicateKeyError, match="retired"):
        admin(services).add(first.new_key("A again"))


def test_rotate_is_one_step(services: Services, make_investigator: MakeInvestigator) -> None:
    old, new = make_investigator(), make_investigator()
    admin(services).add(old.new_key("Old"))
    retired, added = admin(services).rotate(old.fingerprint, new.new_key("New"), today=DAY)
    assert (retired.fingerprint, retired.status) == (old.fingerprint, KeyStatus.RETIRED)
    assert (added.fingerprint, added.status) == (new.fingerprint, KeyStatus.ACTIVE)
    assert services.keyring.active_recipients() == [new.recipient]


def test_rotate_may_keep_the_signing_key(
    services: Services, make_investigator: MakeInvestigator
) -> None:
    old, new = make_investigator(), make_investigator()
    admin(services).add(old.new_key("Old"))
    same_signer = NewKey.parse(str(new.recipient), name="New", signing_key=old.signing_key_text)
    admin(services).rotate(old.fingerprint, same_signer)
    assert services.keyring.active_fingerprints() == [new.fingerprint]


def test_a_failed_rotation_changes_nothing(
    services: Services, make_investigator: MakeInvestigator
) -> None:
    old, other = make_investigator(), make_investigator()
    admin(services).add(old.new_key("Old"))
    admin(services).add(other.new_key("Other"))
    before = _fingerprints(services)
    with pytest.raises(DuplicateKeyError):
        admin(services).rotate(old.fingerprint, other.new_key("Other again"))
    with pytest.raises(UnknownKeyError):
        admin(services).rotate("SHA256:unknown", make_investigator().new_key())
    assert _fingerprints(services) == before


def test_every_worker_sees_a_change_without_restart(
    keyed_services: Services, make_investigator: MakeInvestigator
) -> None:
    # A second set of services on the same database stands for another gunicorn worker.
    other_worker = build_services(keyed_services.config)
    try:
        assert len(other_worker.keyring.active_recipients()) == 1
        newcomer = make_investigator()
        admin(keyed_services).add(newcomer.new_key("New"))
        assert newcomer.recipient in other_worker.keyring.active_recipients()
    finally:
        other_worker.engine.dispose()


def test_signing_keys_carry_their_state_active_first(
    services: Services, make_investigator: MakeInvestigator
) -> None:
    old, new = make_investigator(), make_investigator()
    admin(services).add(old.new_key("Old"))
    admin(services).rotate(old.fingerprint, new.new_key("New"))
    active, retired = services.keyring.signing_keys()
    assert (active.fingerprint, active.status) == (new.fingerprint, KeyStatus.ACTIVE)
    assert active.verify_key == new.signing_key.verify_key()
    assert (retired.fingerprint, retired.status) == (old.fingerprint, KeyStatus.RETIRED)


def test_list_counts_sealed_blobs_and_orders_active_first(
    services: Services, make_investigator: MakeInvestigator
) -> None:
    old, new = make_investigator(), make_investigator()
    admin(services).add(old.new_key("Old"), today=DAY)
    with services.sessions() as session:
        witness = Witness(lookup=b"l" * 32, reply_recipient="age1x", created_on=DAY)
        session.add(witness)
        session.flush()
        submission = Submission(
            id="S-1",
            witness_id=witness.id,
            kind="testimony",
            received_on=DAY,
            manifest_blob="m" * 32,
            file_count=1,
            sealed_bytes=10,
        )
        session.add(submission)
        for name in ("a" * 32, "b" * 32):
            session.add(
                Blob(
                    name=name,
                    submission=submission,
                    role=BlobRole.FILE,
                    sealed_size=5,
                    sealed_sha256="0" * 64,
                )
            )
            session.add(BlobRecipient(blob_name=name, fingerprint=old.fingerprint))
        session.commit()
    admin(services).rotate(old.fingerprint, new.new_key("New"))
    listed = services.keyring.list_keys()
    assert [(k.name, k.sealed_blobs) for k in listed] == [("New", 0), ("Old", 2)]
    with services.sessions() as session:
        assert len(session.scalars(select(BlobRecipient)).all()) == 2


def test_fingerprint_set_digest_is_order_free() -> None:
    assert fingerprint_set_digest(["b", "a"]) == fingerprint_set_digest(["a", "b", "a"])
    assert fingerprint_set_digest(["a"]) != fingerprint_set_digest(["a", "b"])
