"""Red-team H1: a copy of the data directory (secret key + database) must not open an account."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy import select

from intake.datadir import read_secret_key
from intake.models import Submission
from tests.intake.web.conftest import Site, form_action, minimal_testimony, post_multipart


def _testify(client: FlaskClient) -> str:
    page = client.get("/testimony").get_data(as_text=True)
    response = post_multipart(client, form_action(page, "testimony-form"), minimal_testimony())
    assert response.status_code == 200
    with_ref = response.get_data(as_text=True)
    assert "S-" in with_ref
    return with_ref


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
