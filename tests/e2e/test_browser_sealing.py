"""Issue 16 in a real browser with JavaScript ON: files sealed in the page, the form unchanged.

Debian's Chromium, driven by Playwright, against a real gunicorn. With the script, the body the
browser sends holds only the sealed file (checked on the wire, and in every file the server's
processes hold open while it arrives, memory-mapped or not); the stored blob opens with the
real `age` binary and the investigator's key, and the receipt and submission.json list the
right SHA-256. With JavaScript off, and with the script blocked, the plain form still works.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.chromium import BROWSER_MARKS
from tests.e2e.conftest import LiveSite
from tests.e2e.test_gunicorn_upload import OpenFileWatch

playwright_api = pytest.importorskip("playwright.sync_api")

AGE = shutil.which("age")
SEND_TIMEOUT_MS = 120_000

pytestmark = BROWSER_MARKS


def _canary_file(canary: bytes) -> bytes:
    """About 300 KiB of random bytes with the canary stamped all through it."""
    blocks = [secrets.token_bytes(4096) + canary for _ in range(72)]
    return b"".join(blocks)


def _to_form(page: Any, site: LiveSite) -> None:
    page.goto(site.base_url + "/start")
    page.click("#get-codename")
    words = page.locator("#codename").inner_text().strip().split()
    for box in ("#word1", "#word2"):
        position = int(page.locator(box).get_attribute("data-position") or "0")
        page.fill(box, words[position - 1])
    page.click("#confirm")
    page.wait_for_selector("#testimony-form")


def _send(page: Any, site: LiveSite, name: str, content: bytes) -> tuple[str, list[bytes]]:
    """Fill the required answers, choose one file, send; the reference and the POST bodies."""
    bodies: list[bytes] = []

    def record(route: Any) -> None:
        if route.request.method == "POST":
            bodies.append(route.request.post_data_buffer or b"")
        route.continue_()

    page.route("**/testimony?**", record)
    page.route("**/testimony/parts/**", record)
    _to_form(page, site)
    page.check("#recipients-only")
    page.check("#consent")
    page.fill("#account", "I saw the convoy pass the school at dawn.")
    page.set_input_files(
        "#group1-files", [{"name": name, "mimeType": "image/jpeg", "buffer": content}]
    )
    page.click("#send")
    page.wait_for_selector("#reference", timeout=SEND_TIMEOUT_MS)
    hashes = [c.strip() for c in page.locator("#received-files td.hash").all_inner_texts()]
    assert hashes == [hashlib.sha256(content).hexdigest()]
    return page.locator("#reference").inner_text().strip(), bodies


def _stored(site: LiveSite, reference: str, name: str, content: bytes, by: str = "browser") -> Path:
    """The file's entry in submission.json is right (`by`: who computed its hash); returns its
    sealed blob's path."""
    (entry,) = site.submission(reference).files
    assert entry.original_name == name
    assert entry.plaintext_sha256_by == by
    assert entry.plaintext_sha256 == hashlib.sha256(content).hexdigest()
    assert entry.size == len(content)
    return site.blob_dir / entry.blob_name


@pytest.mark.skipif(AGE is None, reason="the age binary is missing (make tools installs it)")
def test_a_file_is_sealed_in_the_browser_and_opens_with_age(
    browser: Any, live_site: LiveSite, tmp_path: Path
) -> None:
    canary = f"CANARY-{secrets.token_hex(8)}".encode()
    content, name = _canary_file(canary), "yard.jpg"
    watch = OpenFileWatch(live_site, canary, [live_site.process.pid, *live_site.workers()])
    watcher = threading.Thread(target=watch.run, daemon=True)
    watcher.start()
    context = browser.new_context(java_script_enabled=True)
    try:
        page = context.new_page()
        reference, bodies = _send(page, live_site, name, content)
    finally:
        watch.stop()
        watcher.join()
        context.close()
    # The file goes in parts (issue 16, item 2: start, one part, done), then the form.
    assert b'name="group1-files"' not in bodies[-1]  # the file waits in the draft
    assert all(canary not in body for body in bodies)  # the plaintext never left the browser
    assert watch.hits == set()
    assert watch.seen  # the watch did look at the server's open files
    blob = _stored(live_site, reference, name, content)
    sealed = blob.read_bytes()
    assert sealed.startswith(b"age-encryption.org/v1\n-> X25519 ")
    assert sealed in bodies  # stored exactly as the browser sealed and sent it
    assert live_site.open_with_age(blob.name, tmp_path) == content


@pytest.mark.parametrize("how", ["javascript off", "script blocked"])
def test_the_plain_form_still_works(browser: Any, live_site: LiveSite, how: str) -> None:
    content, name = secrets.token_bytes(120_000), "street.jpg"
    context = browser.new_context(java_script_enabled=how != "javascript off")
    if how == "script blocked":
        context.route("**/static/seal.js", lambda route: route.abort())
    try:
        page = context.new_page()
        reference, bodies = _send(page, live_site, name, content)
    finally:
        context.close()
    (body,) = bodies
    assert b'name="group1-files"' in body
    assert b'name="group1-sealed"' not in body
    blob = _stored(live_site, reference, name, content, by="server")
    assert live_site.blob_sha256(blob.name) == (hashlib.sha256(content).hexdigest(), len(content))
