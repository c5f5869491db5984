"""Language links are built from the matched route, never from the raw request path.

A path such as `/%5Cattacker.onion/` reaches the 404 page as `/\\attacker.onion/`; echoed
into `href`, browsers read the backslash as a slash and the link leaves for another host.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from intake.web.i18n import LANGUAGES

HOSTILE_PATHS = [
    "/%5Cattacker.onion/",
    "/%5C%5Cattacker.onion/",
    "/%2F%2Fattacker.onion/",
    "/%09/attacker.onion/",
    "/%22%3E%3Cb%3Ex",
]
# `//attacker.onion/` itself is sent raw through gunicorn in tests/e2e/test_gunicorn_pages.py:
# the test client would read it as a host.


def language_links(html: str) -> dict[str, str]:
    """`lang code -> href` of the language picker."""
    return dict(re.findall(r'id="lang-(\w+)"[^>]*?href="([^"]*)"', html, flags=re.S))


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_a_hostile_404_path_never_reaches_the_language_links(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert language_links(html) == {code: f"/?lang={code}" for code in LANGUAGES}
    assert "attacker.onion" not in html


@pytest.mark.parametrize(("path", "base"), [("/", "/"), ("/start", "/start")])
def test_language_links_stay_on_the_route(client: FlaskClient, path: str, base: str) -> None:
    links = language_links(client.get(path).get_data(as_text=True))
    assert links == {code: f"{base}?lang={code}" for code in LANGUAGES}


def test_the_return_page_links_only_its_own_language(client: FlaskClient) -> None:
    """The others are buttons of its form, which keep the codename typed
    (tests/intake/web/test_language_keeps_typing.py)."""
    links = language_links(client.get("/return").get_data(as_text=True))
    assert links == {"en": "/return?lang=en"}


def test_a_post_only_action_links_to_the_landing_page(client: FlaskClient) -> None:
    response = client.post("/logout")
    assert response.status_code == 200
    links = language_links(response.get_data(as_text=True))
    assert links == {code: f"/?lang={code}" for code in LANGUAGES}
    assert client.get(links["uk"]).status_code == 200
