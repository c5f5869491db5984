"""A page older than the keyring (issue 16 review): the script sealed to a key the server no
longer holds active, so the start of the upload is refused (409 "keys") and the plain form goes
instead, sealed by the server to the keys active now. Nothing reaches the draft sealed to the
page's old key.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from crypto.x25519 import X25519Identity
from tests.e2e.chromium import BROWSER_MARKS
from tests.e2e.conftest import LiveSite
from tests.e2e.test_browser_sealing import _send, _stored

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = BROWSER_MARKS

_RECIPIENT = re.compile(r"age1[0-9a-z]{58}")


def test_a_page_sealing_to_a_key_no_longer_active_falls_back_to_the_plain_form(
    browser: Any, live_site: LiveSite
) -> None:
    withdrawn = str(X25519Identity.generate().recipient())
    starts: list[tuple[int, str]] = []

    def old_page(route: Any) -> None:
        # The form as a page loaded before a key was revoked and another added would show it.
        response = route.fetch()
        html = response.text()
        if "data-seal-recipients" in html:
            html = _RECIPIENT.sub(withdrawn, html)
        route.fulfill(response=response, body=html)

    def start(route: Any) -> None:
        response = route.fetch()
        starts.append((response.status, response.text()))
        route.fulfill(response=response)

    context = browser.new_context(java_script_enabled=True)
    try:
        page = context.new_page()
        page.route(re.compile(r".*/(testimony|start/confirm|start)(\?.*)?$"), old_page)
        page.route(re.compile(r".*/testimony/parts\?.*"), start)
        content, name = b"\x89PNG" + bytes(range(256)) * 400, "gate.jpg"
        reference, bodies = _send(page, live_site, name, content)
    finally:
        context.close()
    assert starts, "the script did not try to send the file in parts"
    assert all(status == 409 and '"keys"' in text for status, text in starts)
    assert b'name="group1-files"' in bodies[-1]  # the plain form carried the file
    blob = _stored(live_site, reference, name, content, by="server")
    assert blob.read_bytes().startswith(b"age-encryption.org/v1\n")
