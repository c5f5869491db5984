"""Fixtures for the witness site: a real app on a migrated database (intake-core's `db_url`), an
investigator key, a fast codename KDF, and helpers that drive the forms like a browser without
JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, stream_encode_multipart

from crypto.age import open_bytes
from crypto.minisign import SigningKey
from crypto.witness import FAST_TEST_COST
from crypto.x25519 import X25519Identity
from intake.app import build_services, create_app
from intake.config import Config, Limits, load_config
from intake.context import Services
from intake.datadir import init_data_dir
from intake.keyring import NewKey, add_to_file
from intake.web.blueprint import make_blueprint
from intake.web.services.codename import KeyDeriver
from intake.web.services.context import KDF_COST_KEY, WebContext
from tests.conftest import keyring_env


@dataclass
class Site:
    """One running witness site and what tests need to look inside it."""

    app: Flask
    config: Config
    services: Services
    investigator: X25519Identity

    @property
    def ctx(self) -> WebContext:
        return self.app.blueprints["web"].web_context  # type: ignore[attr-defined,no-any-return]

    @property
    def deriver(self) -> KeyDeriver:
        return self.ctx.deriver

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def open_blob(self, name: str, identity: X25519Identity | None = None) -> bytes:
        with self.services.store.open(name) as handle:
            return open_bytes(handle.read(), [identity or self.investigator])

    def raw_blob(self, name: str) -> bytes:
        with self.services.store.open(name) as handle:
            return handle.read()


def add_investigator(services: Services, name: str = "Investigator") -> X25519Identity:
    identity = X25519Identity.generate()
    signing = SigningKey.generate().verify_key().to_file_text()
    add_to_file(
        services.config.keyring_file,
        NewKey.parse(str(identity.recipient()), name=name, signing_key=signing),
    )
    return identity


def make_site(tmp_path: Path, database_url: str, **limits: int) -> Site:
    config = load_config(
        {"INTAKE_DATA_DIR": str(tmp_path / "data"), **keyring_env(tmp_path)}
    ).replace(database_url=database_url, limits=Limits(**limits))
    services = build_services(config)
    init_data_dir(config, services.engine)
    investigator = add_investigator(services)
    app = create_app(config, services=services)
    app.config.update(TESTING=True, **{KDF_COST_KEY: FAST_TEST_COST})
    return Site(app=app, config=config, services=services, investigator=investigator)


@pytest.fixture
def site(tmp_path: Path, db_url: str) -> Iterator[Site]:
    """The witness site on `db_url` (intake-core's fixture: SQLite, and PostgreSQL when set)."""
    made = make_site(tmp_path, db_url)
    yield made
    made.services.engine.dispose()


@pytest.fixture
def client(site: Site) -> FlaskClient:
    return site.client()


def post_multipart(
    client: FlaskClient, url: str, data: dict[str, Any], *, follow: bool = True
) -> TestResponse:
    """POST `data` as multipart/form-data, as a browser does, encoded in memory; a 303 is
    followed with a GET, as a browser does, unless `follow` is False.

    (Werkzeug's test client would otherwise spool a body over 500 KB to a temporary file of
    its own, which the temp-file test must not mistake for the server's.)
    """
    fields: MultiDict[str, str | FileStorage] = MultiDict()
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, tuple):
                stream, filename, content_type = item
                fields.add(key, FileStorage(stream, filename, content_type=content_type))
            else:
                fields.add(key, item)
    stream, length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    response = client.post(
        url,
        input_stream=stream,
        content_length=length,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    if follow and response.status_code == 303:
        return client.get(response.headers["Location"])
    return response


_ACTION = re.compile(r'<form id="([a-z-]+)" method="post"[^>]*action="([^"]+)"')


def form_action(html: str, form_id: str) -> str:
    """The action URL of form `form_id` in a page (with its CSRF and one-time tokens)."""
    forms: list[tuple[str, str]] = _ACTION.findall(html)  # (id, action) per form
    for found_id, action in forms:
        if found_id == form_id:
            return action.replace("&amp;", "&")
    raise AssertionError(f"no form {form_id!r} in the page")


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def minimal_testimony(**extra: Any) -> dict[str, Any]:
    """The least a browser sends for a valid testimony (the required answers)."""
    data: dict[str, Any] = {
        "consent": "y",
        "recipients": ["investigators", "icc-otp"],
        "account": "I saw soldiers take my neighbour away.",
        "identify": "no",
        "contact": "no",
        "contact_how": "receipt-code",
    }
    data.update(extra)
    return data


_POSITION = re.compile(r'<input [^>]*data-position="(\d)" id="word[12]"[^>]* name="(word[12])"')


def confirm_words(html: str) -> dict[str, str]:
    """The confirmation form's answer for the codename shown on `html`."""
    words = codename_of(html).split(" ")
    answer: dict[str, str] = {}
    for position, name in _POSITION.findall(html):
        answer[name] = words[int(position) - 1]
    assert len(answer) == 2, "no confirmation words on the page"
    return answer


def start_witness(client: FlaskClient) -> tuple[str, TestResponse]:
    """The codename step as a browser without JavaScript takes it: ask for a codename, type
    two of its words back, follow the 303; returns the codename and the testimony form page."""
    start = client.get("/start").get_data(as_text=True)
    issued = client.post(form_action(start, "start-form"), follow_redirects=True)
    assert issued.status_code == 200, issued.status_code
    html = issued.get_data(as_text=True)
    codename = codename_of(html)
    confirmed = client.post(form_action(html, "confirm-form"), data=confirm_words(html))
    assert confirmed.status_code == 303, confirmed.status_code
    assert urlsplit(confirmed.headers["Location"]).path.endswith("/testimony")
    return codename, client.get("/testimony")


def open_testimony_form(client: FlaskClient) -> str:
    """The testimony form's HTML, reached through the codename step."""
    return start_witness(client)[1].get_data(as_text=True)


_CODENAME = re.compile(r'<p class="codename" id="codename">([^<]+)</p>')
_REFERENCE = re.compile(r'<strong id="reference">(S-[0-9A-Z]{16})</strong>')


def codename_of(html: str) -> str:
    match = _CODENAME.search(html)
    assert match, "no codename on the page"
    return match.group(1)


def reference_of(html: str) -> str:
    match = _REFERENCE.search(html)
    assert match, "no reference on the page"
    return match.group(1)


__all__ = [
    "Site",
    "add_investigator",
    "codename_of",
    "confirm_words",
    "form_action",
    "make_blueprint",
    "make_site",
    "minimal_testimony",
    "post_multipart",
    "query_of",
    "reference_of",
    "start_witness",
    "open_testimony_form",
]
