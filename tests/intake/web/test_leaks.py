"""No plaintext anywhere: not in the data directory, the database, temp files, open files or logs.

A random canary goes into every text field, a file's content and its name, and a follow-up;
afterwards nothing the server wrote or held open may contain it in clear.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import inspect, text
from wtforms import StringField, TextAreaField

from intake.web import forms
from intake.web import upload as upload_module
from tests.intake.web import witness_steps
from tests.intake.web.conftest import (
    Site,
    form_action,
    minimal_testimony,
    open_testimony_form,
    post_multipart,
)

BIG = 600 * 1024  # above Werkzeug's 500 KB spool threshold


def _text_fields(form_class: type, prefix: str = "") -> list[str]:
    form = form_class()
    return [
        f"{prefix}{field.name}" for field in form if isinstance(field, StringField | TextAreaField)
    ]


def _open_files_of_this_process() -> list[Path]:
    """Regular files this process holds open (an unlinked spool file still shows here)."""
    found = []
    for entry in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        if target.startswith("/") and not target.startswith(("/dev/", "/proc/")):
            found.append(entry)
    return found


class _OpenFileWatch:
    """Reads every file the process holds open, while the upload is in progress."""

    def __init__(self, canary: bytes) -> None:
        self.canary = canary
        self.hits: list[str] = []
        self.looked = 0

    def look(self) -> None:
        self.looked += 1
        for fd_path in _open_files_of_this_process():
            try:
                content = fd_path.read_bytes()
            except OSError:
                continue
            if self.canary in content:
                self.hits.append(os.readlink(fd_path))


def _grep_tree(root: Path, canary: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and canary in p.read_bytes()]


def _dump_database(site: Site) -> str:
    url = site.config.database_url
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return "\n".join(conn.iterdump())
    lines = []
    with site.services.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608 - test
                lines.append(repr(tuple(row)))
    return "\n".join(lines)


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tmpdir"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


def test_no_canary_in_clear_anywhere(
    site: Site,
    client: FlaskClient,
    private_tmp: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = f"CANARY{secrets.token_hex(8)}"
    watch = _OpenFileWatch(canary.encode())
    write = upload_module.SealingWriter.write

    def watched_write(self: Any, data: Any) -> int:
        if watch.looked < 3:
            watch.look()
        return write(self, data)

    monkeypatch.setattr(upload_module.SealingWriter, "write", watched_write)

    data: dict[str, Any] = {"identify": "yes", "contact": "yes", "contact_how": "other-channel"}
    for name in _text_fields(forms.TestimonyForm):
        if name not in {"coordinates"}:
            data[name] = f"{canary} {name}"
    for group in (1, 2, 3):
        for name in _text_fields(forms.FileGroupForm, f"group{group}-"):
            data[name] = f"{canary} {name}"
    content = (canary.encode() + b" in the file ") * (BIG // 40)
    data["group1-files"] = [(io.BytesIO(content), f"{canary}-name.mp4", "video/mp4")]
    # A group's answers describe its files (protocol.rules): groups 2 and 3 get one each.
    for group in (2, 3):
        small = canary.encode() + f" group {group}".encode()
        data[f"group{group}-files"] = [(io.BytesIO(small), f"{canary}-{group}.jpg", "image/jpeg")]
    codename, reference = witness_steps.testify(client, **data)

    browser = site.client()
    witness_steps.login(browser, codename)
    page = browser.get("/account/add").get_data(as_text=True)
    follow_up = {
        "parent": reference,
        "account": f"{canary} follow-up",
        "group1-shows": f"{canary} follow-up group",
        "group1-files": [(io.BytesIO(content), f"{canary}-later.bin", "x/y")],
    }
    added = post_multipart(browser, form_action(page, "follow-up-form"), follow_up)
    assert added.status_code == 200, added.get_data(as_text=True)

    needle = canary.encode()
    assert watch.looked >= 1
    assert watch.hits == [], "a file held open during the upload contains plaintext"
    assert _grep_tree(site.config.data_dir, needle) == []
    assert canary not in _dump_database(site)
    assert _grep_tree(private_tmp, needle) == []
    assert not any(canary in record.getMessage() for record in caplog.records)


def test_a_large_upload_makes_no_temporary_file(
    client: FlaskClient, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []

    def refuse(name: str) -> Any:
        def factory(*args: Any, **kwargs: Any) -> Any:
            made.append(name)
            raise AssertionError(f"tempfile.{name} called during an upload")

        return factory

    for name in ("TemporaryFile", "SpooledTemporaryFile", "NamedTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse(name))
    seen: list[list[str]] = []
    write = upload_module.SealingWriter.write

    def watched_write(self: Any, data: Any) -> int:
        seen.append(os.listdir(private_tmp))
        return write(self, data)

    monkeypatch.setattr(upload_module.SealingWriter, "write", watched_write)
    action = form_action(open_testimony_form(client), "testimony-form")
    data = minimal_testimony()
    data["group1-files"] = [(io.BytesIO(os.urandom(2 * 1024 * 1024)), "big.bin", "x/y")]
    response = post_multipart(client, action, data)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(seen) > 10  # the file arrived in many pieces, each checked
    assert all(listing == [] for listing in seen)
    assert os.listdir(private_tmp) == []
    assert made == []
