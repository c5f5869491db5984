"""What a real gunicorn serves to anyone: hostile 404 paths and the stylesheet's headers.

The raw request line reaches gunicorn unnormalised (`//attacker.onion/`, `/%5Cattacker.onion/`),
which the test client cannot send, so these run against `intake serve` on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import re

import pytest

from intake.web.i18n import LANGUAGES
from tests.e2e.conftest import LiveSite

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

HOSTILE_PATHS = ["/%5Cattacker.onion/", "//attacker.onion/", "/%5C%5Cattacker.onion/x"]


def fetch(site: LiveSite, path: str) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def test_hostile_paths_and_the_stylesheet(live_site: LiveSite) -> None:
    for path in HOSTILE_PATHS:
        status, _headers, body = fetch(live_site, path)
        html = body.decode()
        assert status == 404, path
        links = dict(re.findall(r'id="lang-(\w+)"[^>]*?href="([^"]*)"', html, flags=re.S))
        assert links == {code: f"/?lang={code}" for code in LANGUAGES}, path
        assert "attacker.onion" not in html
    status, headers, body = fetch(live_site, "/static/style.css")
    assert status == 200
    assert body
    assert headers["ETag"] is None
    assert headers["Last-Modified"] is None
