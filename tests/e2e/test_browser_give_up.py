"""Issue 16 review L: an upload the page gives up is cancelled, and the witness's choice of the
plain form takes effect at once.

"Send the usual way" tapped while a part crawls through a relay at 250 kB/s: the status words
change at once and the plain form goes within seconds (before, it waited for the part and any
wait between tries: 14.7 s). A server that says it lost parts the page no longer holds makes
the page seal the file again: the first upload is cancelled (by the second start, which names
it), so only the finished one remains on the server rather than one holding its reservation
for a day.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from intake.partstore import PART_SIZE
from tests.e2e.chromium import BROWSER_MARKS
from tests.e2e.conftest import LiveSite
from tests.e2e.test_browser_resume import Relay
from tests.e2e.test_browser_sealing import _to_form

pytestmark = BROWSER_MARKS

_UPLOAD = re.compile(r"/testimony/parts/([0-9a-f]{32})(?:/|\?|$)")


def _fill(page: Any, site: LiveSite, content: bytes) -> None:
    _to_form(page, site)
    page.check("#recipients-only")
    page.check("#consent")
    page.fill("#account", "typed answer kept")
    files = [{"name": "a.mp4", "mimeType": "video/mp4", "buffer": content}]
    page.set_input_files("#group1-files", files)


def _uploads_seen(urls: list[str]) -> set[str]:
    return {found.group(1) for url in urls if (found := _UPLOAD.search(url))}


def _left_on_server(site: LiveSite, ids: set[str]) -> dict[str, bool]:
    """The uploads among `ids` the server still describes, and whether each is finished."""
    parts: Path = site.data_dir / "store" / "parts"
    left = {}
    for upload in ids:
        meta = parts / f"{upload}.json"
        if meta.exists() or (site.temp_dir / upload).exists():
            left[upload] = bool(meta.exists() and json.loads(meta.read_text())["finished"])
    return left


def _settled(site: LiveSite, ids: set[str], want: int) -> dict[str, bool]:
    """What is left once the page's unawaited cancels have arrived (a few seconds at most)."""
    deadline = time.monotonic() + 15
    while len(left := _left_on_server(site, ids)) > want and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


TAP = """() => setTimeout(() => {
  const button = document.querySelector('#seal-plain');
  button.click();
  const words = document.querySelector('#seal-status').textContent;
  console.log((button.disabled ? 'disabled ' : 'enabled ') + words);
}, 0)"""


def test_the_plain_choice_ends_the_part_in_flight(browser: Any, live_site: LiveSite) -> None:
    relay = Relay(live_site.port, b"\0" * 32, rate=250_000)
    site = LiveSite(**{**live_site.__dict__, "base_url": f"http://127.0.0.1:{relay.port}"})
    content = secrets.token_bytes(2 * PART_SIZE + 100_000)  # the second part crawls
    urls: list[str] = []
    plain_at: list[float] = []
    context = browser.new_context(java_script_enabled=True)
    try:
        page = context.new_page()

        def seen(request: Any) -> None:
            urls.append(request.url)
            if request.method == "POST" and "/parts" not in request.url:
                plain_at.append(time.monotonic())

        page.on("request", seen)
        _fill(page, site, content)
        page.click("#send")
        while not any(url.split("?")[0].endswith("/1") for url in urls):
            page.wait_for_timeout(100)
        page.wait_for_timeout(500)  # the part is under way: 16 s of it at this rate
        plain = page.locator("#testimony-form").get_attribute("data-seal-plain")
        said: list[tuple[float, str]] = []
        page.on("console", lambda message: said.append((time.monotonic(), message.text)))
        tapped = time.monotonic()
        # The offer is not shown here (sealing keeps ahead); its button's handler is the same.
        # The page may navigate to the plain form's answer at any moment after the tap, so
        # what it shows is read in the tap's own task and reported on the console.
        page.evaluate(TAP)
        while not (said and plain_at) and time.monotonic() - tapped < 10:
            page.wait_for_timeout(100)
        assert said, "the page said nothing after the tap"
        assert said[0][1] == f"disabled {plain}"  # at once, and the button takes no 2nd tap
        assert said[0][0] - tapped < 1.0
        assert plain_at, "the plain form never went"
        assert plain_at[0] - tapped < 3.0, "the plain form waited for the part"
        page.wait_for_selector("#reference", timeout=240_000)
        reference = page.locator("#reference").inner_text().strip()
    finally:
        context.close()
        relay.close()
    (entry,) = live_site.submission(reference).files
    assert (entry.size, entry.plaintext_sha256_by) == (len(content), "server")
    assert any(url.split("?")[0].endswith("/cancel") for url in urls)
    assert _settled(live_site, _uploads_seen(urls), 0) == {}  # its reservation is freed


def test_a_reseal_leaves_only_the_finished_upload(browser: Any, live_site: LiveSite) -> None:
    content = secrets.token_bytes(4 * PART_SIZE)
    state = {"cut": False, "lied": False}
    urls: list[str] = []
    starts: list[str] = []
    context = browser.new_context(java_script_enabled=True)
    try:
        page = context.new_page()

        def part(route: Any) -> None:
            request = route.request
            third = request.url.split("?")[0].endswith("/2")
            if request.method == "POST" and third and not state["cut"]:
                state["cut"] = True
                route.abort("connectionreset")
                return
            if request.method == "GET" and state["cut"] and not state["lied"]:
                # A server that lost parts it had said it held: the page no longer has them.
                state["lied"] = True
                body = json.dumps({"have": 1, "parts": 5, "part_size": PART_SIZE})
                route.fulfill(status=200, content_type="application/json", body=body)
                return
            route.continue_()

        def seen(request: Any) -> None:
            urls.append(request.url)
            if request.method == "POST" and request.url.split("?")[0].endswith("/parts"):
                starts.append(request.post_data or "")

        page.route("**/testimony/parts/**", part)
        page.on("request", seen)
        _fill(page, live_site, content)
        page.click("#send")
        page.wait_for_selector("#reference", timeout=240_000)
        reference = page.locator("#reference").inner_text().strip()
    finally:
        context.close()
    (entry,) = live_site.submission(reference).files
    assert live_site.open_blob(entry.blob_name) == content
    ids = _uploads_seen(urls)
    assert len(ids) == 2  # sealed twice
    assert list(_settled(live_site, ids, 1).values()) == [True]  # the first was cancelled
    # By the second start, which names it: no cancel of its own to arrive after that start.
    (first,) = ids - set(_settled(live_site, ids, 1))
    assert len(starts) == 2
    assert "replaces" not in starts[0]
    assert re.search(rf'name="replaces"\r?\n\r?\n{first}\r?\n', starts[1])
    assert not any(url.split("?")[0].endswith("/cancel") for url in urls)
