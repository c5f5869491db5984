"""A returning witness: login, replies opened on that one page, follow-up, consent, logout."""

from __future__ import annotations

import base64
import io
import itertools
import re
import time
import zlib

import pytest
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from sqlalchemy import select

from intake.models import Submission as SubmissionRow
from intake.models import SubmissionState, Witness
from protocol.schema import Submission
from tests.intake.web.conftest import (
    Site,
    form_action,
    post_multipart,
    reference_of,
    start_witness,
)
from tests.intake.web.witness_steps import login_response, reply, testify

REPLY_TEXT = "Thank you. Could you tell us which street this was? — слідчий"


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    payload = cookie.value.split(".")[0]
    compressed = payload.startswith(".")
    raw = base64.urlsafe_b64decode(payload.lstrip(".") + "=" * (-len(payload) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode("utf-8", "replace")


def test_login_opens_replies_on_that_page_only(site: Site, client: FlaskClient) -> None:
    codename, reference = testify(client)
    reply(site, reference, REPLY_TEXT, about=False)
    calls = site.deriver.calls
    messy = "  " + codename.upper().replace(" ", " -  ") + " "
    response = login_response(site.client(), messy)  # a new browser, case and spacing changed
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert REPLY_TEXT in html
    assert reference in html
    assert site.deriver.calls == calls + 1


def test_account_page_later_shows_no_replies_and_the_cookie_holds_no_secret(
    site: Site, client: FlaskClient
) -> None:
    codename, reference = testify(client)
    reply(site, reference, REPLY_TEXT, about=False)
    browser = site.client()
    assert login_response(browser, codename).status_code == 200
    later = browser.get("/account")
    html = later.get_data(as_text=True)
    assert later.status_code == 200
    assert reference in html
    assert REPLY_TEXT not in html
    assert "You have 1 reply." in html
    cookie = _session_cookie(browser)
    with site.services.sessions() as session:
        witness_id = session.scalars(select(Witness.id)).one()
    assert '"sid"' in cookie
    assert witness_id not in cookie
    for word in codename.split():
        assert word not in cookie


def _without_tokens(html: str) -> str:
    """The page with its form tokens masked: the CSRF token carries the time it was made."""
    masked, count = re.subn(r"\b(csrf|once|draft)=[^\"&]+", r"\1=TOKEN", html)
    assert count  # the mask hides a token, not nothing
    return masked


def test_wrong_codenames_all_get_the_same_page(
    site: Site, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    testify(client)
    calls = site.deriver.calls
    browser = site.client()
    # Every token is signed a second later than the one before: the two pages straddle a
    # second on every run, as they sometimes did on a slow machine.
    seconds = itertools.count(int(time.time()))
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: next(seconds))
    first = login_response(browser, "apple banana cherry delta echo foxtrot golf")
    second = login_response(browser, "zebra yak xylophone walrus violin umbrella tulip")
    assert first.status_code == second.status_code == 403
    assert first.get_data() != second.get_data()  # the tokens differ ...
    assert _without_tokens(first.get_data(as_text=True)) == _without_tokens(
        second.get_data(as_text=True)
    )  # ... and nothing else does
    assert "We do not know this codename" in first.get_data(as_text=True)
    assert site.deriver.calls == calls + 2
    assert browser.get("/account").status_code == 302


def test_follow_up_links_to_the_same_witness(site: Site, client: FlaskClient) -> None:
    codename, reference = testify(client)
    browser = site.client()
    assert login_response(browser, codename).status_code == 200
    calls = site.deriver.calls
    page = browser.get("/account/add").get_data(as_text=True)
    data = {
        "parent": reference,
        "account": "I remembered the unit's patch: a wolf.",
        "group1-files": [(io.BytesIO(b"more evidence" * 100), "later.jpg", "image/jpeg")],
        "group1-shows": "The patch",
    }
    response = post_multipart(browser, form_action(page, "follow-up-form"), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert 'id="codename"' not in html
    added = reference_of(html)
    assert site.deriver.calls == calls  # no second derivation for a follow-up
    with site.services.sessions() as session:
        first = session.get(SubmissionRow, reference)
        second = session.get(SubmissionRow, added)
        assert first is not None
        assert second is not None
        assert second.witness_id == first.witness_id
        assert second.parent_id == reference
        assert second.kind == "follow_up"
        doc = Submission.from_json(site.open_blob(second.manifest_blob))
    assert doc.answers.values["B1"] == data["account"]
    assert site.open_blob(doc.files[0].blob_name) == b"more evidence" * 100
    account = browser.get("/account").get_data(as_text=True)
    assert added in account
    assert reference in account


def test_consent_change_is_sealed_like_a_follow_up(site: Site, client: FlaskClient) -> None:
    codename, reference = testify(client)
    browser = site.client()
    login_response(browser, codename)
    page = browser.get("/account/consent").get_data(as_text=True)
    action = form_action(page, "consent-form")
    narrowed = browser.post(
        action,
        data={
            "parent": reference,
            "recipients": ["investigators"],
            "codename": codename,
            "confirm": "yes",  # the summary page's button (tests of that page: below)
        },
    )
    assert narrowed.status_code == 200, narrowed.get_data(as_text=True)
    with site.services.sessions() as session:
        rows = session.scalars(
            select(SubmissionRow).where(SubmissionRow.kind == "consent_change")
        ).all()
        assert len(rows) == 1
        assert rows[0].parent_id == reference
        doc = Submission.from_json(site.open_blob(rows[0].manifest_blob))
    assert doc.consent_change is not None
    assert doc.consent_change.action == "narrow"
    assert doc.consent_change.recipients == ("investigators",)
    page = browser.get("/account/consent").get_data(as_text=True)
    # Each committed change asks for the codename again (the row forgets the confirmation).
    withdrawn = browser.post(
        form_action(page, "consent-form"),
        data={"parent": reference, "withdraw": "y", "codename": codename, "confirm": "yes"},
    )
    assert withdrawn.status_code == 200
    empty = browser.get("/account/consent").get_data(as_text=True)
    refused = browser.post(form_action(empty, "consent-form"), data={"parent": reference})
    assert refused.status_code == 422


def test_purged_submissions_show_as_delivered(site: Site, client: FlaskClient) -> None:
    codename, reference = testify(client)
    with site.services.sessions() as session:
        row = session.get(SubmissionRow, reference)
        assert row is not None
        row.state = SubmissionState.PURGED
        session.commit()
    browser = site.client()
    html = login_response(browser, codename).get_data(as_text=True)
    assert "Delivered to investigators" in html


def test_logout_clears_the_session_and_the_site_data(site: Site, client: FlaskClient) -> None:
    codename, _reference = testify(client)
    browser = site.client()
    login_response(browser, codename)
    response = browser.post("/logout")
    assert response.status_code == 200
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert "New Identity" in response.get_data(as_text=True)
    assert browser.get("/account").status_code == 302


def test_account_pages_need_alogin_response(client: FlaskClient) -> None:
    for path in ("/account", "/account/add", "/account/consent"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/return")


def test_a_logged_in_follow_up_is_never_a_decoy(site: Site, client: FlaskClient) -> None:
    # The codename already proved a person; a browser that autofills a hidden "website" field
    # must not turn their follow-up into a fake receipt with nothing kept.
    codename, reference = testify(client)
    browser = site.client()
    assert login_response(browser, codename).status_code == 200
    page = browser.get("/account/add").get_data(as_text=True)
    data = {
        "parent": reference,
        "account": "The convoy came back the next day.",
        "group1-files": [(io.BytesIO(b"photo" * 100), "next-day.jpg", "image/jpeg")],
        "website": "https://autofilled.example",
    }
    response = post_multipart(browser, form_action(page, "follow-up-form"), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    with site.services.sessions() as session:
        row = session.get(SubmissionRow, reference_of(html))
        assert row is not None
        assert row.kind == "follow_up"
        doc = Submission.from_json(site.open_blob(row.manifest_blob))
    assert doc.answers.values["B1"] == data["account"]
    assert site.open_blob(doc.files[0].blob_name) == b"photo" * 100


def test_a_witness_who_has_not_sent_yet_is_shown_the_way_to_the_form(
    site: Site, client: FlaskClient
) -> None:
    codename, _page = start_witness(client)
    back = site.client()  # after "New Identity", with the codename only
    html = login_response(back, codename).get_data(as_text=True)
    assert 'id="not-sent-yet"' in html
    assert re.search(r'<a id="continue-link" href="/testimony">', html)
    assert back.get("/testimony").status_code == 200
    sent, _reference = testify(site.client())  # once a testimony is sent, nothing to continue
    assert 'id="continue-link"' not in login_response(site.client(), sent).get_data(as_text=True)
