"""A witness's visit in Chromium with JavaScript off, through Tor, as Tor Browser on "Safest".

Debian's Chromium goes through the tor client's SOCKS port to the onion (tor → HAProxy →
gunicorn as deployed): landing → codename → testimony with files in two groups → receipt →
return with the codename → the investigators' reply read. Chromium resolves nothing itself
(every name maps to "not found" except the proxy's 127.0.0.1), so the onion name can only
reach tor, and every request the pages make must stay on the onion's origin.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.chromium import BROWSER_MARKS, chromium
from tests.e2e.test_browser import (
    DESKTOP,
    TEXT,
    Visit,
    assert_stored_exactly,
    log_in,
    send_reply,
    send_testimony,
)
from tests.tornet.stack import Stack

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = BROWSER_MARKS


@pytest.fixture
def tor_browser(tornet: Stack) -> Iterator[Any]:
    """Chromium whose only way out is the tor client's SOCKS port."""
    args = [
        f"--proxy-server=socks5://127.0.0.1:{tornet.network.socks_port}",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ]
    with chromium(args) as launched:
        yield launched


def test_a_witness_visit_through_tor_without_javascript(
    tor_browser: Any, tornet: Stack, tmp_path: Path
) -> None:
    # The same installation, seen at its onion address (pages are checked as the browser sees them).
    site = dataclasses.replace(tornet.site, base_url=f"http://{tornet.network.onion}")
    context = tor_browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    (tmp_path / "screenshots").mkdir()
    visit = Visit(site, context, "en", tmp_path / "screenshots")
    words = TEXT["en"]
    try:
        page = context.new_page()
        codename, reference, groups = send_testimony(visit, page, words)
        send_reply(site, tmp_path, codename, reference, words.reply)
        log_in(visit, page, codename, reference, words.reply)
    finally:
        context.close()

    assert visit.requests, "no request was recorded"
    assert [url for url in visit.requests if not url.startswith(site.base_url + "/")] == []
    assert_stored_exactly(site, reference, groups)
    assert "[ERROR]" not in site.log.read_text()
