"""Witness sessions through the site: lifetimes, logout, cookie policy, consent confirmation."""

from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, update

from intake.clock import minute_bucket
from intake.models import Submission, WitnessSession
from tests.intake.web.conftest import (
    Site,
    form_action,
    post_multipart,
    query_of,
    reference_of,
)
from tests.intake.web.witness_steps import login, login_response, testify


def _logged_in(site: Site) -> tuple[FlaskClient, str, str]:
    first = site.client()
    codename, reference = testify(first)
    first.post("/logout")  # the session the codename step opened; only the login's is left
    browser = site.client()
    login(browser, codename)
    return browser, codename, reference


def _set(site: Site, **values: Any) -> None:
    with site.services.sessions() as session:
        session.execute(update(WitnessSession).values(**values))
        session.commit()


def _consent_changes(site: Site) -> int:
    with site.services.sessions() as session:
        rows = session.scalars(select(Submission).where(Submission.kind == "consent_change"))
        return len(rows.all())


def test_the_cookie_keeps_its_policy(site: Site) -> None:
    codename, _reference = testify(site.client())
    response = login_response(site.client(), codename)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain HTTP inside the onion service


def test_logout_deletes_the_row_so_a_copied_cookie_opens_nothing(site: Site) -> None:
    browser, _codename, _reference = _logged_in(site)
    copied = browser.get_cookie("session")
    assert copied is not None
    assert browser.post("/logout").status_code == 200
    with site.services.sessions() as session:
        assert session.scalars(select(WitnessSession)).all() == []
    thief = site.client()
    thief.set_cookie("session", copied.value)
    assert thief.get("/account").status_code == 302


def test_an_idle_session_sends_the_witness_back_to_the_codename(site: Site) -> None:
    browser, _codename, _reference = _logged_in(site)
    assert browser.get("/account").status_code == 200
    _set(site, idle_until=minute_bucket())  # 30 minutes went by
    response = browser.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/return")


def test_a_follow_up_form_is_received_after_the_account_session_ended(site: Site) -> None:
    browser, _codename, reference = _logged_in(site)
    page = browser.get("/account/add").get_data(as_text=True)
    _set(site, idle_until=minute_bucket() - 120)  # two hours of writing
    data = {
        "parent": reference,
        "account": "The convoy came back at night.",
        "group1-files": [(io.BytesIO(b"photo" * 1000), "night.jpg", "image/jpeg")],
        "group1-shows": "The convoy",
    }
    response = post_multipart(browser, form_action(page, "follow-up-form"), data)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert reference_of(response.get_data(as_text=True)) != reference
    assert browser.get("/account").status_code == 302  # the form admitted its POST, no more


def _follow_ups(site: Site) -> int:
    with site.services.sessions() as session:
        rows = session.scalars(select(Submission).where(Submission.kind == "follow_up"))
        return len(rows.all())


def _form_until(site: Site) -> int | None:
    with site.services.sessions() as session:
        return session.scalars(select(WitnessSession.form_until)).one()


def test_a_held_session_admits_only_the_rendered_form_with_its_own_token(site: Site) -> None:
    # Review T1 finding 1: a copied cookie must not post any form with made-up tokens.
    browser, _codename, reference = _logged_in(site)
    page = browser.get("/account/consent").get_data(as_text=True)
    consent = query_of(form_action(page, "consent-form"))
    _set(site, idle_until=minute_bucket() - 1)
    csrf = query_of(form_action(browser.get("/return").get_data(as_text=True), "login-form"))
    follow_up = {"parent": reference, "account": "Not the witness."}
    for once in ("made-up-1", "made-up-2", consent["once"]):  # the consent form's token too
        url = f"/account/add?once={once}&csrf={csrf['csrf']}"
        response = post_multipart(browser, url, follow_up)
        assert response.status_code == 400, once
        assert "This form has expired" in response.get_data(as_text=True)
    made_up = f"/account/consent?once=made-up-3&csrf={csrf['csrf']}"
    refused = browser.post(made_up, data={"parent": reference, "withdraw": "y"})
    assert refused.status_code == 400
    assert reference not in refused.get_data(as_text=True)
    assert _follow_ups(site) == 0
    assert browser.get("/account").status_code == 302


def test_a_post_only_the_hold_admitted_renews_nothing(site: Site) -> None:
    browser, _codename, reference = _logged_in(site)
    page = browser.get("/account/consent").get_data(as_text=True)
    action = form_action(page, "consent-form")
    now = minute_bucket()
    _set(site, idle_until=now - 1, form_until=now + 60)
    for _ in range(2):
        again = browser.post(action, data={})  # an empty POST, to keep the cookie alive
        assert again.status_code == 422
        # Only the same form again, with the same token: nothing the poster had not seen.
        assert (
            query_of(form_action(again.get_data(as_text=True), "consent-form"))["once"]
            == (query_of(action)["once"])
        )
        assert _form_until(site) == now + 60
    assert browser.get("/account").status_code == 302


def test_a_held_form_is_received_once(site: Site) -> None:
    browser, _codename, reference = _logged_in(site)
    page = browser.get("/account/add").get_data(as_text=True)
    _set(site, idle_until=minute_bucket() - 1)
    action = form_action(page, "follow-up-form")
    data = {"parent": reference, "account": "The convoy came back at night."}
    assert post_multipart(browser, action, data).status_code == 200
    again = post_multipart(browser, action, data)
    assert again.status_code in {400, 409}
    assert _follow_ups(site) == 1
    assert _form_until(site) is None  # the hold ended with the form's POST


def test_a_form_past_its_lifetime_is_refused(site: Site) -> None:
    browser, codename, reference = _logged_in(site)
    page = browser.get("/account/consent").get_data(as_text=True)
    now = minute_bucket()
    _set(site, idle_until=now - 1, form_until=now)
    data = {"parent": reference, "withdraw": "y", "codename": codename}
    response = browser.post(form_action(page, "consent-form"), data=data)
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert _consent_changes(site) == 0


def test_a_consent_change_asks_for_the_codename(site: Site) -> None:
    browser, codename, reference = _logged_in(site)
    calls = site.deriver.calls
    page = browser.get("/account/consent").get_data(as_text=True)
    assert 'name="codename"' in page
    assert "<script" not in page
    action = form_action(page, "consent-form")
    data = {"parent": reference, "withdraw": "y"}
    blank = browser.post(action, data=data)
    assert blank.status_code == 422
    assert "Please type your codename to confirm this change." in blank.get_data(as_text=True)
    assert site.deriver.calls == calls  # nothing derived for an empty field
    wrong = browser.post(action, data={**data, "codename": "one two three four five six seven"})
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 403
    assert "This is not the codename you were given." in html
    assert "one two three" not in html  # never echoed back
    assert site.deriver.calls == calls + 1
    assert _consent_changes(site) == 0
    right = browser.post(action, data={**data, "codename": codename, "confirm": "yes"})
    assert right.status_code == 200, right.get_data(as_text=True)
    assert _consent_changes(site) == 1


def test_the_confirmation_is_forgotten_once_the_change_commits(site: Site) -> None:
    # Review T1 finding 4: the row must not keep which testimony changed consent, and when.
    browser, codename, reference = _logged_in(site)
    narrow = {"parent": reference, "recipients": ["investigators"], "confirm": "yes"}
    page = browser.get("/account/consent").get_data(as_text=True)
    first = browser.post(form_action(page, "consent-form"), data={**narrow, "codename": codename})
    assert first.status_code == 200
    with site.services.sessions() as session:
        row = session.scalars(select(WitnessSession)).one()
        assert (row.confirmed_parent, row.confirmed_until) == (None, None)
    page = browser.get("/account/consent").get_data(as_text=True)
    again = browser.post(form_action(page, "consent-form"), data=narrow)
    assert again.status_code == 422  # the next change asks for the codename again
    assert _consent_changes(site) == 1


def test_the_confirmation_is_asked_in_the_witness_language(site: Site) -> None:
    browser, _codename, reference = _logged_in(site)
    asked = (
        ("uk", "Введіть, будь ласка, свою кодову фразу, щоб підтвердити цю зміну."),
        ("ru", "Пожалуйста, введите свою кодовую фразу, чтобы подтвердить это изменение."),
    )
    for code, message in asked:
        page = browser.get(f"/account/consent?lang={code}").get_data(as_text=True)
        assert 'name="codename"' in page
        data = {"parent": reference, "withdraw": "y"}
        refused = browser.post(form_action(page, "consent-form"), data=data)
        assert refused.status_code == 422
        assert message.replace("'", "&#39;") in refused.get_data(as_text=True)
