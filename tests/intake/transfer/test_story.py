"""The whole rotation story, on SQLite and PostgreSQL, through the `intake` CLI and the site's
services: submit → rotate → submit → export → open with old and new identities → re-wrap →
apply → everything opens with the new identity alone → purge with the ack → no blob of those
submissions is left, and the witness still logs in (through the site's login page) and reads a
reply imported afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from crypto.age import open_bytes
from crypto.errors import NoIdentityMatchError
from intake.context import Services
from intake.models import Blob
from tests.intake.conftest import CliFixture, Investigator
from tests.intake.transfer.laptop import (
    ReplyDraft,
    read_export,
    write_ack,
    write_replies,
    write_rewrap,
)
from tests.intake.transfer.site import browser_login, submit, witness_login

CODENAME = "quartz river saddle thistle umber violet willow"


def _ok(cli: CliFixture, *args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    return result.output


def test_rotation_rewrap_purge_and_reply(
    keyed_services: Services,
    investigator: Investigator,
    make_investigator: Callable[[], Investigator],
    cli: CliFixture,
    tmp_path: Path,
) -> None:
    services, old = keyed_services, investigator
    before = submit(services, CODENAME, [b"sealed to the old key"])

    new = make_investigator()
    rotated = _ok(
        cli, "keys", "rotate", old.fingerprint, str(new.recipient),
        "--name", "New", "--signing-key", str(new.pub_file),
    )  # fmt: skip
    assert "stored blobs stay sealed to the retired key until re-wrapped" in rotated
    after = submit(services, CODENAME, [b"sealed to the new key"], parent_id=before.submission_id)

    _ok(cli, "export", "--out", str(tmp_path / "export"))
    export = read_export(tmp_path / "export")
    old_items = [
        f"submissions/{before.submission_id}.json.age",
        *(f"blobs/{n}" for n in before.files),
    ]
    new_items = [
        f"submissions/{after.submission_id}.json.age",
        *(f"blobs/{n}" for n in after.files),
    ]
    for item in old_items:
        export.open(item, [old.identity])
        with pytest.raises(NoIdentityMatchError):
            export.open(item, [new.identity])
    for item in new_items:
        export.open(item, [new.identity])
        with pytest.raises(NoIdentityMatchError):
            export.open(item, [old.identity])

    # The laptop re-wraps what it holds (with both identities) to the active keyring.
    bundle = write_rewrap(
        tmp_path / "rewrap", export, [old.identity, new.identity], [new.recipient],
        new.signing_key,
    )  # fmt: skip
    applied = _ok(cli, "keys", "apply-rewrap", str(bundle))
    assert "re-wrapped 4 blob(s) of 2 submission(s) to 1 key(s)" in applied
    assert "retired key" not in applied
    stored = services.config.blob_dir / "blobs"
    with services.sessions() as session:
        names = list(session.scalars(select(Blob.name)))
    assert len(names) == 4
    for name in names:
        data = (stored / name).read_bytes()
        open_bytes(data, [new.identity])
        with pytest.raises(NoIdentityMatchError):
            open_bytes(data, [old.identity])
    plain = open_bytes((stored / next(iter(before.files))).read_bytes(), [new.identity])
    assert plain == b"sealed to the old key"

    # The ack names what the export carried (the hashes from before the re-wrap).
    ack = write_ack(tmp_path / "ack", export, new.signing_key)
    assert "purged 2 submission(s): 4 blob(s)" in _ok(cli, "purge", "--ack", str(ack))
    assert list(stored.iterdir()) == []
    with services.sessions() as session:
        assert list(session.scalars(select(Blob.name))) == []

    draft = ReplyDraft(
        after.submission_id, str(after.keys.identity.recipient()), "received, thank you"
    )
    replies, _ids = write_replies(tmp_path / "replies", [draft], new.signing_key)
    _ok(cli, "replies", "import", str(replies))
    page = browser_login(services, CODENAME)
    assert "received, thank you" in page
    assert page.count("Delivered to investigators") == 2
    account = witness_login(services, CODENAME)
    assert account is not None
    assert [r.text for r in account.replies] == ["received, thank you"]
    assert all(line.delivered for line in account.submissions)
    assert {line.reference for line in account.submissions} == {
        before.submission_id,
        after.submission_id,
    }
