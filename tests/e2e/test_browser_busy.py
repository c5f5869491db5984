"""A server with no room (issue 16 review): the script does not retry a 503 for ever.

At the start of an upload the server's own translated words are shown and nothing is sent; a
part answered 503 again and again ends in the plain form, whose page says what is wrong.
The 503s are made by routing the page's requests (filling the test machine's disk is not an
option); the server, the browser and the script are real.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import pytest

from tests.e2e.chromium import BROWSER_MARKS
from tests.e2e.conftest import LiveSite
from tests.e2e.test_browser_sealing import SEND_TIMEOUT_MS, _stored, _to_form

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = BROWSER_MARKS

_NO_ROOM = "No room here now, in the server's own words."


def test_a_start_refused_for_the_disk_shows_the_servers_words_and_sends_nothing(
    browser: Any, live_site: LiveSite
) -> None:
    context = browser.new_context(java_script_enabled=True)
    posts: list[str] = []
    try:
        page = context.new_page()
        page.route(
            re.compile(r".*/testimony/parts\?.*"),
            lambda route: route.fulfill(
                status=503,
                content_type="application/json",
                body=json.dumps({"error": "disk", "message": _NO_ROOM}),
            ),
        )
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        _to_form(page, live_site)
        posts.clear()
        page.check("#recipients-only")
        page.check("#consent")
        page.fill("#account", "The shelling began at noon.")
        content = secrets.token_bytes(50_000)
        page.set_input_files(
            "#group1-files", [{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": content}]
        )
        page.click("#send")
        page.locator("#seal-status", has_text=_NO_ROOM).wait_for(timeout=SEND_TIMEOUT_MS)
        assert page.locator("#testimony-form").count() == 1  # still the form, as typed
        assert page.input_value("#account") == "The shelling began at noon."
    finally:
        context.close()
    assert all("/testimony/parts" in url for url in posts)  # the form itself was not sent


def test_parts_answered_503_again_and_again_end_in_the_plain_form(
    browser: Any, live_site: LiveSite
) -> None:
    context = browser.new_context(java_script_enabled=True)
    busy: list[str] = []

    def full(route: Any) -> None:
        if route.request.method == "POST":
            busy.append(route.request.url)
            route.fulfill(status=503, content_type="text/html", body="busy")
        else:
            route.continue_()

    content, name = secrets.token_bytes(60_000), "b.jpg"
    try:
        page = context.new_page()
        page.route(re.compile(r".*/testimony/parts/[0-9a-f]{32}/\d+\?.*"), full)
        _to_form(page, live_site)
        page.check("#recipients-only")
        page.check("#consent")
        page.fill("#account", "The bridge was blown up at night.")
        page.set_input_files(
            "#group1-files", [{"name": name, "mimeType": "image/jpeg", "buffer": content}]
        )
        page.click("#send")
        page.wait_for_selector("#reference", timeout=SEND_TIMEOUT_MS)
        reference = page.locator("#reference").inner_text().strip()
    finally:
        context.close()
    assert len(busy) == 6  # six 503s in a row, then the plain form
    _stored(live_site, reference, name, content, by="server")
