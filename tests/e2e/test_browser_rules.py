"""Each input only protocol's rules refuse, typed in real Chromium with JavaScript off (issue 14,
item 7): a translated field error on the page sent back, the typed text still there, and the
file that came with it listed as already received, in English, Ukrainian and Russian.
"""

from __future__ import annotations

import gettext
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from intake.web.i18n import TRANSLATIONS_DIR
from protocol import codes
from tests.e2e.chromium import BROWSER_MARKS, chromium
from tests.e2e.conftest import LiveSite
from tests.e2e.test_browser import open_all_parts

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = BROWSER_MARKS

OTHER = codes.codes("incident_type").index("other")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@dataclass(frozen=True)
class Case:
    """One class of input: how to type it, where its error goes, what must stay typed."""

    name: str
    type_in: Callable[[Any], None]
    clear: Callable[[Any], None]
    error_field: str
    msgid: str
    kept: tuple[str, str]  # (selector, value) of what was typed and must come back


def _fill(selector: str, value: str) -> Callable[[Any], None]:
    return lambda page: page.fill(selector, value)


def _both(*steps: Callable[[Any], None]) -> Callable[[Any], None]:
    def run(page: Any) -> None:
        for step in steps:
            step(page)

    return run


CASES = (
    Case(
        "coordinates",
        _fill("#coordinates", "95, 200"),
        _fill("#coordinates", ""),
        "coordinates",
        "These coordinates are not on Earth: latitude goes from -90 to 90 and longitude from "
        "-180 to 180, for example 49.99, 36.23.",
        ("#coordinates", "95, 200"),
    ),
    Case(
        "nul-in-text",
        _fill("#place", "near the\x00 bridge"),
        _fill("#place", ""),
        "place",
        "This answer contains an invisible control character we cannot store. Please type it "
        "again rather than pasting it.",
        # The page cannot show a NUL back (HTML turns it into U+FFFD); the rest is there.
        ("#place", "near the\ufffd bridge"),
    ),
    Case(
        "group-without-file",
        _fill("#group2-shows", "the convoy at night"),
        _fill("#group2-shows", ""),
        "group2-shows",
        "These answers describe files, but this group has none: choose its files, or clear "
        "these answers.",
        ("#group2-shows", "the convoy at night"),
    ),
    Case(
        "contact-without-tick",
        _fill("#contact_notes", "after 18:00 only"),
        _fill("#contact_notes", ""),
        "contact_notes",
        'This is a way to contact you: answer "Yes" to "May investigators contact you?", or '
        "clear this answer.",
        ("#contact_notes", "after 18:00 only"),
    ),
    Case(
        "name-without-tick",
        _fill("#name", "Olena"),
        _fill("#name", ""),
        "name",
        'To give your name, answer "Yes" to "Would you like to tell us who you are?", or clear '
        "this box.",
        ("#name", "Olena"),
    ),
    Case(
        "other-without-text",
        _both(lambda page: page.check(f"#incident_types-{OTHER}"), _fill("#unit", "unit 3")),
        lambda page: page.uncheck(f"#incident_types-{OTHER}"),
        "incident_other",
        'You chose "Other": please say what it is.',
        ("#unit", "unit 3"),
    ),
    Case(
        "victims-in-reverse",
        _both(_fill("#victims_min", "5"), _fill("#victims_max", "2")),
        _both(_fill("#victims_min", ""), _fill("#victims_max", "")),
        "victims_max",
        "The largest number is smaller than the smallest.",
        ("#victims_min", "5"),
    ),
)


def _translator(lang: str) -> Callable[[str], str]:
    catalogue = gettext.translation(
        "messages", TRANSLATIONS_DIR, languages=[lang], fallback=lang == "en"
    )
    return catalogue.gettext


def open_form(page: Any, base_url: str, lang: str) -> None:
    """The codename step (two words typed back), in `lang`, landing on the testimony form."""
    page.goto(f"{base_url}/start?lang={lang}")
    page.click("#get-codename")
    words = page.locator("#codename").inner_text().split()
    for box in ("#word1", "#word2"):
        position = int(page.locator(box).get_attribute("data-position") or "0")
        page.fill(box, words[position - 1])
    page.click("#confirm")
    page.wait_for_selector("#testimony-form")


def required(page: Any, account: str) -> None:
    """The answers every testimony needs: recipients, consent and an account."""
    page.check("#recipients-only")
    page.check("#consent")
    page.fill("#account", account)


@pytest.mark.parametrize("lang", ["en", "uk", "ru"])
def test_each_input_only_the_rules_refuse_is_a_translated_field_error(
    browser: Any, live_site: LiveSite, lang: str
) -> None:
    t = _translator(lang)
    account = {"en": "They took him away.", "uk": "Його забрали.", "ru": "Его забрали."}[lang]
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        open_form(page, live_site.base_url, lang)
        required(page, account)
        sent: list[str] = []
        for case in CASES:
            name = f"{case.name}-{lang}.jpg"
            page.set_input_files(
                "#group1-files",
                [{"name": name, "mimeType": "image/jpeg", "buffer": secrets.token_bytes(4000)}],
            )
            sent.append(name)
            open_all_parts(page)  # the optional parts are folded (<details>)
            case.type_in(page)
            page.click("#send")
            page.wait_for_selector("#error-summary")
            assert page.locator("html").get_attribute("lang") == lang
            error = page.locator(f"#{case.error_field}-error").inner_text()
            assert t(case.msgid) in error, (case.name, error)
            selector, typed = case.kept
            assert page.locator(selector).input_value() == typed, case.name
            assert page.locator("#account").input_value() == account
            kept = page.locator("#kept-list .kept-name").all_inner_texts()
            assert sorted(kept) == sorted(sent), case.name
            open_all_parts(page)
            case.clear(page)
        page.click("#send")
        page.wait_for_selector("#reference")
    finally:
        context.close()
    assert "[ERROR]" not in live_site.log.read_text()
