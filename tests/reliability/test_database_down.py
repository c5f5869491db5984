"""The database goes away under a running gunicorn: SQLite locked by another connection, and
PostgreSQL cut off through a loopback proxy (the shared server itself is never stopped). Each
time: a calm 503, no blob without its row, and the same workers recover once it is back.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests.conftest import schema_url
from tests.reliability.client import MINIMAL_TESTIMONY, FilePart, Multipart, Witness
from tests.reliability.harness import Installation, install
from tests.reliability.live import LiveServer
from tests.reliability.proxy import TcpProxy

NOT_SAVED = "We could not save all of what you sent. Your answers and every file"
TRY_LATER = "The service is busy or under maintenance."


def _assert_nothing_kept(installation: Installation) -> None:
    assert installation.temp_files() == []
    assert installation.blob_files() == []
    assert installation.submission_count() == 0


def _photo() -> FilePart:
    return FilePart.of("group1-files", "photo.jpg", os.urandom(400_000))


def test_sqlite_locked_gives_503_keeps_nothing_and_recovers(
    installation: Installation, server: LiveServer
) -> None:
    workers = server.worker_pids()
    witness = Witness(server.port)
    action = witness.testimony_action()
    lock = sqlite3.connect(installation.data_dir / "intake.sqlite3", isolation_level=None)
    try:
        lock.execute("BEGIN EXCLUSIVE")
        assert Witness(server.port).get("/").status == 200  # reading pages needs no write
        # The files arrive and are sealed; the row waits out the busy timeout and fails.
        answer = witness.post(action, Multipart(list(MINIMAL_TESTIMONY), [_photo()]))
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert answer.status == 503, answer.body[:2000]
    assert NOT_SAVED in answer.body
    _assert_nothing_kept(installation)

    assert Witness(server.port).submit([_photo()]).status == 200
    assert installation.submission_count() == 1
    assert server.worker_pids() == workers  # recovered without a restart


@pytest.fixture
def proxy(pg_schema: tuple[str, str]) -> Iterator[TcpProxy]:
    url = make_url(pg_schema[0])
    made = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    made.restore()
    try:
        yield made
    finally:
        made.cut()


@pytest.fixture
def pg_server(
    tmp_path: Path, pg_schema: tuple[str, str], proxy: TcpProxy
) -> Iterator[tuple[Installation, LiveServer]]:
    base, schema = pg_schema
    installation = install(tmp_path, database_url=schema_url(base, schema, port=proxy.port))
    live = LiveServer(installation)
    try:
        yield installation, live.start()
    finally:
        live.stop()


def _paused(form: Multipart, after: int, resume: threading.Event) -> Iterator[bytes]:
    """The body's first `after` bytes, then a wait for `resume`, then the rest."""
    sent = 0
    for chunk in form.chunks():
        if sent <= after < sent + len(chunk):
            yield chunk[: after - sent]
            resume.wait(30)
            yield chunk[after - sent :]
        else:
            yield chunk
        sent += len(chunk)


def _wait_for_a_temp(installation: Installation, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not installation.temp_files():
        assert time.monotonic() < deadline, "the upload never reached the blob store"
        time.sleep(0.01)


def test_postgresql_cut_off_gives_503_keeps_nothing_and_recovers(
    pg_server: tuple[Installation, LiveServer], proxy: TcpProxy
) -> None:
    installation, server = pg_server
    workers = server.worker_pids()
    witness = Witness(server.port)
    action = witness.testimony_action()
    form = Multipart(list(MINIMAL_TESTIMONY), [_photo(), _photo()])
    resume, answers = threading.Event(), []
    sender = threading.Thread(
        target=lambda: answers.append(
            witness.send(
                action,
                _paused(form, form.length // 2, resume),
                content_type=form.content_type,
                length=form.length,
            )
        )
    )
    sender.start()
    try:
        _wait_for_a_temp(installation)  # the body is being read: the checks before it passed
        proxy.cut()  # mid-upload: the first file is being sealed, the row not yet written
        resume.set()
        sender.join(60)
        assert Witness(server.port).get("/").status == 200  # the pages that need no database
        # A new witness's codename step needs the database (it creates the witness): refused
        # calmly, before anything is issued.
        refused = Witness(server.port)
        before_body = refused.post(refused.get("/start").action("start-form"), Multipart([]))
        assert before_body.status == 503
        assert TRY_LATER in before_body.body
    finally:
        resume.set()
        proxy.restore()
    (answer,) = answers
    assert answer.status == 503, answer.body[:2000]
    assert NOT_SAVED in answer.body
    _assert_nothing_kept(installation)

    assert Witness(server.port).submit([_photo()]).status == 200
    assert installation.submission_count() == 1
    assert server.worker_pids() == workers
