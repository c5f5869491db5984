"""A file the server already holds is not sent again when the witness chooses the plain form.

"Send the usual way" tapped just as a file's upload completes: the server has kept the file
(`done` succeeded) but its answer has not reached the page yet. The page waits for that short
answer rather than drop it, so the plain form does not carry the file a second time (for a
video over Tor, an hour), and the status says, in the witness's language, that it is already
received. The second file, not yet sent, goes the plain way.
"""

from __future__ import annotations

import gettext
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from intake.partstore import PART_SIZE
from tests.e2e.chromium import BROWSER_MARKS
from tests.e2e.conftest import LiveSite
from tests.e2e.test_browser_rules import open_form, required

pytestmark = BROWSER_MARKS

TRANSLATIONS = Path(__file__).resolve().parents[2] / "intake" / "web" / "translations"
RECEIVED = "Already received, not sent again: {names}."

# The words on the page as the plain form goes, reported on the console before it leaves.
SUBMIT_SAYS = """{
  const submit = HTMLFormElement.prototype.submit;
  HTMLFormElement.prototype.submit = function () {
    console.log("going: " + document.querySelector("#seal-status").textContent);
    return submit.call(this);
  };
}"""

TAP = "() => document.querySelector('#seal-plain').click()"


def _t(lang: str, text: str) -> str:
    catalogue = gettext.translation("messages", TRANSLATIONS, languages=[lang], fallback=True)
    return catalogue.gettext(text)


def _tap_once_done_is_held(
    page: Any,
    site: LiveSite,
    lang: str,
    *,
    files: tuple[bytes, bytes],
    done: Callable[[Any], None],
    seen: Callable[[Any], None],
    held: list[Any],
    setup: str | None = None,
) -> None:
    """Opens the form, sends first.mp4 and second.mp4 with `done` routing the first file's
    `done` (it appends to `held`), and taps "Send the usual way" once that `done` is held."""
    page.route("**/testimony/parts/*/done*", done)
    open_form(page, site.base_url, lang)
    page.on("request", seen)
    required(page, "The shelling began at night.")
    if setup is not None:
        page.evaluate(setup)
    page.set_input_files(
        "#group1-files",
        [
            {"name": name, "mimeType": "video/mp4", "buffer": data}
            for name, data in zip(("first.mp4", "second.mp4"), files, strict=True)
        ],
    )
    page.click("#send")
    for _ in range(600):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the first file's `done` never came"
    page.evaluate(TAP)


@pytest.mark.parametrize("lang", ["en", "uk", "ru"])
def test_a_file_received_as_the_plain_form_is_chosen_is_not_sent_again(
    browser: Any, live_site: LiveSite, lang: str
) -> None:
    first = secrets.token_bytes(PART_SIZE // 2)  # one part: `done` follows it at once
    second = secrets.token_bytes(100_000)
    held: list[tuple[Any, Any]] = []
    plain_bodies: list[bytes] = []
    said: list[str] = []
    context = browser.new_context(java_script_enabled=True)
    try:
        page = context.new_page()
        page.add_init_script(SUBMIT_SAYS)
        page.on("console", lambda message: said.append(message.text))

        def done(route: Any) -> None:
            # The server keeps the file; its answer is held back until the witness has tapped.
            held.append((route, route.fetch()))

        def seen(request: Any) -> None:
            if request.method == "POST" and "/parts" not in request.url:
                plain_bodies.append(request.post_data_buffer or b"")

        _tap_once_done_is_held(
            page, live_site, lang, files=(first, second), done=done, seen=seen, held=held
        )
        # The file is in the draft; the page has not heard so yet.
        route, answer = held[0]
        route.fulfill(response=answer)
        page.wait_for_selector("#reference", timeout=120_000)
        reference = page.locator("#reference").inner_text().strip()
    finally:
        context.close()
    (body,) = plain_bodies
    assert first[:4096] not in body  # the plain form did not carry the first file again
    assert second[:4096] in body
    entries = live_site.submission(reference).files
    assert sorted((e.size, e.plaintext_sha256_by) for e in entries) == [
        (len(second), "server"),
        (len(first), "browser"),
    ]
    going = [text for text in said if text.startswith("going: ")]
    words = _t(lang, RECEIVED).replace("{names}", "first.mp4")
    assert len(going) == 1
    assert going[0].endswith(f" {words}"), going


# The bound on the wait for `done`, shortened for the test (the page's is a minute).
SHORT_WAIT = "() => { document.querySelector('#testimony-form').dataset.sealDoneWait = '1500'; }"


def test_a_done_never_answered_does_not_hold_the_plain_form_for_ever(
    browser: Any, live_site: LiveSite
) -> None:
    # `done` reached the server (it keeps the file) but its answer never comes back: a Tor
    # circuit stalled without a word, or a hash of 4.5 GiB behind the upload's lock. After the
    # bound the plain form goes with both files: the first sent a second time (its bytes again;
    # the testimony holds it once), never lost, and no page saying "sending" while none is.
    first = secrets.token_bytes(PART_SIZE // 2)
    second = secrets.token_bytes(100_000)
    held: list[Any] = []
    plain_bodies: list[bytes] = []
    context = browser.new_context(java_script_enabled=True)
    try:
        page = context.new_page()

        def done(route: Any) -> None:
            route.fetch()  # the server keeps the file; the page never hears so
            held.append(route)

        def seen(request: Any) -> None:
            if request.method == "POST" and "/parts" not in request.url:
                plain_bodies.append(request.post_data_buffer or b"")

        _tap_once_done_is_held(
            page, live_site, "en", files=(first, second), done=done, seen=seen, held=held,
            setup=SHORT_WAIT,
        )  # fmt: skip
        # Unbounded, the page waited here for ever: well within 30 s, the plain form goes.
        page.wait_for_selector("#reference", timeout=30_000)
        reference = page.locator("#reference").inner_text().strip()
    finally:
        context.close()
    (body,) = plain_bodies
    assert first[:4096] in body
    assert second[:4096] in body
    entries = live_site.submission(reference).files
    # The server, finding the plain form's copy the same as the draft's, keeps the file once.
    assert sorted((e.size, e.plaintext_sha256_by) for e in entries) == [
        (len(second), "server"),
        (len(first), "browser"),
    ]
