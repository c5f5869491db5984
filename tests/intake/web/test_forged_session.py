"""Red-team H1: a copy of the data directory (secret key + database) must not open an account."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy import select

from intake.datadir import read_secret_key
from intake.models import Submission, WitnessSession
from intake.web.sessions import TOKEN_KEY
from tests.intake.web.conftest import (
    Site,
    codename_of,
    form_action,
    minimal_testimony,
    open_testimony_form,
    post_multipart,
)


def _testify(client: FlaskClient) -> str:
    page = open_testimony_form(client)
    response = post_multipart(client, form_action(page, "testimony-form"), minimal_testimony())
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _forge(site: Site, payload: dict[str, Any]) -> str:
    """A cookie signed the way Flask signs one, from nothing but the data directory's files."""
    forger = Flask("forger")
    forger.secret_key = read_secret_key(site.config.secret_key_file)
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    return serializer.dumps(payload)


def _disk_copy(site: Site) -> tuple[str, str]:
    """What the attacker reads from the copied database: a witness id and a submission."""
    with site.services.sessions() as session:
        row = session.scalars(select(Submission)).one()
        return row.witness_id, row.id


def test_a_cookie_forged_from_a_disk_copy_opens_nothing(site: Site, client: FlaskClient) -> None:
    _testify(client)
    witness_id, reference = _disk_copy(site)
    for payload in ({"witness": witness_id}, {"witness": witness_id, "lang": "en"}):
        attacker = site.client()
        attacker.set_cookie("session", _forge(site, payload))
        for path in ("/account", "/account/add", "/account/consent"):
            response = attacker.get(path)
            assert response.status_code == 302, path
            assert response.headers["Location"].endswith("/return")
            assert reference not in response.get_data(as_text=True)


def test_the_stored_hash_is_not_a_session_either(site: Site, client: FlaskClient) -> None:
    html = _testify(client)
    codename = codename_of(html)
    client.post("/logout")  # the session the codename step opened; only the login's is left
    browser = site.client()
    page = browser.get("/return").get_data(as_text=True)
    login = browser.post(form_action(page, "login-form"), data={"codename": codename})
    assert login.status_code == 200
    with site.services.sessions() as session:
        stored = session.scalars(select(WitnessSession.token_hash)).one()
    witness_id, _reference = _disk_copy(site)
    for token in (stored.hex(), stored.decode("latin-1"), witness_id):
        attacker = site.client()
        attacker.set_cookie("session", _forge(site, {TOKEN_KEY: token, "witness": witness_id}))
        assert attacker.get("/account").status_code == 302
