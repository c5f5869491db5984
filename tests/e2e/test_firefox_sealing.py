"""Issue 16's proof in Firefox ESR (Tor Browser's engine), driven through marionette.

The same flows as the Chromium tests, against the same real gunicorn (tests/e2e/conftest.py):
with JavaScript on, a file chosen in the testimony form is sealed in the page and sent in parts,
the server seals nothing (submission.json says the browser computed the hash), the relay between
browser and server never sees the plaintext, and the stored file opens with the real `age`
binary. A 64 MiB upload, throttled to a Tor-like rate, survives the whole server killed half
way, in the same page. On a non-secure origin (a test name the profile
resolves to 127.0.0.1 with `network.dns.localDomains`: Firefox counts only localhost and
loopback addresses as secure, not a name that happens to resolve there) the page has no
`crypto.subtle` and the plain form carries the file.

Marionette sets a file input's files by `send_keys(path)` on the element, as a person choosing
the file would (the change event fires).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LiveSite
from tests.e2e.firefox import FIREFOX, FIREFOX_MARKS, firefox
from tests.e2e.test_browser_resume import Relay, _kill_all, _restart, wait_for_half
from tests.e2e.test_browser_sealing import _canary_file, _stored

AGE = shutil.which("age")
TEST_HOST = "intake.test"
# The resume proof at 64 MiB through a Tor-like 12 MiB/s relay, so that the kill lands mid-upload
# in minutes (the Chromium test proves 1 GiB; the parts and the resume do not depend on size).
SIZE = 64 * 1024 * 1024
RATE = 12 * 1024 * 1024
SEND_SECONDS = 120
DONE_SECONDS = 300

# Cookies, DOM storage, IndexedDB, caches, service workers…, then whatever cookies remain
# (none, or the test fails: the clearing is checked, not trusted).
_FORGET_ALL = """
const done = arguments[arguments.length - 1];
Services.clearData.deleteData(Ci.nsIClearDataService.CLEAR_ALL, failed =>
  done(failed || Services.cookies.cookies.length));
"""

pytestmark = [
    *FIREFOX_MARKS,
    pytest.mark.skipif(AGE is None, reason="the age binary is missing (make tools installs it)"),
]


@pytest.fixture(scope="module")
def _firefox() -> Iterator[Any]:
    """One Firefox ESR with the JIT on (Tor Browser at "Standard"), for the module's tests."""
    with firefox({"network.dns.localDomains": TEST_HOST}) as client:
        yield client


@pytest.fixture
def browser(_firefox: Any) -> Any:
    """The module's Firefox with nothing kept from an earlier test: every test's server is on
    127.0.0.1, and cookies ignore the port. Clearing costs a round trip, a fresh browser ~10 s."""
    _firefox.navigate("about:blank")  # no page of an earlier test holds its storage open
    with _firefox.using_context("chrome"):
        failed = _firefox.execute_async_script(_FORGET_ALL)
    assert failed == 0, f"clearing the browser's data failed for flags {failed:#x}"
    return _firefox


def _firefox_release() -> str:
    """The user agent's tail for the installed ESR: "Mozilla Firefox 153.8.0esr" is Firefox/153.0
    (the user agent names the major release only)."""
    out = subprocess.run([str(FIREFOX), "--version"], check=True, capture_output=True, text=True)
    found = re.search(r"Firefox (\d+)\.", out.stdout)
    assert found, f"unexpected {FIREFOX} --version: {out.stdout!r}"
    return f"Firefox/{found.group(1)}.0"


def _by_css(client: Any, selector: str) -> Any:
    from marionette_driver.by import By  # noqa: PLC0415 - imported once firefox() has loaded it

    return client.find_element(By.CSS_SELECTOR, selector)


def _wait_for(client: Any, selector: str, seconds: float) -> Any:
    """The element once it exists, polling the page (the form's submit navigates)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.execute_script("return !!document.querySelector(arguments[0])", [selector]):
            return _by_css(client, selector)
        time.sleep(0.2)
    pytest.fail(f"{selector} did not appear within {seconds} s: {client.get_url()}")


def _to_form(client: Any, base_url: str) -> None:
    client.navigate(base_url + "/start")
    _by_css(client, "#get-codename").click()
    words = _wait_for(client, "#codename", 30).text.strip().split()
    for box in ("#word1", "#word2"):
        field = _by_css(client, box)
        field.send_keys(words[int(field.get_attribute("data-position") or "0") - 1])
    _by_css(client, "#confirm").click()
    _wait_for(client, "#testimony-form", 60)


def _fill_and_send(client: Any, base_url: str, source: Path) -> None:
    _to_form(client, base_url)
    _by_css(client, "#recipients-only").click()
    _by_css(client, "#consent").click()
    _by_css(client, "#account").send_keys("I saw the convoy pass the school at dawn.")
    _by_css(client, "#group1-files").send_keys(str(source))
    _by_css(client, "#send").click()


def _receipt(client: Any, seconds: float) -> tuple[str, list[str]]:
    """The reference on the receipt page and the hashes it lists."""
    reference = _wait_for(client, "#reference", seconds).text.strip()
    hashes = client.execute_script(
        "return Array.from(document.querySelectorAll('#received-files td.hash'),"
        " cell => cell.textContent.trim())"
    )
    return reference, list(hashes)


def _through_relay(live_site: LiveSite, canary: bytes) -> tuple[Relay, LiveSite]:
    relay = Relay(live_site.port, canary, RATE)
    site = LiveSite(**{**live_site.__dict__, "base_url": f"http://127.0.0.1:{relay.port}"})
    return relay, site


def test_a_file_is_sealed_in_firefox_and_opens_with_age(
    browser: Any, live_site: LiveSite, tmp_path: Path
) -> None:
    canary = f"CANARY-{secrets.token_hex(8)}".encode()
    content = _canary_file(canary)
    source = tmp_path / "yard.jpg"
    source.write_bytes(content)
    relay, site = _through_relay(live_site, canary)
    try:
        assert browser.execute_script("return navigator.userAgent").endswith(_firefox_release())
        _fill_and_send(browser, site.base_url, source)
        reference, hashes = _receipt(browser, SEND_SECONDS)
    finally:
        relay.close()
    assert hashes == [hashlib.sha256(content).hexdigest()]
    # Hashed by the browser: the file came as parts, never as the form's multipart file field.
    blob = _stored(live_site, reference, source.name, content, by="browser")
    assert not relay.seen_canary  # the plaintext never crossed the wire
    assert blob.read_bytes().startswith(b"age-encryption.org/v1\n-> X25519 ")
    assert live_site.open_with_age(blob.name, tmp_path) == content


def test_the_upload_survives_a_server_killed_half_way_in_firefox(
    browser: Any, live_site: LiveSite, tmp_path: Path
) -> None:
    canary = f"CANARY-{secrets.token_hex(8)}".encode()
    block = secrets.token_bytes(64 * 1024 - len(canary)) + canary
    content = block * (SIZE // len(block))
    source = tmp_path / "convoy.mp4"
    source.write_bytes(content)
    relay, site = _through_relay(live_site, canary)
    restarted: list[subprocess.Popen[bytes]] = []
    try:
        _fill_and_send(browser, site.base_url, source)
        wait_for_half(live_site, lambda: time.sleep(0.1))
        _kill_all(live_site.process)
        status = _wait_for(browser, "#seal-status:not([hidden])", 60)
        deadline = time.monotonic() + 60
        while "connection was lost" not in status.text and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "connection was lost" in status.text
        _restart(live_site, restarted)
        reference, hashes = _receipt(browser, DONE_SECONDS)
    finally:
        relay.close()
        for process in restarted:
            _kill_all(process)
    digest = hashlib.sha256(content).hexdigest()
    assert hashes == [digest]
    blob = _stored(live_site, reference, source.name, content)
    assert hashlib.sha256(live_site.open_with_age(blob.name, tmp_path)).hexdigest() == digest
    assert not relay.seen_canary
    # Resume overhead: at most one part (4 MiB) sent twice, plus headers and the form.
    assert relay.bytes_up < blob.stat().st_size + 4 * 1024 * 1024 + 512 * 1024


def test_a_non_secure_origin_falls_back_to_the_plain_form_in_firefox(
    browser: Any, live_site: LiveSite, tmp_path: Path
) -> None:
    content = secrets.token_bytes(150_000)
    source = tmp_path / "gate.jpg"
    source.write_bytes(content)
    base_url = f"http://{TEST_HOST}:{live_site.port}"
    browser.navigate(base_url + "/")
    secure = browser.execute_script("return [window.isSecureContext, typeof crypto.subtle]")
    assert secure == [False, "undefined"]
    _fill_and_send(browser, base_url, source)
    reference, hashes = _receipt(browser, SEND_SECONDS)
    assert hashes == [hashlib.sha256(content).hexdigest()]
    blob = _stored(live_site, reference, source.name, content, by="server")
    assert live_site.blob_sha256(blob.name) == (hashlib.sha256(content).hexdigest(), len(content))
