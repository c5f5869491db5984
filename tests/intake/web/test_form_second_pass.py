"""Issue 18, items 2 and 3: the form's folded optional parts, its date in three parts, the
recipients' two choices, errors tied to their fields, and language buttons that keep what was
typed. (The same points in a real browser at 320 px: tests/e2e/test_witness_pages.py.)"""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from intake.models import Blob, Submission
from intake.web.receiving import URLENCODED_MAX
from tests.intake.web.conftest import (
    Site,
    form_action,
    minimal_testimony,
    post_multipart,
    start_witness,
)


def _form(client: FlaskClient) -> tuple[str, str]:
    """The testimony form's HTML and its action URL."""
    page = start_witness(client)[1].get_data(as_text=True)
    return page, form_action(page, "testimony-form")


def _testimony(**extra: Any) -> dict[str, Any]:
    """The least a browser sends now: the "investigators and those ticked" choice, one ticked."""
    data = minimal_testimony(recipients=["icc-otp"])
    data["recipients-scope"] = "more"
    data.update(extra)
    return data


def _details(page: str, part: str) -> str:
    match = re.search(rf'<details class="optional" id="{part}"[^>]*>', page)
    assert match, part
    return match.group(0)


def _count(site: Site, model: Any) -> int:
    with site.services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_optional_parts_are_folded_and_the_required_marked(client: FlaskClient) -> None:
    page, _action = _form(client)
    for part in ("part-source", "part-when", "part-where", "part-victims", "part-who"):
        assert " open" not in _details(page, part)
    for part in ("part-others", "group1-questions", "part-about-you"):
        assert " open" not in _details(page, part)
    # Typed answers still come before the files, and the files last.
    assert page.index('id="part-who"') < page.index('id="group1-questions"')
    assert page.index('id="part-about-you"') < page.index('name="group1-files"')
    assert page.count('<span class="required">(required)</span>') == 3
    assert 'type="date"' not in page


def test_investigators_only_is_a_choice_of_its_own(client: FlaskClient) -> None:
    page, _action = _form(client)
    assert 'type="radio" id="recipients-only" name="recipients-scope" value="only"' in page
    assert 'type="radio" id="recipients-more" name="recipients-scope" value="more"' in page
    assert 'name="recipients" type="checkbox" value="investigators"' not in page
    assert 'name="recipients" type="checkbox" value="icc-otp"' in page


def test_only_the_investigators(client: FlaskClient, site: Site) -> None:
    _page, action = _form(client)
    data = _testimony(**{"recipients-scope": "only", "recipients": []})
    assert post_multipart(client, action, data).status_code == 200
    assert _count(site, Submission) == 1


def test_only_and_others_ticked_is_asked_again(client: FlaskClient, site: Site) -> None:
    _page, action = _form(client)
    answer = post_multipart(client, action, _testimony(**{"recipients-scope": "only"}))
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert 'id="recipients-error"' in page
    assert re.search(r'<fieldset id="recipients"[^>]*aria-describedby="[^"]*recipients-error', page)
    assert 'id="recipients-only" name="recipients-scope" value="only" checked' in page
    assert _count(site, Submission) == 0


def test_a_date_cannot_be_read_the_wrong_way_round(client: FlaskClient) -> None:
    client.get("/?lang=uk")
    page, _action = _form(client)
    month = re.search(r'<select id="event_date-month"[^>]*>(.*?)</select>', page, flags=re.S)
    assert month
    assert "березень" in month.group(1)  # the month by its name, in the page's language
    for part in ("day", "month", "year"):
        assert f'<label for="event_date-{part}">' in page


def test_a_date_that_does_not_exist_opens_its_part(client: FlaskClient, site: Site) -> None:
    _page, action = _form(client)
    date = {"event_date-day": "31", "event_date-month": "2", "event_date-year": "2022"}
    data = _testimony(**date)
    answer = post_multipart(client, action, data)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert " open" in _details(page, "part-when")
    assert " open" not in _details(page, "part-where")
    assert '<span class="error" id="event_date-error">This date does not exist.' in page
    assert re.search(r'<fieldset id="event_date"[^>]*aria-describedby="event_date-error"', page)
    assert 'href="#event_date"' in page  # the error summary leads to it
    assert 'name="event_date-day" value="31"' in page  # nothing typed is lost
    assert '<option selected value="2">February</option>' in page
    assert _count(site, Submission) == 0


@pytest.mark.parametrize(
    ("day", "month", "year"),
    [
        ("4", "3", "22"),
        ("4", "3", "0022"),
        ("4", "3", "１９９９"),
        ("1_0", "3", "2022"),
        ("4", "3", "1899"),
    ],
)
def test_a_year_not_in_four_digits_or_a_slip_is_asked_again(
    client: FlaskClient, site: Site, day: str, month: str, year: str
) -> None:
    """A phone user types "22" for 2022: the form asks for four digits rather than storing 22."""
    _page, action = _form(client)
    date = {"event_date-day": day, "event_date-month": month, "event_date-year": year}
    answer = post_multipart(client, action, _testimony(**date))
    assert answer.status_code == 422
    page = html_lib.unescape(answer.get_data(as_text=True))
    assert (
        "Write the year with four digits, for example 2022." in page
        or "This date does not exist." in page
    )
    assert f'name="event_date-year" value="{year}"' in page  # what was typed comes back
    assert _count(site, Submission) == 0


def test_month_and_year_alone_need_month_precision(client: FlaskClient, site: Site) -> None:
    _page, action = _form(client)
    parts = {"event_date-month": "3", "event_date-year": "2022"}
    answer = post_multipart(client, action, _testimony(**parts))
    assert answer.status_code == 422
    assert "Only the month is right" in html_lib.unescape(answer.get_data(as_text=True))
    page = answer.get_data(as_text=True)
    again = form_action(page, "testimony-form")
    ok = post_multipart(client, again, _testimony(**parts, date_precision="month"))
    assert ok.status_code == 200
    assert _count(site, Submission) == 1


def test_switching_language_keeps_what_was_typed(client: FlaskClient, site: Site) -> None:
    page, action = _form(client)
    button = re.search(r'<button type="submit" class="language" id="lang-uk"[^>]*>', page)
    assert button, "the language is a button of the form"
    tag = html_lib.unescape(button.group(0))
    assert 'form="testimony-form"' in tag
    assert 'formenctype="application/x-www-form-urlencoded"' in tag
    assert "formnovalidate" in tag
    formaction = re.search(r'formaction="([^"]+)"', tag)
    assert formaction
    url = formaction.group(1)
    assert "lang=uk" in url
    assert "redraw=1" in url
    typed = {
        "account": "Солдати забрали сусіда.",
        "event_date-day": "4",
        "event_date-month": "3",
        "event_date-year": "2022",
        "group1-files": "photo.jpg",  # what a browser sends for a file input, url-encoded
    }
    answer = client.post(url, data=typed, content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200
    shown = answer.get_data(as_text=True)
    assert '<html lang="uk">' in shown
    assert "Солдати забрали сусіда." in shown
    assert 'name="event_date-day" value="4"' in shown
    assert 'selected value="3">березень' in shown
    assert " open" in _details(shown, "part-when")  # a part holding an answer is shown open
    assert " open" not in _details(shown, "part-where")
    assert _count(site, Submission) == 0
    assert _count(site, Blob) == 0
    # The form's one-time token was not spent: the testimony still goes.
    again = form_action(shown, "testimony-form")
    assert post_multipart(client, again, _testimony()).status_code == 200
    assert _count(site, Submission) == 1


def test_a_multipart_redraw_reads_no_body(client: FlaskClient, site: Site) -> None:
    _page, action = _form(client)
    data = _testimony(account="not to be shown", **{"group1-files": []})
    answer = post_multipart(client, action + "&redraw=1&lang=ru", data)
    assert answer.status_code == 200
    shown = answer.get_data(as_text=True)
    assert '<html lang="ru">' in shown
    assert "not to be shown" not in shown
    assert _count(site, Submission) == 0
    assert _count(site, Blob) == 0


def test_an_oversized_url_encoded_redraw_is_not_read(client: FlaskClient, site: Site) -> None:
    """Werkzeug reads a url-encoded body whole into memory: over URLENCODED_MAX it is refused
    before a byte is read, and the form comes back from the draft instead."""
    page, _action = _form(client)
    tag = re.search(r'<button type="submit" class="language" id="lang-uk"[^>]*>', page)
    assert tag
    found = re.search(r'formaction="([^"]+)"', html_lib.unescape(tag.group(0)))
    assert found
    body = "account=" + "x" * (URLENCODED_MAX + 1)
    answer = client.post(
        found.group(1), data=body, content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200
    assert "xxxxxxxxxx" not in answer.get_data(as_text=True)
    assert _count(site, Submission) == 0


def test_a_codename_word_of_spaces_gets_a_message(client: FlaskClient) -> None:
    start = client.get("/start").get_data(as_text=True)
    page = client.post(form_action(start, "start-form"), follow_redirects=True)
    html = page.get_data(as_text=True)
    answer = client.post(form_action(html, "confirm-form"), data={"word1": "   ", "word2": " "})
    assert answer.status_code == 422
    shown = answer.get_data(as_text=True)
    for field in ("word1", "word2"):
        assert f'<span class="error" id="{field}-error">Please type this word' in shown
        assert re.search(rf'aria-describedby="{field}-error"[^>]*id="{field}"', shown)


def test_a_login_of_spaces_gets_a_message(client: FlaskClient) -> None:
    page = client.get("/return").get_data(as_text=True)
    answer = client.post(form_action(page, "login-form"), data={"codename": "    "})
    assert answer.status_code == 422
    shown = answer.get_data(as_text=True)
    assert '<span class="error" id="codename-error">Please type your codename.</span>' in shown
    assert re.search(r'aria-describedby="codename-error"[^>]*id="codename"', shown)


def test_the_leave_button_is_in_the_banner(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    banner = page[page.index('<header class="topbar">') : page.index("</header>")]
    assert 'id="leave-site"' in banner


def test_switching_language_on_the_follow_up_keeps_what_was_typed(
    site: Site, client: FlaskClient
) -> None:
    page, action = _form(client)
    receipt = post_multipart(client, action, _testimony()).get_data(as_text=True)
    codename = re.search(r'<p class="codename" id="codename">([a-z ]+)</p>', receipt)
    assert codename
    browser = site.client()
    login = browser.get("/return").get_data(as_text=True)
    browser.post(form_action(login, "login-form"), data={"codename": codename.group(1)})
    form = browser.get("/account/add").get_data(as_text=True)
    button = re.search(r'id="lang-ru"[^>]*formaction="([^"]+)"', form)
    assert button, "the language is a button of the follow-up form"
    typed = {"account": "Ещё одна деталь: нашивка с волком.", "group1-shows": "нашивка"}
    answer = browser.post(html_lib.unescape(button.group(1)), data=typed)
    assert answer.status_code == 200
    shown = answer.get_data(as_text=True)
    assert '<html lang="ru">' in shown
    assert "Ещё одна деталь: нашивка с волком." in shown
    assert "нашивка</textarea>" in shown
    assert _count(site, Submission) == 1
