"""Every page: headers, the leave link first, the language picker, no script, nothing external."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from intake.security_headers import HEADERS
from intake.web import forms
from intake.web.choices import LABELS
from protocol import codes
from tests.intake.web.conftest import (
    Site,
    codename_of,
    form_action,
    minimal_testimony,
    open_testimony_form,
    post_multipart,
)

PAGES = ["/", "/start", "/return"]


def _assert_page(html: str) -> None:
    assert html.index('id="leave-site"') < html.index("<main")
    for code in ("en", "uk", "ru"):
        assert f'id="lang-{code}"' in html
    assert "<script" not in html.lower()
    assert " on" + "click=" not in html.lower()
    for url in re.findall(r'(?:src|href|action)="([^"]+)"', html):
        assert (
            not url.startswith(("http://", "https://", "//")) or url == "https://www.wikipedia.org/"
        )
    assert 'rel="stylesheet" href="/static/style.css"' in html


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_the_common_frame_and_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    _assert_page(response.get_data(as_text=True))
    for name, value in HEADERS.items():
        assert response.headers[name] == value


def test_stylesheet_is_served_from_self(client: FlaskClient) -> None:
    with client.get("/static/style.css") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/css"
        css = response.get_data(as_text=True)
    assert "@import" not in css
    assert "url(" not in css


def test_receipt_and_error_pages_have_the_frame(site: Site, client: FlaskClient) -> None:
    action = form_action(open_testimony_form(client), "testimony-form")
    receipt = post_multipart(client, action, minimal_testimony())
    html = receipt.get_data(as_text=True)
    _assert_page(html)
    assert 'target="_blank"' in html  # language links keep the one-time receipt open
    assert codename_of(html)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    _assert_page(missing.get_data(as_text=True))


def test_language_link_switches_and_sticks(client: FlaskClient) -> None:
    page = client.get("/?lang=uk").get_data(as_text=True)
    assert '<html lang="uk">' in page
    assert "Покинути цей сайт" in page
    assert '<html lang="uk">' in open_testimony_form(client)
    russian = client.get("/testimony?lang=ru").get_data(as_text=True)
    assert '<html lang="ru">' in russian
    assert "Покинуть этот сайт" in russian
    assert '<html lang="ru">' in client.get("/?lang=xx").get_data(as_text=True)  # unknown: kept
    assert '<html lang="en">' in client.get("/?lang=en").get_data(as_text=True)


def test_accept_language_is_ignored(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "uk-UA,uk;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page


def test_every_optional_question_offers_dont_know(client: FlaskClient) -> None:
    html = open_testimony_form(client)
    selects = re.findall(r"<select[^>]*>(.*?)</select>", html, flags=re.S)
    assert selects
    for options in selects:
        assert re.match(r'\s*<option selected value="">Don(\'|&#39;)t know / prefer not', options)


def test_every_protocol_code_has_a_label_and_no_more() -> None:
    for list_name, labels in LABELS.items():
        assert set(labels) == set(codes.codes(list_name)), list_name


def test_form_field_ids_are_stable() -> None:
    names = {field.name for field in forms.TestimonyForm()}
    assert {"consent", "recipients", "account", "group1", "group2", "group3"} <= names
    assert "website" not in names  # the bot trap is on the codename step (forms.StartForm)
    assert {field.name for field in forms.StartForm()} == {"website"}


def test_csrf_and_session_outlive_a_slow_tor_upload(site: Site) -> None:
    assert site.app.config["WTF_CSRF_TIME_LIMIT"] >= 25 * 3600
    assert site.app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() >= 24 * 3600
    assert site.app.config["MAX_CONTENT_LENGTH"] == site.config.limits.max_request_bytes
