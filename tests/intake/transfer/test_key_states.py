"""Who may purge: the keyring file decides, the database never does (issue 13).

An attacker who can write the database and nothing else inserts an "investigator" row: nothing
is sealed to it and no ack it signs purges anything. A retired key's ack (routine rotation)
still purges what was exported sealed to it; a revoked key's purges nothing. Every test runs
on SQLite and, when configured, PostgreSQL.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, update

from crypto.age import open_bytes
from crypto.errors import NoIdentityMatchError
from crypto.minisign import SigningKey
from crypto.x25519 import X25519Identity
from intake.cli import ExitCode
from intake.keyring import NewKey
from intake.models import (
    BlobRecipient,
    ExportedBlob,
    InvestigatorKey,
    KeyStatus,
    Submission,
    SubmissionState,
)
from intake.transfer.purge import RETIRED_ACK_DAYS
from tests.intake.conftest import Investigator
from tests.intake.keyring_admin import admin
from tests.intake.transfer.conftest import CODENAME_B, Stock
from tests.intake.transfer.laptop import write_ack
from tests.intake.transfer.site import submit

MakeInvestigator = Callable[[], Investigator]


def _states(stock: Stock) -> set[SubmissionState]:
    with stock.services.sessions() as session:
        return set(session.scalars(select(Submission.state)))


def _insert_row(stock: Stock, identity: X25519Identity, signing_key: SigningKey) -> str:
    """What an attacker with database access does: an active investigator row, by hand."""
    key = NewKey.parse(
        str(identity.recipient()),
        name="Not an investigator",
        signing_key=signing_key.verify_key().to_file_text(),
    )
    with stock.services.sessions() as session:
        session.add(
            InvestigatorKey(
                fingerprint=key.fingerprint,
                recipient=str(key.recipient),
                name=key.name,
                signing_key=key.signing_key_text,
                signing_key_id=key.verify_key.key_id_hex,
                status=KeyStatus.ACTIVE,
                added_on=date(2026, 1, 1),
                retired_on=None,
            )
        )
        session.commit()
    return key.fingerprint


def test_a_key_row_inserted_into_the_database_is_sealed_nothing_and_purges_nothing(
    stock: Stock, tmp_path: Path
) -> None:
    identity, signing_key = X25519Identity.generate(), SigningKey.generate()
    fingerprint = _insert_row(stock, identity, signing_key)

    sent = submit(stock.services, CODENAME_B, [b"testimony after the insert"])
    with stock.services.sessions() as session:
        sealed_to = set(session.scalars(select(BlobRecipient.fingerprint)))
    assert sealed_to == {stock.investigator.fingerprint}
    for name, plaintext in sent.files.items():
        with stock.services.store.open(name) as handle:
            sealed = handle.read()
        assert open_bytes(sealed, [stock.investigator.identity]) == plaintext
        with pytest.raises(NoIdentityMatchError):
            open_bytes(sealed, [identity])

    exported = stock.export(tmp_path / "export.bundle")[1]
    ack = write_ack(tmp_path / "ack", exported, signing_key)
    result = stock.cli("purge", "--ack", str(ack))
    assert result.exit_code == ExitCode.BUNDLE, result.output
    assert "signed by no key in the keyring file" in result.stderr
    assert SubmissionState.PURGED not in _states(stock)

    doctor = stock.cli("doctor", "--json")
    assert fingerprint in doctor.stdout  # the cache check names the forged row


def test_an_ack_from_before_a_rotation_purges_what_it_acknowledges(
    stock: Stock, tmp_path: Path, make_investigator: MakeInvestigator
) -> None:
    exported = stock.export(tmp_path / "export.bundle")[1]
    ack = write_ack(tmp_path / "ack", exported, stock.investigator.signing_key)
    admin(stock.services).rotate(stock.investigator.fingerprint, make_investigator().new_key())
    result = stock.cli("purge", "--ack", str(ack))
    assert result.exit_code == 0, result.output
    assert "purged 3 submission(s)" in result.output
    assert _states(stock) == {SubmissionState.PURGED}


def test_a_revoked_keys_ack_purges_nothing(
    stock: Stock, tmp_path: Path, make_investigator: MakeInvestigator
) -> None:
    exported = stock.export(tmp_path / "export.bundle")[1]
    ack = write_ack(tmp_path / "ack", exported, stock.investigator.signing_key)
    admin(stock.services).add(make_investigator().new_key("Next"))
    admin(stock.services).revoke(stock.investigator.fingerprint)
    result = stock.cli("purge", "--ack", str(ack))
    assert result.exit_code == ExitCode.BUNDLE, result.output
    assert f"signed by the revoked key {stock.investigator.fingerprint}" in result.stderr
    assert SubmissionState.PURGED not in _states(stock)


def test_a_retired_keys_ack_outside_its_period_purges_nothing(
    stock: Stock, tmp_path: Path, make_investigator: MakeInvestigator
) -> None:
    newer: Investigator = make_investigator()
    admin(stock.services).rotate(stock.investigator.fingerprint, newer.new_key("Newer"))
    later = submit(stock.services, CODENAME_B, [b"sealed to the new key only"])
    exported = stock.export(tmp_path / "export.bundle")[1]
    ack = write_ack(
        tmp_path / "ack", exported, stock.investigator.signing_key, only=[later.submission_id]
    )
    result = stock.cli("purge", "--ack", str(ack))
    assert result.exit_code == ExitCode.BUNDLE, result.output
    assert "signed by the retired key" in result.stderr
    assert "outside the period the key was active" in result.stderr
    assert SubmissionState.PURGED not in _states(stock)
    # The new key's ack for the same export purges it.
    ok = write_ack(tmp_path / "ack2", exported, newer.signing_key, only=[later.submission_id])
    assert stock.cli("purge", "--ack", str(ok)).exit_code == 0


def test_revoking_a_key_revokes_the_minisign_key_its_retired_sibling_shares(
    stock: Stock, tmp_path: Path, make_investigator: MakeInvestigator
) -> None:
    """Review finding: rotate A→C keeping A's minisign key, then revoke C (laptop stolen); the
    thief's ack matched the retired entry A and purged."""
    exported = stock.export(tmp_path / "export.bundle")[1]
    fresh = make_investigator()
    kept = NewKey.parse(
        str(fresh.recipient), name="Same signer", signing_key=stock.investigator.signing_key_text
    )
    _retired, rotated = admin(stock.services).rotate(stock.investigator.fingerprint, kept)
    admin(stock.services).add(make_investigator().new_key("Third"))
    admin(stock.services).revoke(rotated.fingerprint)
    ack = write_ack(tmp_path / "ack", exported, stock.investigator.signing_key)
    result = stock.cli("purge", "--ack", str(ack))
    assert result.exit_code == ExitCode.BUNDLE, result.output
    assert f"signed by the revoked key {rotated.fingerprint}" in result.stderr
    assert SubmissionState.PURGED not in _states(stock)


def test_a_retired_keys_acks_count_for_thirty_days_only(
    stock: Stock, tmp_path: Path, make_investigator: MakeInvestigator
) -> None:
    """The window comes from the keyring file, which a database writer cannot change: it
    bounds what a stolen retired key can purge with such a writer's help (SECURITY.md)."""
    exported = stock.export(tmp_path / "export.bundle")[1]
    ack = write_ack(tmp_path / "ack", exported, stock.investigator.signing_key)
    long_ago = date.today() - timedelta(days=RETIRED_ACK_DAYS + 1)
    admin(stock.services).rotate(
        stock.investigator.fingerprint, make_investigator().new_key(), today=long_ago
    )
    result = stock.cli("purge", "--ack", str(ack))
    assert result.exit_code == ExitCode.BUNDLE, result.output
    assert f"retired on {long_ago}: a retired key's acks count for 30 days" in result.stderr
    assert SubmissionState.PURGED not in _states(stock)


def test_the_upgrade_to_0302_backfills_what_earlier_exports_were_sealed_to(
    stock: Stock, tmp_path: Path
) -> None:
    """Review finding: exports made before the keyring file recorded no recipients, so an ack
    from before a rotation would have been refused after the upgrade."""
    stock.export(tmp_path / "export.bundle")
    with stock.services.engine.begin() as conn:  # as a release before 0302 left them
        conn.execute(update(ExportedBlob).values(recipients=""))
    migration = importlib.import_module("intake.migrations.versions.0302_keyring_file_cache")
    with (
        stock.services.engine.begin() as conn,
        Operations.context(MigrationContext.configure(conn)),
    ):
        migration._backfill_recipients()
    with stock.services.sessions() as session:
        recorded = set(session.scalars(select(ExportedBlob.recipients)))
    assert recorded == {stock.investigator.fingerprint}
