"""Switching language on a short form keeps what was typed (issue 18, item 3): the return
page, the codename's two words, the consent form. The language buttons post the form back
with `?redraw=1`; the page comes back in the new language with the same answers, and nothing
is acted on: nobody is logged in, nothing confirmed, no change sealed. A codename so kept
travels only in that POST's body and its response's field: never a URL, a cookie, a redirect.
"""

from __future__ import annotations

import html as markup
import re

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from intake.models import Submission as SubmissionRow
from tests.intake.web.conftest import Site, form_action, open_testimony_form
from tests.intake.web.witness_steps import login, testify

CODENAME = "тихий ранок над річкою біля старого млина"


def language_button(page: str, code: str) -> str:
    """The formaction of the language button for `code` (a button of the page's form)."""
    match = re.search(rf'<button [^>]*id="lang-{code}"[^>]*formaction="([^"]*)"', page)
    assert match, f"no language button for {code}"
    return markup.unescape(match.group(1))


def field_value(page: str, name: str) -> str | None:
    tag = re.search(rf'<input [^>]*name="{name}"[^>]*>', page)
    assert tag, f"no field {name}"
    value = re.search(r' value="([^"]*)"', tag.group(0))
    return None if value is None else markup.unescape(value.group(1))


def no_secret_outside_the_body(response: TestResponse, secret: str) -> None:
    for header, value in response.headers.items():
        assert secret not in value, header
        assert markup.escape(secret) not in value, header


def test_the_return_page_keeps_the_codename_typed_and_logs_nobody_in(client: FlaskClient) -> None:
    page = client.get("/return").get_data(as_text=True)
    assert 'id="enter-sends"' in page  # Enter in the box still sends the codename
    url = language_button(page, "uk")
    assert "redraw=1" in url
    assert "lang=uk" in url
    response = client.post(url, data={"codename": CODENAME})
    assert response.status_code == 200
    again = response.get_data(as_text=True)
    assert '<html lang="uk">' in again
    assert field_value(again, "codename") == CODENAME
    assert 'id="codename-unknown"' not in again  # not tried, so not refused
    no_secret_outside_the_body(response, CODENAME)
    assert "lang=uk" in form_action(again, "login-form")  # the language stays in the action
    assert client.get("/account").status_code == 302  # nobody logged in
    # A codename sent to log in is still never echoed back.
    refused = client.post(form_action(again, "login-form"), data={"codename": CODENAME})
    assert refused.status_code == 403
    assert CODENAME not in refused.get_data(as_text=True)


def test_the_codename_words_typed_back_are_kept_and_nothing_is_confirmed(
    client: FlaskClient,
) -> None:
    start = client.get("/start").get_data(as_text=True)
    page = client.post(form_action(start, "start-form"), follow_redirects=True)
    html = page.get_data(as_text=True)
    typed = {"word1": "ранок", "word2": "млин"}
    response = client.post(language_button(html, "ru"), data=typed)
    assert response.status_code == 200
    again = response.get_data(as_text=True)
    assert '<html lang="ru">' in again
    assert field_value(again, "word1") == "ранок"
    assert field_value(again, "word2") == "млин"
    assert 'class="error"' not in again  # not checked, so no "not the words asked for"
    no_secret_outside_the_body(response, "ранок")
    assert "lang=ru" in form_action(again, "confirm-form")
    assert client.get("/testimony").status_code == 303  # not confirmed
    # Words sent to confirm are still never echoed back.
    wrong = client.post(form_action(again, "confirm-form"), data=typed)
    assert wrong.status_code == 422
    assert 'value="ранок"' not in wrong.get_data(as_text=True)


def test_the_consent_form_keeps_the_choices_and_the_codename(
    site: Site, client: FlaskClient
) -> None:
    codename, reference = testify(client)
    browser = site.client()
    login(browser, codename)
    page = browser.get("/account/consent").get_data(as_text=True)
    assert 'id="enter-sends"' in page
    chosen = {
        "parent": reference,
        "recipients-scope": "more",
        "recipients": ["icc-otp"],
        "codename": codename,
    }
    response = browser.post(language_button(page, "uk"), data=chosen)
    assert response.status_code == 200
    again = response.get_data(as_text=True)
    assert '<html lang="uk">' in again
    assert field_value(again, "codename") == codename
    assert re.search(r'<input [^>]*id="recipients-more"[^>]*checked', again)
    assert re.search(r'<input [^>]*checked[^>]*value="icc-otp"|value="icc-otp"[^>]*checked', again)
    assert re.search(
        rf'<option [^>]*selected[^>]*value="{reference}"|value="{reference}" selected', again
    )
    assert 'id="withdraw"' in again
    assert not re.search(r'<input [^>]*id="withdraw"[^>]*checked', again)
    no_secret_outside_the_body(response, codename)
    assert "lang=uk" in form_action(again, "consent-form")
    with site.services.sessions() as session:
        kinds = session.scalars(select(SubmissionRow.kind)).all()
    assert "consent_change" not in kinds  # nothing sent
    # Sent from the redrawn page, it goes on to the summary as before.
    summary = browser.post(form_action(again, "consent-form"), data=chosen)
    assert summary.status_code == 200
    assert 'id="consent-confirm-form"' in summary.get_data(as_text=True)


def test_enter_still_does_nothing_on_a_form_with_files(client: FlaskClient) -> None:
    form = open_testimony_form(client)
    assert 'id="enter-does-nothing"' in form
    assert 'id="enter-sends"' not in form
    assert "keeps what you typed, but not the files" in form
    start = client.get("/start").get_data(as_text=True)  # nothing typed there: plain links
    assert 'id="enter-sends"' not in start
    assert 'href="/start?lang=uk"' in start
