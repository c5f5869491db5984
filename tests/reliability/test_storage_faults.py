"""Faults aimed at each step of storing a submission (in-process, fault-injecting store): the disk
fills while a file arrives or while a blob is named, or the database goes away after the files
are named. Each time: the page saying what arrived whole is kept (with a link to the form), no
blob without its row, no temp left.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from intake import blobstore, db
from intake.app import build_services, create_app
from intake.blobstore import LocalBlobStore
from intake.config import load_config
from intake.datadir import init_data_dir
from intake.errors import DiskFullError
from intake.keyring import Keyring
from intake.models import Blob, DraftBlob, Submission
from tests.conftest import keyring_env
from tests.reliability.client import FilePart
from tests.reliability.inprocess import Site, site_at, submit

NOT_SAVED = "We could not save all of what you sent. Your answers and every file"


class FailingCommits(LocalBlobStore):
    """A local store whose `fail_at`-th commit (1-based) fails as a full disk would."""

    def __init__(self, root: Path, fail_at: int) -> None:
        super().__init__(root)
        self.fail_at = fail_at
        self.commits = 0

    def commit(
        self, temp_name: str, final_name: str, *, replace: bool = False, scrub_replaced: int = 0
    ) -> None:
        self.commits += 1
        if self.commits == self.fail_at:
            raise DiskFullError("the disk is full while committing a blob")
        super().commit(temp_name, final_name, replace=replace, scrub_replaced=scrub_replaced)


def _two_files() -> list[FilePart]:
    return [
        FilePart.of("group1-files", "a.jpg", os.urandom(70_000)),
        FilePart.of("group2-files", "b.mp4", os.urandom(300_000)),
    ]


def _assert_nothing_kept(site: Site, status: int, body: str) -> None:
    assert status == 503, body[:3000]
    assert NOT_SAVED in body
    assert 'id="open-again"' in body  # a GET of the form shows the draft; not Reload
    assert site.temp_files() == []
    with site.services.sessions() as session:
        assert session.scalars(select(Submission.id)).all() == []
        assert session.scalars(select(Blob.name)).all() == []
        # Whole files that were named before the fault wait in the draft (issue 14): no blob
        # without its row.
        assert sorted(session.scalars(select(DraftBlob.name))) == site.blob_files()


def test_disk_full_while_a_file_arrives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    budget = {"left": 150_000}
    real_write: Callable[..., int] = blobstore._RawFile.write

    def write(self: Any, data: Any) -> int:
        budget["left"] -= len(data)
        if budget["left"] < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    with site_at(tmp_path) as site:
        monkeypatch.setattr(blobstore._RawFile, "write", write)
        answer = submit(site.client(), _two_files())
        _assert_nothing_kept(site, answer.status_code, answer.get_data(as_text=True))
        monkeypatch.undo()  # space freed: the same app takes the next one
        assert submit(site.client(), _two_files()).status_code == 200


@pytest.mark.parametrize("fail_at", [1, 2, 3], ids=["first-file", "second-file", "manifest"])
def test_disk_full_while_a_blob_is_named(tmp_path: Path, fail_at: int) -> None:
    store = FailingCommits(tmp_path / "data" / "store", fail_at)
    with site_at(tmp_path, store=store) as site:
        answer = submit(site.client(), _two_files())
        _assert_nothing_kept(site, answer.status_code, answer.get_data(as_text=True))


def test_database_gone_after_the_files_were_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def sync_cache(self: Keyring, *_args: Any) -> Any:
        # The keyring is a file; the first database work at commit refreshes its cache.
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    with site_at(tmp_path) as site:
        monkeypatch.setattr(Keyring, "sync_cache", sync_cache)
        answer = submit(site.client(), _two_files())
        _assert_nothing_kept(site, answer.status_code, answer.get_data(as_text=True))


def test_a_worker_starting_while_the_database_is_locked_still_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A gunicorn worker that fails to boot makes gunicorn stop the whole site (every upload in
    # the other worker with it): the start-up sweep's failure must stay a log line.
    config = load_config({"INTAKE_DATA_DIR": str(tmp_path / "data"), **keyring_env(tmp_path)})
    config = config.replace(database_url=f"sqlite:///{tmp_path / 'intake.sqlite3'}")
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 100)  # not 10 s of waiting in a test
    services = build_services(config)
    try:
        init_data_dir(config, services.engine)
        lock = sqlite3.connect(tmp_path / "intake.sqlite3", isolation_level=None)
        try:
            lock.execute("BEGIN EXCLUSIVE")
            app = create_app(config, services=services)
            assert app.test_client().get("/").status_code == 200
        finally:
            lock.execute("ROLLBACK")
            lock.close()
    finally:
        services.engine.dispose()
