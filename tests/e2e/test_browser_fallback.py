"""Issue 16's fallbacks in Chromium with JavaScript on: when the page cannot seal, the plain
form goes, the server seals the file, and the testimony arrives.

- A non-secure origin: Chromium maps a test name to 127.0.0.1 (`--host-resolver-rules`), so
  `http://intake.test:PORT` is not a secure context and has no `crypto.subtle`, as a plain-HTTP
  site outside Tor Browser; the script sees it and leaves the form alone.
- A worker error: the page's declared key is made unusable before sending, so the age library
  throws inside the sealing worker; the script sends nothing itself and submits the form.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.chromium import BROWSER_MARKS, chromium
from tests.e2e.conftest import LiveSite
from tests.e2e.test_browser_sealing import _send, _stored

pytest.importorskip("playwright.sync_api")

TEST_HOST = "intake.test"

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium([f"--host-resolver-rules=MAP {TEST_HOST} 127.0.0.1"]) as launched:
        yield launched


def _plain_form_delivered(site: LiveSite, page: Any, prepare: Any = None) -> list[bytes]:
    content, name = secrets.token_bytes(150_000), "gate.jpg"
    if prepare is not None:
        page.on("domcontentloaded", prepare)
    reference, bodies = _send(page, site, name, content)
    blob = _stored(site, reference, name, content, by="server")
    assert site.blob_sha256(blob.name) == (hashlib.sha256(content).hexdigest(), len(content))
    return bodies


def test_a_non_secure_origin_falls_back_to_the_plain_form(
    browser: Any, live_site: LiveSite
) -> None:
    site = LiveSite(**{**live_site.__dict__, "base_url": f"http://{TEST_HOST}:{live_site.port}"})
    context = browser.new_context(java_script_enabled=True)
    try:
        page = context.new_page()
        page.goto(site.base_url + "/")
        assert page.evaluate("() => [window.isSecureContext, typeof crypto.subtle]") == [
            False,
            "undefined",
        ]
        bodies = _plain_form_delivered(site, page)
    finally:
        context.close()
    (body,) = bodies  # no parts: the script saw it could not seal and did nothing
    assert b'name="group1-files"' in body


def test_a_worker_error_falls_back_to_the_plain_form(browser: Any, live_site: LiveSite) -> None:
    context = browser.new_context(java_script_enabled=True)

    def spoil_the_key(page: Any) -> None:
        if page.locator("#testimony-form").count():
            page.evaluate(
                "() => { document.getElementById('testimony-form')"
                ".dataset.sealRecipients = JSON.stringify(['age1notakey']); }"
            )

    try:
        page = context.new_page()
        bodies = _plain_form_delivered(live_site, page, spoil_the_key)
    finally:
        context.close()
    # The worker threw before any part was sent: the one POST is the plain form with the file.
    (body,) = bodies
    assert b'name="group1-files"' in body
