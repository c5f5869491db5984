"""A witness's steps that several web tests take: testify, be replied to, log in again."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from crypto.age import seal_bytes
from crypto.x25519 import X25519Recipient
from intake.blobstore import new_blob_name
from intake.clock import utc_today
from intake.models import Reply, Witness
from intake.models import Submission as SubmissionRow
from intake.web.services.storage import write_blob
from tests.intake.web.conftest import (
    Site,
    codename_of,
    form_action,
    minimal_testimony,
    open_testimony_form,
    post_multipart,
    reference_of,
)

__all__ = ["login", "login_response", "reply", "testify"]


def testify(client: FlaskClient, **answers: Any) -> tuple[str, str]:
    """A minimal testimony (plus `answers`) sent from `client`: its codename and reference."""
    page = open_testimony_form(client)
    data = minimal_testimony(**answers)
    response = post_multipart(client, form_action(page, "testimony-form"), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    return codename_of(html), reference_of(html)


testify.__test__ = False  # type: ignore[attr-defined]  # a step, not a test (its name starts "test")


def reply(site: Site, reference: str, text: str, *, about: bool = True) -> str:
    """A reply imported for the witness of `reference` (naming it when `about`); its id."""
    with site.services.sessions() as session:
        row = session.get(SubmissionRow, reference)
        assert row is not None
        witness = session.get(Witness, row.witness_id)
        assert witness is not None
        name = new_blob_name()
        recipient = X25519Recipient.parse(witness.reply_recipient)
        write_blob(site.services.store, name, seal_bytes(text.encode(), [recipient]))
        row_reply = Reply(
            witness_id=witness.id,
            blob_name=name,
            created_on=utc_today(),
            signed_by=site.services.keyring.active_fingerprints()[0],
            submission_id=reference if about else None,
        )
        session.add(row_reply)
        session.commit()
        return row_reply.id


def login_response(client: FlaskClient, codename: str) -> TestResponse:
    """The return page's form sent with `codename`, whatever the answer."""
    page = client.get("/return").get_data(as_text=True)
    return client.post(form_action(page, "login-form"), data={"codename": codename})


def login(client: FlaskClient, codename: str) -> str:
    """A login that must succeed: the account page it opens."""
    response = login_response(client, codename)
    assert response.status_code == 200
    return response.get_data(as_text=True)
