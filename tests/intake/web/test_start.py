"""Codename first (issue 14, items 1, 2 and 5): the codename step, the form's order, a commit
without a derivation, the receipt again on reload from the session's sealed note, the sweep."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from intake.clock import hour_bucket, utc_now
from intake.maintenance import sweep
from intake.models import DraftBlob, Submission, Witness, WitnessSession
from intake.web.services.start import PENDING_HOURS, words_match
from tests.intake.web.conftest import (
    Site,
    codename_of,
    confirm_words,
    form_action,
    minimal_testimony,
    post_multipart,
    reference_of,
    start_witness,
)


def _witnesses(site: Site) -> list[Witness]:
    with site.services.sessions() as session:
        return list(session.scalars(select(Witness)))


def _issue(client: FlaskClient) -> str:
    start = client.get("/start").get_data(as_text=True)
    issued = client.post(form_action(start, "start-form"), follow_redirects=True)
    assert issued.status_code == 200
    return issued.get_data(as_text=True)


def test_the_form_is_reached_only_through_the_codename(site: Site, client: FlaskClient) -> None:
    first = client.get("/testimony")
    assert first.status_code == 303
    assert first.headers["Location"].endswith("/start")
    start = client.get("/start").get_data(as_text=True)
    assert 'id="network-warning"' in start
    assert "4.8 GB" in start  # the 4.5 GiB request limit, stated before any upload
    assert _witnesses(site) == []
    html = _issue(client)
    assert site.deriver.calls == 1  # derived once, inside the KDF slots
    [witness] = _witnesses(site)
    assert witness.pending_until is not None
    assert witness.pending_until >= hour_bucket() + PENDING_HOURS - 1
    # Not yet confirmed: the form is still out of reach.
    assert client.get("/testimony").headers["Location"].endswith("/start")
    assert 'id="codename"' in html


def test_a_filled_trap_gets_a_decoy_codename_and_creates_nothing(
    site: Site, client: FlaskClient
) -> None:
    # Bots fill every field; a person never sees this one. Nothing has been typed yet, so the
    # decoy costs a person whose browser filled it nothing but asking again.
    start = client.get("/start").get_data(as_text=True)
    assert 'name="website"' in start
    assert 'class="trap" aria-hidden="true"' in start
    decoy = client.post(form_action(start, "start-form"), data={"website": "http://spam.example"})
    html = decoy.get_data(as_text=True)
    assert decoy.status_code == 200
    assert len(codename_of(html).split()) == 9  # English: 9 words of 2048
    assert 'id="confirm-form"' in html
    assert site.deriver.calls == 0
    assert _witnesses(site) == []
    with site.services.sessions() as session:
        assert session.scalars(select(WitnessSession)).all() == []
    confirmed = client.post(form_action(html, "confirm-form"), data=confirm_words(html))
    assert confirmed.status_code == 400
    assert client.get("/testimony").headers["Location"].endswith("/start")


def test_wrong_words_send_the_confirmation_back(site: Site, client: FlaskClient) -> None:
    html = _issue(client)
    codename = codename_of(html)
    response = client.post(
        form_action(html, "confirm-form"), data={"word1": "wrong", "word2": "words"}
    )
    assert response.status_code == 422
    again = response.get_data(as_text=True)
    assert codename_of(again) == codename  # shown again from the sealed note
    assert "not the words asked for" in again
    assert 'value="wrong"' not in again
    assert client.get("/testimony").status_code == 303
    right = client.post(form_action(html, "confirm-form"), data=confirm_words(html))
    assert right.status_code == 303
    assert client.get("/testimony").status_code == 200


def test_words_match_ignores_case_and_spacing() -> None:
    codename = "alpha bravo charlie delta echo foxtrot golf"
    assert words_match(codename, [2, 7], [" Bravo", "GOLF "])
    assert not words_match(codename, [2, 7], ["golf", "bravo"])
    assert not words_match(codename, [2, 9], ["bravo", "golf"])


def test_a_busy_derivation_creates_nothing(site: Site, client: FlaskClient) -> None:
    site.deriver.wait_seconds = 0.01
    held = [site.deriver.slots.acquire(blocking=False) for _ in range(64)]
    try:
        start = client.get("/start").get_data(as_text=True)
        response = client.post(form_action(start, "start-form"))
    finally:
        for taken in held:
            if taken:
                site.deriver.slots.release()
    assert response.status_code == 503
    assert _witnesses(site) == []


def test_every_answer_comes_before_any_file_input(client: FlaskClient) -> None:
    html = start_witness(client)[1].get_data(as_text=True)
    form = html[html.index('<form id="testimony-form"') :]
    controls = re.findall(r"<(input|textarea|select)\b([^>]*)>", form)
    kinds = ["file" if 'type="file"' in attrs else "answer" for _tag, attrs in controls]
    assert kinds.count("file") == 3
    first_file = kinds.index("file")
    assert "answer" not in kinds[first_file:]
    assert html.index('id="network-warning"') < html.index('type="file"')
    assert html.index('id="upload-limits"') < html.index('type="file"')


def test_the_commit_derives_nothing_and_the_receipt_survives_a_reload(
    site: Site, client: FlaskClient
) -> None:
    codename, page = start_witness(client)
    action = form_action(page.get_data(as_text=True), "testimony-form")
    data = minimal_testimony()
    data["group1-files"] = [(io.BytesIO(b"frame" * 1000), "clip.mp4", "video/mp4")]
    posted = post_multipart(client, action, data, follow=False)
    assert posted.status_code == 303
    assert posted.headers["Location"].endswith("/receipt")
    assert site.deriver.calls == 1  # only the codename step
    first = client.get("/receipt").get_data(as_text=True)
    again = client.get("/receipt")
    assert again.status_code == 200
    html = again.get_data(as_text=True)
    assert codename_of(html) == codename == codename_of(first)
    assert "clip.mp4" in html
    reference = reference_of(html)
    [witness] = _witnesses(site)
    assert witness.pending_until is None
    with site.services.sessions() as session:
        assert session.get(Submission, reference) is not None
        notes = list(session.scalars(select(WitnessSession.sealed_note)))
    for note in notes:
        assert note is not None
        assert codename.split()[0].encode() not in note
        assert b"clip.mp4" not in note
        assert reference.encode() not in note
    # The copy of the receipt lives an hour, and the session's cookie key opens it alone.
    stranger = site.client()
    assert stranger.get("/receipt").status_code == 404
    with site.services.sessions() as session:
        session.execute(update(WitnessSession).values(note_until=0))
        session.commit()
    assert client.get("/receipt").status_code == 404


def test_logout_ends_the_receipt(site: Site, client: FlaskClient) -> None:
    _codename, page = start_witness(client)
    action = form_action(page.get_data(as_text=True), "testimony-form")
    assert post_multipart(client, action, minimal_testimony()).status_code == 200
    client.post("/logout")
    assert client.get("/receipt").status_code == 404


def test_a_pending_witness_who_logs_in_reaches_the_form(site: Site, client: FlaskClient) -> None:
    html = _issue(client)
    codename = codename_of(html)
    browser = site.client()  # after "New Identity"
    login = browser.get("/return").get_data(as_text=True)
    assert (
        browser.post(form_action(login, "login-form"), data={"codename": codename}).status_code
        == 200
    )
    assert browser.get("/testimony").status_code == 200


def test_the_sweep_removes_witnesses_that_never_testified(site: Site, client: FlaskClient) -> None:
    _issue(client)  # never confirmed, never testified
    start_witness(site.client())  # confirmed, never testified
    later = utc_now() + timedelta(hours=PENDING_HOURS + 1)
    assert len(_witnesses(site)) == 2
    report = sweep(site.services.sessions, site.services.store, now=later)
    assert report.witnesses_expired == 2
    assert _witnesses(site) == []
    with site.services.sessions() as session:
        assert list(session.scalars(select(WitnessSession))) == []


def test_the_sweep_keeps_a_witness_who_testified(site: Site, client: FlaskClient) -> None:
    _codename, page = start_witness(client)
    action = form_action(page.get_data(as_text=True), "testimony-form")
    assert post_multipart(client, action, minimal_testimony()).status_code == 200
    later = utc_now() + timedelta(hours=PENDING_HOURS + 1)
    report = sweep(site.services.sessions, site.services.store, now=later)
    assert report.witnesses_expired == 0
    assert len(_witnesses(site)) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("coordinates", "95, 200"),
        ("coordinates", "-91.5, 10"),
        ("account", "I saw\x00 soldiers"),
        ("place", "near the\x00 bridge"),
        ("group1-shows", "the yard\x00"),
    ],
)
def test_input_only_the_schema_refuses_is_a_field_error_and_keeps_the_file(
    site: Site, client: FlaskClient, field: str, value: str
) -> None:
    _codename, page = start_witness(client)
    action = form_action(page.get_data(as_text=True), "testimony-form")
    data = minimal_testimony(**{field: value})
    data["group1-files"] = [(io.BytesIO(b"frame" * 1000), "clip.mp4", "video/mp4")]
    response = post_multipart(client, action, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[-3000:]
    assert 'id="error-summary"' in html
    assert 'id="testimony-form"' in html
    message = "not on Earth" if field == "coordinates" else "invisible control character"
    assert html.count(message) >= 1
    assert re.search(rf'class="error" id="{re.escape(field)}-error">[^<]*{message}', html)
    assert "clip.mp4" in html  # kept in the draft, listed above the form
    with site.services.sessions() as session:
        assert list(session.scalars(select(Submission))) == []
        assert len(list(session.scalars(select(DraftBlob)))) == 1


def test_a_nul_in_a_follow_up_is_a_field_error_and_keeps_the_file(
    site: Site, client: FlaskClient
) -> None:
    _codename, page = start_witness(client)
    action = form_action(page.get_data(as_text=True), "testimony-form")
    reference = reference_of(post_multipart(client, action, minimal_testimony()).get_data(True))
    add = client.get("/account/add").get_data(as_text=True)
    data = {
        "parent": reference,
        "account": "More\x00 words",
        "group1-files": [(io.BytesIO(b"more evidence" * 100), "later.jpg", "image/jpeg")],
    }
    response = post_multipart(client, form_action(add, "follow-up-form"), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[-2000:]
    assert "invisible control character" in html
    assert "later.jpg" in html
    with site.services.sessions() as session:
        assert len(list(session.scalars(select(DraftBlob)))) == 1


@pytest.mark.parametrize(
    ("lang", "warning", "limit"),
    [
        ("en", "a network that is not tied to you", "4.8 GB"),
        ("uk", "скористайтеся мережею, не пов'язаною з вами", "4,8 ГБ"),
        ("ru", "воспользуйтесь сетью, не связанной с вами", "4,8 ГБ"),
    ],
)
def test_the_network_warning_and_the_limits_come_in_three_languages(
    client: FlaskClient, lang: str, warning: str, limit: str
) -> None:
    start = client.get(f"/start?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in start
    assert warning in start.replace("&#39;", "'")
    assert limit in start
    form = start_witness(client)[1].get_data(as_text=True)
    assert warning in form.replace("&#39;", "'")


def test_the_sweep_waits_for_a_pending_witness_still_writing(
    site: Site, client: FlaskClient
) -> None:
    """Review finding: a witness issued a codename 47 h ago who starts a 3 h upload lost it to
    the sweep ("This form has expired… Nothing was stored") and their codename with it."""
    start_witness(client)  # the form is open: its POST is admitted for 25 hours
    with site.services.sessions() as session:
        session.execute(update(Witness).values(pending_until=hour_bucket() - 1))
        session.commit()
    assert sweep(site.services.sessions, site.services.store).witnesses_expired == 0
    assert len(_witnesses(site)) == 1
    # Once the session is over too (the form's window, then the idle limit), it goes.
    later = utc_now() + timedelta(hours=26)
    assert sweep(site.services.sessions, site.services.store, now=later).witnesses_expired == 1


def test_a_reload_of_the_codename_page_shows_the_same_codename(
    site: Site, client: FlaskClient
) -> None:
    """Review finding: POST /start answered 200 directly; a reload (Resend) got "expired" and
    the codename was lost for good. Now it redirects to a page that shows it again."""
    start = client.get("/start").get_data(as_text=True)
    issued = client.post(form_action(start, "start-form"))
    assert issued.status_code == 303
    assert issued.headers["Location"].endswith("/start/codename")
    first = client.get("/start/codename").get_data(as_text=True)
    again = client.get("/start/codename").get_data(as_text=True)
    assert codename_of(first) == codename_of(again)
    assert site.client().get("/start/codename").status_code == 400  # another browser: nothing
