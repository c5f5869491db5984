"""A language button's redraw is known by its query's `redraw` key alone, whatever its value or
how often it comes (intake.web.pages.is_redraw): the front lets such a POST to /return and
/account/consent past the per-circuit codename budget (deploy/haproxy.cfg, acl `redraw`), so
no view may log in, confirm, issue or send on one. Review of issue 18 item 3: the views asked
`request.args.get("redraw")`, so `?redraw=` (empty) logged in while the front would skip it.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from intake.models import Submission as SubmissionRow
from intake.models import Witness as WitnessRow
from intake.web.pages import is_redraw
from tests.intake.web.conftest import Site, form_action, open_testimony_form, post_multipart
from tests.intake.web.conftest import minimal_testimony as required_answers
from tests.intake.web.witness_steps import login, testify

# Every spelling of the key, as a browser or a client could send it: the value empty, absent,
# "0", repeated, after another argument, or the key percent-encoded (werkzeug decodes it).
REDRAWS = [
    "redraw=1",
    "redraw=",
    "redraw",
    "redraw=0",
    "redraw=&redraw=1",
    "redraw=1&redraw=",
    "x=1&redraw",
    "x=1&redraw=&y=2",
    "%72edraw=1",
    "re%64raw=",
]
# Not the key: another name, or "redraw" inside a value or a longer name.
NOT_REDRAWS = ["", "x=1", "redraw%3D1", "redrawn=1", "x=redraw", "REDRAW=1", "re+draw=1"]


@pytest.mark.parametrize("query", REDRAWS)
def test_the_key_alone_makes_a_redraw(query: str) -> None:
    with Flask(__name__).test_request_context(f"/return?{query}", method="POST"):
        assert is_redraw()


@pytest.mark.parametrize("query", NOT_REDRAWS)
def test_no_other_query_is_a_redraw(query: str) -> None:
    with Flask(__name__).test_request_context(f"/return?{query}", method="POST"):
        assert not is_redraw()


def _with(action: str, query: str) -> str:
    """The form's action (with its CSRF token) and `query` appended."""
    return f"{action}&{query}"


@pytest.mark.parametrize("query", REDRAWS)
def test_the_right_codename_with_any_redraw_key_logs_nobody_in(
    site: Site, client: FlaskClient, query: str
) -> None:
    codename, _ = testify(client)
    browser = site.client()
    page = browser.get("/return").get_data(as_text=True)
    response = browser.post(
        _with(form_action(page, "login-form"), query), data={"codename": codename}
    )
    assert response.status_code == 200
    assert 'id="login-form"' in response.get_data(as_text=True)
    assert browser.get("/account").status_code == 302  # nobody logged in


@pytest.mark.parametrize("query", ["redraw=", "x=1&redraw", "redraw=0&redraw=1"])
def test_no_consent_change_is_summarised_or_sent_with_a_redraw_key(
    site: Site, client: FlaskClient, query: str
) -> None:
    codename, reference = testify(client)
    browser = site.client()
    login(browser, codename)
    page = browser.get("/account/consent").get_data(as_text=True)
    chosen = {"parent": reference, "withdraw": "y", "codename": codename, "confirm": "yes"}
    response = browser.post(_with(form_action(page, "consent-form"), query), data=chosen)
    assert response.status_code == 200
    assert 'id="consent-form"' in response.get_data(as_text=True)  # the form, no summary
    with site.services.sessions() as session:
        kinds = session.scalars(select(SubmissionRow.kind)).all()
    assert "consent_change" not in kinds


@pytest.mark.parametrize("query", ["redraw=", "redraw=0"])
def test_the_codename_words_are_not_checked_with_a_redraw_key(
    client: FlaskClient, query: str
) -> None:
    start = client.get("/start").get_data(as_text=True)
    html = client.post(form_action(start, "start-form"), follow_redirects=True).get_data(
        as_text=True
    )
    response = client.post(_with(form_action(html, "confirm-form"), query), data={})
    assert response.status_code == 200  # not a 422 for the empty words: nothing was checked
    assert client.get("/testimony").status_code == 303  # not confirmed


@pytest.mark.parametrize("query", ["redraw=1", "redraw="])
def test_start_issues_no_codename_with_a_redraw_key(
    site: Site, client: FlaskClient, query: str
) -> None:
    """/start has no language buttons that post, but it is a codename path: a redraw there
    shows the start page again and derives nothing, so even a front that skipped every
    redraw on a codename path would give no derivation away."""
    start = client.get("/start").get_data(as_text=True)
    response = client.post(_with(form_action(start, "start-form"), query))
    assert response.status_code == 200
    assert 'id="start-form"' in response.get_data(as_text=True)
    with site.services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(WitnessRow)) == 0


def test_a_testimony_is_not_sent_with_an_empty_redraw_key(site: Site, client: FlaskClient) -> None:
    form = open_testimony_form(client)
    action = _with(form_action(form, "testimony-form"), "redraw=")
    response = post_multipart(client, action, required_answers())
    assert response.status_code == 200
    with site.services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SubmissionRow)) == 0
