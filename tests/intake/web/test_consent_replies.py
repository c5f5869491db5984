"""Issue 18 item 4: a consent change is confirmed on a summary page, a withdrawn testimony says
so on the account, replies name the submission they answer, and the witness answers a reply."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from intake.models import Submission as SubmissionRow
from protocol.schema import Submission
from tests.intake.web.conftest import (
    Site,
    form_action,
    post_multipart,
)
from tests.intake.web.witness_steps import login, reply, testify

_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def _rows(site: Site, kind: str) -> list[SubmissionRow]:
    with site.services.sessions() as session:
        found = session.scalars(select(SubmissionRow).where(SubmissionRow.kind == kind))
        return list(found.all())


def _answer(
    site: Site, browser: FlaskClient, form: str, data: dict[str, str]
) -> tuple[SubmissionRow, Submission]:
    """The follow-up form sent answering `data`'s reply: the one follow-up stored (row, manifest),
    checked to answer that reply and to name the same testimony in both."""
    response = post_multipart(browser, form_action(form, "follow-up-form"), data)
    assert response.status_code == 200, response.get_data(as_text=True)
    (row,) = _rows(site, "follow_up")
    doc = Submission.from_json(site.open_blob(row.manifest_blob))
    assert doc.in_reply_to == data["in_reply_to"]
    assert doc.parent_id == row.parent_id
    return row, doc


def _summary(browser: FlaskClient, codename: str, **data: Any) -> tuple[str, str]:
    """The consent form sent with the codename: the summary page and its form's action."""
    page = browser.get("/account/consent").get_data(as_text=True)
    response = browser.post(form_action(page, "consent-form"), data={"codename": codename, **data})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    return html, form_action(html, "consent-confirm-form")


def _hidden(html: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for name, value in _HIDDEN.findall(html):
        fields.setdefault(name, []).append(value)
    return fields


def test_a_withdrawal_is_summarised_then_confirmed_and_the_account_says_withdrawn(
    site: Site, client: FlaskClient
) -> None:
    codename, reference = testify(client)
    browser = site.client()
    login(browser, codename)
    html, action = _summary(browser, codename, parent=reference, withdraw="y")
    assert "You are about to withdraw your consent for your testimony" in html
    assert reference in html
    # The codename was just typed: the summary says what the sealed record holds now.
    assert "Who may receive it now:" in html
    assert "Investigators" in html
    assert "<script" not in html
    assert _rows(site, "consent_change") == []  # nothing sealed before Confirm
    assert codename not in html  # the codename is not carried in the page
    hidden = _hidden(html)
    assert hidden == {"parent": [reference], "withdraw": ["y"]}
    back = browser.post(action, data={**hidden, "back": "yes"})
    back_html = back.get_data(as_text=True)
    assert back.status_code == 200
    assert 'id="consent-form"' in back_html
    assert re.search(
        r'<input[^>]*checked[^>]*name="withdraw"|name="withdraw"[^>]*checked', back_html
    )
    assert _rows(site, "consent_change") == []
    account = browser.get("/account").get_data(as_text=True)
    assert "Withdrawn" not in account
    # Back forgot the summary and spent the codename: a Confirm now (a stolen cookie, say)
    # asks for the codename again and commits nothing.
    again = browser.post(action, data={**hidden, "confirm": "yes"})
    assert again.status_code == 422
    assert _rows(site, "consent_change") == []
    summary = browser.post(action, data={**hidden, "codename": codename})
    assert summary.status_code == 200
    done = browser.post(action, data={**hidden, "confirm": "yes"})
    assert done.status_code == 200, done.get_data(as_text=True)
    (change,) = _rows(site, "consent_change")
    assert change.parent_id == reference
    doc = Submission.from_json(site.open_blob(change.manifest_blob))
    assert doc.consent_change is not None
    assert doc.consent_change.action == "withdraw"
    with site.services.sessions() as session:
        testimony = session.get(SubmissionRow, reference)
        assert testimony is not None
        assert testimony.withdrawn
    # Without the codename (a session alone), the account line says so.
    account = browser.get("/account").get_data(as_text=True)
    row = re.search(rf'<tr id="submission-{reference}">.*?</tr>', account, re.S)
    assert row is not None
    assert "Withdrawn" in row.group(0)


def test_a_narrowing_lists_who_may_receive_it_from_now_on(site: Site, client: FlaskClient) -> None:
    codename, reference = testify(client)
    browser = site.client()
    login(browser, codename)
    html, action = _summary(browser, codename, parent=reference, recipients=["investigators"])
    assert "You are about to change who may receive your testimony" in html
    assert "From now on, only:" in html
    about = html[html.index('id="about-to"') :]
    assert "International Criminal Court" not in about
    done = browser.post(action, data={**_hidden(html), "confirm": "yes"})
    assert done.status_code == 200
    assert len(_rows(site, "consent_change")) == 1
    assert "Withdrawn" not in browser.get("/account").get_data(as_text=True)


def test_the_summary_in_ukrainian_and_russian(site: Site, client: FlaskClient) -> None:
    codename, reference = testify(client)
    browser = site.client()
    login(browser, codename)
    expected = {"uk": "Підтвердити", "ru": "Подтвердить"}
    for lang, button in expected.items():
        page = browser.get(f"/account/consent?lang={lang}").get_data(as_text=True)
        data = {"codename": codename, "parent": reference, "withdraw": "y"}
        html = browser.post(form_action(page, "consent-form"), data=data).get_data(as_text=True)
        assert button in html, lang
        assert "You are about to" not in html


def test_a_reply_names_its_submission_and_can_be_answered(site: Site, client: FlaskClient) -> None:
    codename, reference = testify(client)
    reply_id = reply(site, reference, "Which street was it?")
    browser = site.client()
    account = login(browser, codename)
    assert f"About your submission {reference} of" in account
    assert f'href="/account/add?reply={reply_id}' in account.replace("&amp;", "&")
    form = browser.get(f"/account/add?reply={reply_id}").get_data(as_text=True)
    assert "You are answering the investigators' reply of" in form
    assert f'value="{reply_id}"' in form
    assert f'name="parent" value="{reference}"' in form  # the reply's testimony, not a choice
    data = {"parent": reference, "account": "It was Mira street.", "in_reply_to": reply_id}
    _row, doc = _answer(site, browser, form, data)
    assert doc.parent_id == reference
    assert doc.answers.text("B1") == "It was Mira street."


def test_only_a_reply_sent_to_this_witness_can_be_answered(site: Site, client: FlaskClient) -> None:
    codename, reference = testify(client)
    _other_codename, other_reference = testify(site.client())
    theirs = reply(site, other_reference, "Which street was it?")
    browser = site.client()
    login(browser, codename)
    assert browser.get(f"/account/add?reply={theirs}").status_code == 404
    assert browser.get("/account/add?reply=R-NOTAREPLY").status_code == 404
    form = browser.get("/account/add").get_data(as_text=True)
    data = {"parent": reference, "account": "More.", "in_reply_to": theirs}
    refused = post_multipart(browser, form_action(form, "follow-up-form"), data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "This form was answering a reply that was not sent to you." in html
    assert theirs not in html  # sent again, it answers nothing
    assert _rows(site, "follow_up") == []
    again = post_multipart(
        browser, form_action(html, "follow-up-form"), {**data, "in_reply_to": ""}
    )
    assert again.status_code == 200
    (row,) = _rows(site, "follow_up")
    assert Submission.from_json(site.open_blob(row.manifest_blob)).in_reply_to is None


def _second_testimony(site: Site, reference: str) -> str:
    """Another testimony, moved to the witness of `reference` (sites before codename-first let
    a witness file several); returns its reference."""
    _other_codename, other = testify(site.client())
    with site.services.sessions() as session:
        mine, theirs = session.get(SubmissionRow, reference), session.get(SubmissionRow, other)
        assert mine is not None
        assert theirs is not None
        theirs.witness_id = mine.witness_id
        session.commit()
    return other


def test_an_answer_adds_to_the_testimony_its_reply_is_about(
    site: Site, client: FlaskClient
) -> None:
    codename, reference = testify(client)
    other = _second_testimony(site, reference)
    reply_id = reply(site, reference, "Which street was it?")
    browser = site.client()
    login(browser, codename)
    form = browser.get(f"/account/add?reply={reply_id}").get_data(as_text=True)
    # Answering, the testimony is the reply's: named on the page, not offered as a choice.
    assert '<select id="parent"' not in form
    assert f'name="parent" value="{reference}"' in form
    assert f"about your submission {reference}" in form
    data = {"parent": other, "account": "It was Mira street.", "in_reply_to": reply_id}
    row, _doc = _answer(site, browser, form, data)
    assert row.parent_id == reference
    plain = browser.get("/account/add").get_data(as_text=True)  # not answering: the witness picks
    assert '<select id="parent"' in plain
