"""Alembic on SQLite and PostgreSQL: upgrade to head matches the models exactly, and downgrades."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, column, inspect, select, text
from sqlalchemy import table as table_
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import Executable

from intake.models import Base
from intake.schema import alembic_config, head_revision, schema_status, upgrade_to_head


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


def _check_constraints(engine: Engine) -> dict[str, list[str]]:
    inspector = inspect(engine)
    return {
        table: sorted(str(c["name"]) for c in inspector.get_check_constraints(table))
        for table in inspector.get_table_names()
    }


def test_upgrade_to_head_matches_the_models(engine: Engine) -> None:
    before = upgrade_to_head(engine)
    assert before.current is None
    assert schema_status(engine).at_head
    assert schema_status(engine).current == head_revision()
    assert _differences(engine) == []
    # Alembic does not compare CHECK constraints; the enum ones must carry the models' names.
    checks = _check_constraints(engine)
    assert checks["investigator_key"] == ["ck_investigator_key_key_status"]
    assert checks["submission"] == ["ck_submission_submission_state"]
    assert checks["blob"] == ["ck_blob_blob_role"]


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade_to_head(engine)
    again = upgrade_to_head(engine)
    assert again.at_head


def test_downgrade_to_base_and_up_again(engine: Engine) -> None:
    upgrade_to_head(engine)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_to_head(engine)
    assert _differences(engine) == []


def test_an_unmigrated_database_is_not_at_head(engine: Engine) -> None:
    status = schema_status(engine)
    assert status.current is None
    assert not status.at_head


def test_history_is_linear_from_the_initial_revision() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert list(script.get_bases()) == ["0001"]


def _migrate(engine: Engine, step: str, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, step)(cfg, revision)


def _insert_token_draft(engine: Engine) -> None:
    """A draft under a form token (the only kind before 0403), with one kept file."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO pending_draft (id, token_hash, expires_hour, file_count, sealed_bytes)"
                " VALUES ('D-1', :token, 9, 1, 3)"
            ),
            {"token": b"\x03" * 32},
        )
        conn.execute(
            text(
                "INSERT INTO draft_blob (name, draft_id, sealed_size, sealed_sha256,"
                " keyring_digest) VALUES (:blob, 'D-1', 3, :sha, :sha)"
            ),
            {"blob": "b" * 32, "sha": "1" * 64},
        )
        conn.execute(
            text("INSERT INTO draft_file (blob_name, sealed_meta) VALUES (:blob, :meta)"),
            {"blob": "b" * 32, "meta": b"meta"},
        )


def _draft_rows(engine: Engine) -> tuple[list[str], list[str], list[str]]:
    with engine.connect() as conn:
        return (
            list(conn.execute(text("SELECT id FROM pending_draft")).scalars()),
            list(conn.execute(text("SELECT draft_id FROM draft_blob")).scalars()),
            list(conn.execute(text("SELECT blob_name FROM draft_file")).scalars()),
        )


def test_upgrade_from_0402_keeps_drafts_and_their_files(engine: Engine) -> None:
    # 0403 rebuilds pending_draft on SQLite; its DROP TABLE cascaded to every draft_blob row.
    _migrate(engine, "upgrade", "0402")
    _insert_token_draft(engine)
    upgrade_to_head(engine)
    assert _draft_rows(engine) == (["D-1"], ["D-1"], ["b" * 32])
    assert _differences(engine) == []


def test_0403_upgraded_again_after_a_failed_upgrade_in_the_same_process(engine: Engine) -> None:
    # As 0302 (review of c047893): the drafts' files set aside in temporary tables, which
    # pysqlite creates outside the transaction, must not outlive a failed upgrade.
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL alters pending_draft in place: nothing is set aside")
    _migrate(engine, "upgrade", "0402")
    _insert_token_draft(engine)
    blocker = "_alembic_tmp_pending_draft"  # batch mode's copy cannot be made while it exists
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {blocker} (x INTEGER)"))
    with pytest.raises(OperationalError, match=blocker):
        _migrate(engine, "upgrade", "0403")
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {blocker}"))
    upgrade_to_head(engine)
    assert _draft_rows(engine) == (["D-1"], ["D-1"], ["b" * 32])


def test_downgrade_to_0302_keeps_witnesses_sessions_and_blobs(engine: Engine) -> None:
    # A batch downgrade copies each table: rows must survive it (an empty database proves nothing).
    upgrade_to_head(engine)
    _insert_token_draft(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO witness (id, lookup, reply_recipient, created_on, pending_until)"
                " VALUES ('W-1', :lookup, 'age1x', '2026-01-02', 99)"
            ),
            {"lookup": b"\x01" * 32},
        )
        conn.execute(
            text(
                "INSERT INTO witness_session (token_hash, witness_id, absolute_until, idle_until,"
                " sealed_note, note_until) VALUES (:token, 'W-1', 10, 5, :note, 7)"
            ),
            {"token": b"\x02" * 32, "note": b"sealed"},
        )
        conn.execute(
            text(
                "INSERT INTO submission (id, witness_id, kind, received_on, manifest_blob,"
                " file_count, sealed_bytes, state, withdrawn)"
                " VALUES ('S-1', 'W-1', 'testimony', '2026-01-02', :blob, 0, 1, 'stored', true)"
            ),
            {"blob": "a" * 32},
        )
        conn.execute(
            text(
                "INSERT INTO blob (name, submission_id, role, sealed_size, sealed_sha256)"
                " VALUES (:blob, 'S-1', 'manifest', 1, :sha)"
            ),
            {"blob": "a" * 32, "sha": "0" * 64},
        )
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0302")
    assert schema_status(engine).current == "0302"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM witness")).scalars().all() == ["W-1"]
        assert conn.execute(text("SELECT idle_until FROM witness_session")).scalars().all() == [5]
        # 0405 rebuilt `submission` the same way, and the cascade took every blob row with it.
        assert conn.execute(text("SELECT name FROM blob")).scalars().all() == ["a" * 32]
    # 0403 rebuilds pending_draft: a token draft keeps its files (a witness draft cannot stay).
    assert _draft_rows(engine) == (["D-1"], ["D-1"], ["b" * 32])
    upgrade_to_head(engine)
    assert _differences(engine) == []


# Rows as they stood at 0301 (literal SQL: the models are head's): two keys, a witness with a
# stored, exported submission whose blob was sealed to both keys, and a reply signed by one.
_AT_0301 = (
    "INSERT INTO investigator_key (fingerprint, recipient, name, signing_key, signing_key_id,"
    " status, added_on) VALUES"
    " ('f1', 'age1one', 'one', 'pk1', 'id1', 'active', '2026-01-01'),"
    " ('f2', 'age1two', 'two', 'pk2', 'id2', 'active', '2026-01-01')",
    "INSERT INTO witness (id, lookup, reply_recipient, created_on)"
    " VALUES ('W-1', :lookup, 'age1w', '2026-01-02')",
    "INSERT INTO submission (id, witness_id, kind, received_on, manifest_blob, file_count,"
    " sealed_bytes, state) VALUES ('S-1', 'W-1', 'testimony', '2026-01-02', 'b1', 0, 1,"
    " 'exported')",
    "INSERT INTO blob (name, submission_id, role, sealed_size, sealed_sha256)"
    " VALUES ('b1', 'S-1', 'manifest', 1, 'h1')",
    "INSERT INTO blob_recipient (blob_name, fingerprint) VALUES ('b1', 'f2'), ('b1', 'f1')",
    "INSERT INTO exported_blob (blob_name, sealed_sha256) VALUES ('b1', 'h1')",
    "INSERT INTO reply (id, witness_id, blob_name, created_on, signed_by)"
    " VALUES ('R-1', 'W-1', 'rb1', '2026-01-03', 'f1')",
)
# What 0302 must keep row for row, both ways: these tables, every column they had at 0301
# (later revisions add columns; those are not 0301's to keep).
_KEPT_BY_0302 = (
    "investigator_key", "witness", "submission", "blob", "blob_recipient", "exported_blob",
    "reply",
)  # fmt: skip
Kept = dict[str, list[dict[str, object]]]


def _columns_at_0301(engine: Engine) -> dict[str, list[str]]:
    inspector = inspect(engine)
    return {table: [c["name"] for c in inspector.get_columns(table)] for table in _KEPT_BY_0302}


def _kept(engine: Engine, columns: dict[str, list[str]]) -> Kept:
    """Every row of each table, as the columns name them, in an order that does not depend on
    how a rebuild copied them (a blob_recipient row is its blob and its key together)."""
    kept: Kept = {}
    with engine.connect() as conn:
        for table, names in columns.items():
            query: Executable = select(*[column(name) for name in names]).select_from(table_(table))
            rows: list[dict[str, object]] = [dict(row._mapping) for row in conn.execute(query)]
            kept[table] = sorted(rows, key=repr)
    return kept


def _scalars(engine: Engine, query: str) -> list[object]:
    with engine.connect() as conn:
        return list(conn.execute(text(query)).scalars())


def _at_0301(engine: Engine) -> tuple[dict[str, list[str]], Kept]:
    """The database at 0301 with _AT_0301's rows: its columns and its rows, to compare with."""
    _migrate(engine, "upgrade", "0301")
    _insert_at_0301(engine)
    columns = _columns_at_0301(engine)
    kept = _kept(engine, columns)
    assert all(kept.values()), kept  # an empty table proves nothing
    assert [(r["blob_name"], r["fingerprint"]) for r in kept["blob_recipient"]] == [
        ("b1", "f1"),
        ("b1", "f2"),
    ]
    return columns, kept


def _insert_at_0301(engine: Engine) -> None:
    with engine.begin() as conn:
        for statement in _AT_0301:
            conn.execute(text(statement), {"lookup": b"\x01" * 32})


def test_upgrade_from_0404_keeps_blobs_their_recipients_and_exports(engine: Engine) -> None:
    # 0405 adds submission.withdrawn with an expression default (false()): Alembic's batch mode
    # rebuilt `submission` for it on SQLite, and the DROP TABLE cascaded to every blob row.
    columns, kept = _at_0301(engine)
    _migrate(engine, "upgrade", "0404")
    upgrade_to_head(engine)
    assert _kept(engine, columns) == kept
    assert _scalars(engine, "SELECT withdrawn FROM submission") == [False]
    assert _differences(engine) == []


def test_0302_up_and_down_keeps_keys_blobs_exports_and_replies(engine: Engine) -> None:
    # 0302 rebuilds investigator_key (its CHECK) and exported_blob on SQLite, both ways; blob
    # recipients and replies refer to the keys, so an empty database proves nothing.
    columns, kept = _at_0301(engine)
    _migrate(engine, "upgrade", "0302")
    assert _kept(engine, columns) == kept
    assert _scalars(engine, "SELECT recipients FROM exported_blob") == ["f1 f2"]  # backfilled
    with engine.begin() as conn:
        conn.execute(text("UPDATE investigator_key SET status = 'revoked' WHERE fingerprint='f2'"))
    _migrate(engine, "downgrade", "0301")
    # What the downgrade drops, and only that: the export recipients (0301 had no column for
    # them) and the revoked state (0301 knows only retired).
    revoked = _kept(engine, columns)
    [f2] = [row for row in revoked["investigator_key"] if row["fingerprint"] == "f2"]
    assert f2["status"] == "retired"
    f2["status"] = "active"  # as inserted: the only change, checked below
    assert revoked == kept
    assert "recipients" not in {c["name"] for c in inspect(engine).get_columns("exported_blob")}
    states = "SELECT status FROM investigator_key ORDER BY fingerprint"
    assert _scalars(engine, states) == ["active", "retired"]
    upgrade_to_head(engine)
    revoked = _kept(engine, columns)
    assert [row["status"] for row in revoked["investigator_key"]] == ["active", "retired"]
    revoked["investigator_key"][1]["status"] = "active"
    assert revoked == kept
    assert _differences(engine) == []


def test_0302_upgraded_again_after_a_failed_upgrade_in_the_same_process(engine: Engine) -> None:
    # The rows set aside on SQLite wait in temporary tables, which pysqlite creates outside the
    # transaction: a failed upgrade must not leave them for the next one on the same connection.
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL alters investigator_key in place: nothing is set aside")
    columns, kept = _at_0301(engine)
    # Batch mode's copy of investigator_key cannot be created while this table exists.
    blocker = "_alembic_tmp_investigator_key"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {blocker} (x INTEGER)"))
    with pytest.raises(OperationalError, match=blocker):
        _migrate(engine, "upgrade", "0302")
    assert _kept(engine, columns) == kept
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {blocker}"))
    _migrate(engine, "upgrade", "0302")
    assert _kept(engine, columns) == kept
    upgrade_to_head(engine)
    assert _differences(engine) == []
