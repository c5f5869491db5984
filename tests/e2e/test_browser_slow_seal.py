"""Issue 16, item 5: the page measures its first part and offers the plain form when sealing is
the slower end.

Chromium with `--js-flags=--jitless` (V8 without its JIT, as near as Chromium gets to Tor
Browser at "Safer") sealing straight to the loopback: sealing the first part takes far longer
than sending it, so the offer appears, translated, in a 320 px wide window, and its button sends
the files the plain way (sealed by the server; the receipt's hash is then the server's). With
the JIT on and the relay of the resume test throttling the upload to a Tor-like rate, sealing
keeps ahead and no offer is made.
"""

from __future__ import annotations

import gettext
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.chromium import BROWSER_MARKS, CHROMIUM, CHROMIUM_ARGS
from tests.e2e.conftest import LiveSite
from tests.e2e.test_browser_resume import Relay
from tests.e2e.test_browser_rules import open_form, required

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = BROWSER_MARKS

TRANSLATIONS = Path(__file__).resolve().parents[2] / "intake" / "web" / "translations"
OFFER = (
    "Sealing the files on this device is slower than your connection. You can send them the "
    "usual way instead: it is often faster, and the server seals them as they arrive. Or keep "
    "waiting here: either way your files are sealed before they are stored."
)
BUTTON = "Send the usual way"
SIZE = 16 * 1024 * 1024  # four parts: the first is measured, the rest leave time to choose


def _t(lang: str, text: str) -> str:
    catalogue = gettext.translation("messages", TRANSLATIONS, languages=[lang], fallback=True)
    return catalogue.gettext(text)


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    """One Playwright for both browsers: a second sync_playwright cannot start beside it."""
    with playwright_api.sync_playwright() as started:
        yield started


def _launch(driver: Any, extra: list[str]) -> Any:
    args = [*CHROMIUM_ARGS, *extra]
    return driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)


@pytest.fixture(scope="module")
def jitless(driver: Any) -> Iterator[Any]:
    launched = _launch(driver, ["--js-flags=--jitless"])
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def jit(driver: Any) -> Iterator[Any]:
    launched = _launch(driver, [])
    yield launched
    launched.close()


def _choose_and_send(page: Any, base_url: str, lang: str, content: bytes) -> None:
    open_form(page, base_url, lang)
    required(page, "The shelling began at night.")
    files = [{"name": "night.mp4", "mimeType": "video/mp4", "buffer": content}]
    page.set_input_files("#group1-files", files)
    page.click("#send")


@pytest.mark.parametrize("lang", ["en", "uk", "ru"])
def test_a_slow_sealer_is_offered_the_plain_form(
    jitless: Any, live_site: LiveSite, lang: str
) -> None:
    context = jitless.new_context(java_script_enabled=True, viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        _choose_and_send(page, live_site.base_url, lang, secrets.token_bytes(SIZE))
        # Jitless sealing of the first part on a loaded CI host can take a minute or more.
        page.wait_for_selector("#seal-slow", state="visible", timeout=240_000)
        assert page.locator("#seal-slow p").inner_text().strip() == _t(lang, OFFER)
        button = page.locator("#seal-plain")
        assert button.inner_text().strip() == _t(lang, BUTTON)
        box = button.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 320  # no sideways scrolling
        if lang == "en":  # the button sends the files the plain way, sealed by the server
            button.click()
            page.wait_for_selector("#reference", timeout=120_000)
            reference = page.locator("#reference").inner_text().strip()
            (entry,) = live_site.submission(reference).files
            assert (entry.size, entry.plaintext_sha256_by) == (SIZE, "server")
    finally:
        context.close()


def test_a_sealer_faster_than_the_connection_is_not_offered_it(
    jit: Any, live_site: LiveSite
) -> None:
    relay = Relay(live_site.port, b"\0" * 32, rate=3 * 1024 * 1024)
    context = jit.new_context(java_script_enabled=True)
    try:
        page = context.new_page()
        _choose_and_send(page, f"http://127.0.0.1:{relay.port}", "en", secrets.token_bytes(SIZE))
        page.wait_for_selector("#reference", timeout=120_000)
        assert not page.locator("#seal-slow").is_visible()
        reference = page.locator("#reference").inner_text().strip()
        (entry,) = live_site.submission(reference).files
        assert (entry.size, entry.plaintext_sha256_by) == (SIZE, "browser")
    finally:
        context.close()
        relay.close()
