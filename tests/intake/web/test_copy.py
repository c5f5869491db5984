"""What the witness reads (issue W items 3, 5, 6): copy fixes, landing page, language in URLs."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from flask.testing import FlaskClient

from tests.intake.web.conftest import (
    Site,
    form_action,
    minimal_testimony,
    open_testimony_form,
    post_multipart,
    start_witness,
)

OLD_NAME = ("кодове ім'я", "кодового імені", "кодовим ім'ям", "кодовое имя", "кодового имени")


def _text(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return html_lib.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("lang", "wanted"),
    [
        ("en", "Every question except your description of what happened can be skipped."),
        ("uk", "Дати свідчення"),
        ("uk", "У мене вже є кодова фраза"),
        ("ru", "Дать показания"),
        ("ru", "У меня уже есть кодовая фраза"),
    ],
)
def test_the_landing_page_reads_as_the_notes_ask(
    client: FlaskClient, lang: str, wanted: str
) -> None:
    assert wanted in _text(client, f"/?lang={lang}")


@pytest.mark.parametrize("lang", ["uk", "ru"])
@pytest.mark.parametrize("path", ["/", "/start", "/return"])
def test_no_page_calls_the_codename_words_a_name(client: FlaskClient, lang: str, path: str) -> None:
    page = _text(client, f"{path}?lang={lang}").lower()
    assert not [old for old in OLD_NAME if old in page]


def test_the_return_page_asks_for_the_codephrase(client: FlaskClient) -> None:
    assert "Ваша кодова фраза" in _text(client, "/return?lang=uk")
    assert "Ваша кодовая фраза" in _text(client, "/return?lang=ru")


def test_the_error_summary_names_whole_questions_without_doubled_punctuation(
    client: FlaskClient,
) -> None:
    action = form_action(open_testimony_form(client), "testimony-form")
    data = minimal_testimony(recipients=[], victims_min="3", victims_max="-1")
    page = html_lib.unescape(post_multipart(client, action, data).get_data(as_text=True))
    summary = page[
        page.index('id="error-summary"') : page.index("</ul>", page.index('id="error-summary"'))
    ]
    assert "Who may receive your information: " in summary
    assert "?:" not in summary
    assert "Number of victims, at most: " in summary


LANDING_FACTS = {
    # who runs it, until when data stays, how to check the address, Safest needs a restart
    "en": ("independent team of investigators", "confirmed that it arrived intact",
           "compare every character", "applies only after the restart"),
    "uk": ("незалежна команда слідчих", "не підтвердять, що воно надійшло",
           "порівняйте кожен символ", "лише після перезапуску"),
    "ru": ("независимая команда следователей", "не подтвердят, что оно дошло",
           "сравните каждый символ", "только после перезапуска"),
}  # fmt: skip


@pytest.mark.parametrize("lang", sorted(LANDING_FACTS))
def test_the_landing_page_says_who_how_long_which_address_and_restart(
    client: FlaskClient, lang: str
) -> None:
    page = _text(client, f"/?lang={lang}")
    for anchor in ('id="who-runs"', 'id="retention"', 'id="check-address"', 'id="safest-restart"'):
        assert anchor in page
    for wanted in LANDING_FACTS[lang]:
        assert wanted in page


def _fresh(site: Site) -> FlaskClient:
    """A browser that kept nothing: as after Clear-Site-Data, or a session long expired."""
    return site.client()


def _links(page: str) -> list[str]:
    hrefs = re.findall(r'(?:href|action)="(/[^"]*)"', page)
    return [h.replace("&amp;", "&") for h in hrefs if not h.startswith("/static/")]


def test_after_logout_the_language_is_in_the_links(site: Site, client: FlaskClient) -> None:
    client.get("/?lang=uk")
    start_witness(client)
    found = re.search(r'action="([^"]+)" id="logout-form"', _text(client, "/account"))
    assert found, "no logout form on the account page"
    logout = found.group(1)
    assert "lang=uk" in logout
    logged_out = client.post(logout)
    assert "Clear-Site-Data" in logged_out.headers
    page = logged_out.get_data(as_text=True)
    assert '<html lang="uk">' in page
    (back,) = _links(page[page.index("<main") :])  # "Back to the start page"
    assert back == "/?lang=uk"
    assert '<html lang="uk">' in _text(_fresh(site), back)


def test_an_expired_form_answers_in_the_witness_language(site: Site, client: FlaskClient) -> None:
    client.get("/?lang=ru")
    action = form_action(open_testimony_form(client), "testimony-form")
    assert "lang=ru" in action
    expired = post_multipart(_fresh(site), action, minimal_testimony())
    assert expired.status_code == 400
    assert '<html lang="ru">' in expired.get_data(as_text=True)


def test_every_link_of_a_page_keeps_the_language(client: FlaskClient) -> None:
    page = _text(client, "/?lang=uk")
    others = [link for link in _links(page) if "lang=uk" not in link]
    assert sorted(others) == ["/?lang=en", "/?lang=ru"]  # the language picker's own
    assert len(_links(page)) > len(others)


def test_the_404_page_keeps_the_language_of_the_link_that_led_there(site: Site) -> None:
    response = _fresh(site).get("/no-such-page?lang=uk")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert '<html lang="uk">' in page
    assert all("lang=" in link for link in _links(page))
