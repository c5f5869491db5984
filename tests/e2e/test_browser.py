"""A witness's whole visit in a real browser with JavaScript off, against a real gunicorn.

Debian's Chromium, driven by Playwright, goes landing → form with files in two groups →
receipt → return with the codename → a reply shown → follow-up → logout, in English and in
Ukrainian, screenshotting each page at desktop width and at 320 px. Every request the pages
make is recorded: none may leave the site's origin. Afterwards every stored file opens with the
investigator's key to exactly the bytes the browser sent.
"""

from __future__ import annotations

import gettext
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

from crypto.witness import derive
from intake.web.i18n import TRANSLATIONS_DIR
from tests.e2e.chromium import BROWSER_MARKS
from tests.e2e.conftest import LiveSite
from tests.intake.transfer.laptop import ReplyDraft, write_replies

playwright_api = pytest.importorskip("playwright.sync_api")

DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 320, "height": 640}
# Set to keep the screenshots somewhere to look at (they go to the test's tmp dir otherwise).
SCREENSHOT_ENV = "INTAKE_E2E_SCREENSHOTS"

pytestmark = BROWSER_MARKS


class Served(Protocol):
    """Where a visit goes: a gunicorn (LiveSite) or the app served in the test's process."""

    @property
    def base_url(self) -> str: ...


@dataclass
class Visit:
    """One witness's browser session: its pages, the requests they made, the screenshots."""

    site: Served
    context: Any
    lang: str
    shots: Path | None  # None: pages are checked, not photographed
    requests: list[str] = field(default_factory=list)
    shot_count: int = 0

    def __post_init__(self) -> None:
        self.context.on("request", lambda request: self.requests.append(request.url))
        catalogue = gettext.translation(
            "messages", TRANSLATIONS_DIR, languages=[self.lang], fallback=self.lang == "en"
        )
        self.t = catalogue.gettext

    def check_page(self, page: Any, title_msgid: str, name: str, *, in_lang: bool = True) -> None:
        """The page is in the visit's language, has the expected title, and fits 320 px."""
        page.wait_for_load_state()
        langs = {self.lang} if in_lang else {self.lang, "en"}
        assert page.locator("html").get_attribute("lang") in langs
        titles = {self.t(title_msgid)} if in_lang else {self.t(title_msgid), title_msgid}
        assert page.locator("#page-title").inner_text().strip() in titles
        assert page.locator("#leave-site").count() == 1
        self.shot_count += 1
        stem = self.shots / f"{self.lang}-{self.shot_count:02d}-{name}" if self.shots else None
        if stem:
            page.screenshot(path=f"{stem}-desktop.png", full_page=True)
        page.set_viewport_size(NARROW)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if stem:
            page.screenshot(path=f"{stem}-320.png", full_page=True)
        page.set_viewport_size(DESKTOP)
        assert overflow <= 0, f"{name} scrolls sideways at 320 px by {overflow} px"


def payload(name: str, mime: str, size: int) -> dict[str, Any]:
    """A file as Playwright hands it to <input type=file>: random bytes under `name`."""
    return {"name": name, "mimeType": mime, "buffer": secrets.token_bytes(size)}


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    chosen = os.environ.get(SCREENSHOT_ENV)
    path = Path(chosen) if chosen else tmp_path / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class Words:
    """What a witness types in one language; the file names test the multipart encoding."""

    account: str
    more: str
    reply: str
    files: tuple[str, str, str, str, str]


TEXT = {
    "en": Words(
        account="Soldiers took my neighbour away on the morning of the second day.",
        more="I remembered the vehicle had a white V painted on its side.",
        reply="Thank you. Can you tell us at what time the vehicle left?",
        files=("street-1.jpg", "street-2.jpg", "voice.ogg", "clip.mp4", "later-1.jpg"),
    ),
    "uk": Words(
        account="Солдати забрали мого сусіда вранці другого дня.",
        more="Я згадала, що на машині була біла літера V.",
        reply="Дякуємо. Чи можете ви сказати, о котрій годині поїхала машина?",
        files=("вулиця-1.jpg", "вулиця-2.jpg", "голос.ogg", "відео.mp4", "пізніше.jpg"),
    ),
    "ru": Words(
        account="Солдаты увели моего соседа утром второго дня.",
        more="Я вспомнила, что на машине была белая буква V.",
        reply="Спасибо. Можете ли вы сказать, в котором часу уехала машина?",
        files=("улица-1.jpg", "улица-2.jpg", "голос.ogg", "видео.mp4", "позже.jpg"),
    ),
}


Files = dict[int, list[dict[str, Any]]]
"""Files sent per group number, as Playwright payloads (name, mimeType, buffer)."""


def answer_questions(page: Any, account: str) -> None:
    """The required answers and two chosen ones (what happened, seen where)."""
    page.check("#recipients-more")  # the investigators, and those ticked
    page.check("#recipients-2")
    page.check("#consent")
    page.fill("#account", account)
    # The optional parts are folded (<details>): a witness opens the ones she answers.
    open_part(page, "#part-source")
    page.select_option("#source", "saw")
    open_part(page, "#part-where")
    page.select_option("#oblast", "UA-32")


def open_all_parts(page: Any) -> None:
    """Unfold every optional part of the form, as a witness answering all of them would."""
    for part in page.locator("details.optional").all():
        if part.get_attribute("open") is None:
            part.locator("> summary").click()


def open_part(page: Any, part: str) -> None:
    """Unfold an optional part of the form unless it is open (an answer or error opens it)."""
    if page.locator(part).get_attribute("open") is None:
        page.click(f"{part} > summary")


def fill_testimony(page: Any, words: Words) -> Files:
    """Answer the required questions and a few optional ones; two groups of files."""
    names = words.files
    groups = {
        1: [payload(names[0], "image/jpeg", 180_000), payload(names[1], "image/jpeg", 3_000)],
        # Above Werkzeug's 500 KB spool threshold: it must be sealed on arrival all the same.
        2: [payload(names[2], "audio/ogg", 40_000), payload(names[3], "video/mp4", 700_000)],
    }
    answer_questions(page, words.account)
    for number, files in groups.items():
        page.set_input_files(f"#group{number}-files", files)
        open_part(page, f"#group{number}-questions")
        page.select_option(f"#group{number}-recorded_by", "me")
        page.fill(f"#group{number}-shows", f"group {number}")
    return groups


def receipt_hashes(page: Any) -> list[str]:
    return [cell.strip() for cell in page.locator("#received-files td.hash").all_inner_texts()]


def assert_stored_exactly(site: LiveSite, submission_id: str, groups: Files) -> None:
    """Each file the browser sent opens with the investigator key to exactly its bytes."""
    doc = site.submission(submission_id)
    sent = {
        (number, item["name"]): item["buffer"] for number, items in groups.items() for item in items
    }
    stored = {(entry.group, entry.original_name): entry for entry in doc.files}
    assert set(stored) == set(sent)
    for key, entry in stored.items():
        plaintext = site.open_blob(entry.blob_name)
        assert plaintext == sent[key]
        assert entry.plaintext_sha256 == hashlib.sha256(plaintext).hexdigest()
    blobs = {entry.blob_name for entry in doc.files} | {site.manifest_blob(submission_id)}
    assert site.blob_names(submission_id) == blobs


def send_reply(
    site: LiveSite, tmp_path: Path, codename: str, submission_id: str, text: str
) -> None:
    """What the investigators do offline: seal a reply to the witness, import it on the server."""
    recipient = str(derive(codename).identity.recipient())
    bundle, _ = write_replies(
        tmp_path / "replies.bundle", [ReplyDraft(submission_id, recipient, text)], site.signing_key
    )
    assert "imported 1 reply" in site.cli("replies", "import", str(bundle))


def take_codename(visit: Visit, page: Any) -> str:
    """The codename step: ask for it, type two of its words back, land on the form."""
    visit.check_page(page, "Before your testimony: your codename", "start")
    page.click("#get-codename")
    visit.check_page(page, "Your codename", "codename")
    codename = str(page.locator("#codename").inner_text().strip())
    assert len(codename.split()) == (9 if visit.lang == "en" else 8)
    words = codename.split()
    for box in ("#word1", "#word2"):
        position = int(page.locator(box).get_attribute("data-position") or "0")
        page.fill(box, words[position - 1])
    page.click("#confirm")
    return codename


def send_testimony(visit: Visit, page: Any, words: Words) -> tuple[str, str, Files]:
    """Landing → form → receipt; returns the codename, the reference and the files sent."""
    page.goto(visit.site.base_url + "/")
    if visit.lang != "en":
        page.click(f"#lang-{visit.lang}")
    visit.check_page(page, "Tell investigators what you saw", "landing")
    page.click("#start")
    codename = take_codename(visit, page)
    groups = fill_testimony(page, words)
    visit.check_page(page, "Your testimony", "form")
    page.click("#send")
    visit.check_page(page, "Thank you. Your testimony was received.", "receipt")
    assert page.locator("#codename").inner_text().strip() == codename
    page.reload()  # the receipt survives a reload in the same session
    visit.check_page(page, "Thank you. Your testimony was received.", "receipt-reloaded")
    assert page.locator("#codename").inner_text().strip() == codename
    sent = [item["buffer"] for items in groups.values() for item in items]
    assert sorted(receipt_hashes(page)) == sorted(hashlib.sha256(b).hexdigest() for b in sent)
    return codename, page.locator("#reference").inner_text().strip(), groups


def log_in(visit: Visit, page: Any, codename: str, reference: str, reply: str) -> None:
    """Back from the landing page with the codename: the account shows the reply."""
    page.goto(visit.site.base_url + "/")
    page.click("#return-link")
    visit.check_page(page, "Return with your codename", "login")
    page.fill("#codename", codename.upper())  # case does not matter, the page says
    page.click("#login")
    visit.check_page(page, "Your testimonies", "account")
    assert page.locator("#reply-1 .reply-text").inner_text().strip() == reply
    assert page.locator(f"#submission-{reference}").count() == 1


def add_to(visit: Visit, page: Any, reference: str, words: Words) -> tuple[str, Files]:
    """The account's "add" link opens a tab (the replies page stays); a follow-up with files."""
    with visit.context.expect_page() as opened:
        page.click("#add-link")
    tab = opened.value
    tab.wait_for_load_state()
    visit.check_page(tab, "Add to your testimony", "follow-up")
    tab.select_option("#parent", reference)
    tab.fill("#account", words.more)
    files = [
        payload(words.files[4], "image/jpeg", 90_000),
        payload("notes.txt", "text/plain", 1_200),
    ]
    tab.set_input_files("#group1-files", files)
    tab.click("#send")
    visit.check_page(tab, "Thank you. What you added was received.", "follow-up-receipt")
    follow_up = tab.locator("#reference").inner_text().strip()
    tab.close()
    return follow_up, {1: files}


def log_out(visit: Visit, page: Any) -> None:
    """Log out: the browser is told to forget the site, and the session is gone."""
    with page.expect_response(lambda response: "/logout" in response.url) as answer:
        page.click("#logout")
    assert "cookies" in (answer.value.all_headers().get("clear-site-data") or "")
    # The logged-out page falls back to English (test_logged_out_page_keeps_the_language).
    visit.check_page(page, "You are logged out", "logged-out", in_lang=False)
    page.goto(visit.site.base_url + "/account")
    assert page.url == visit.site.base_url + "/return"


@pytest.mark.parametrize("lang", ["en", "uk"])
def test_a_witness_visit_without_javascript(
    browser: Any, live_site: LiveSite, shots: Path, tmp_path: Path, lang: str
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    visit = Visit(live_site, context, lang, shots)
    words = TEXT[lang]
    try:
        page = context.new_page()
        codename, reference, groups = send_testimony(visit, page, words)
        send_reply(live_site, tmp_path, codename, reference, words.reply)
        log_in(visit, page, codename, reference, words.reply)
        follow_up, more = add_to(visit, page, reference, words)
        log_out(visit, page)
    finally:
        context.close()

    assert visit.shot_count == 11  # start, codename and the reloaded receipt added three
    origin = live_site.base_url + "/"
    assert visit.requests, "no request was recorded"
    assert [url for url in visit.requests if not url.startswith(origin)] == []
    assert_stored_exactly(live_site, reference, groups)
    assert_stored_exactly(live_site, follow_up, more)
    assert live_site.submission(follow_up).parent_id == reference
    assert live_site.submission(reference).ui_language == lang
    assert "[ERROR]" not in live_site.log.read_text()


def test_logged_out_page_keeps_the_language(browser: Any, live_site: LiveSite) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(live_site.base_url + "/?lang=uk")
        # The same POST the account page's logout button sends (no CSRF token by design).
        answer = page.request.post(live_site.base_url + "/logout")
        assert answer.status == 200
        assert '<html lang="uk">' in answer.text()
    finally:
        context.close()
