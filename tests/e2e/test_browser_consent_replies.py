"""Issue 18 item 4 in Chromium with JavaScript off, at 1280 and 320 px, in en, uk and ru.

A witness sends a testimony; the investigators reply; back with the codename, the reply names
the testimony it answers, "Answer this reply" opens the follow-up form set to answer it, and
the sealed follow-up carries `in_reply_to`. Then the witness withdraws consent: the codename,
a summary page (Back returns to the choice, Confirm seals it) and "Withdrawn" on the account.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.chromium import BROWSER_MARKS, chromium
from tests.e2e.conftest import LiveSite
from tests.e2e.test_browser import DESKTOP, TEXT, Visit, fill_testimony, send_reply, take_codename

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _send(visit: Visit, page: Any) -> tuple[str, str]:
    page.goto(f"{visit.site.base_url}/?lang={visit.lang}")
    page.click("#start")
    codename = take_codename(visit, page)
    fill_testimony(page, TEXT[visit.lang])
    page.click("#send")
    visit.check_page(page, "Thank you. Your testimony was received.", "receipt")
    return codename, page.locator("#reference").inner_text().strip()


def _answer(visit: Visit, page: Any, reference: str) -> tuple[str, str]:
    """ "Answer this reply" opens a tab with the form set to answer it; returns the reply id
    and the follow-up's reference."""
    link = page.locator("#reply-1 a.answer-link")
    reply_id = (link.get_attribute("href") or "").split("reply=")[1].split("&")[0]
    with visit.context.expect_page() as opened:
        link.click()
    tab = opened.value
    visit.check_page(tab, "Add to your testimony", "answer")
    assert tab.locator("#answering").count() == 1
    assert reference in tab.locator("#answering").inner_text()
    assert tab.locator("#parent").input_value() == reference
    tab.fill("#account", TEXT[visit.lang].more)
    tab.click("#send")
    visit.check_page(tab, "Thank you. What you added was received.", "answer-receipt")
    follow_up = tab.locator("#reference").inner_text().strip()
    tab.close()
    return reply_id, follow_up


def _withdraw(visit: Visit, page: Any, codename: str, reference: str) -> None:
    """Consent form → summary → Back → summary again → Confirm → receipt."""
    with visit.context.expect_page() as opened:
        page.click("#consent-link")
    tab = opened.value
    visit.check_page(tab, "Change who may receive your testimony", "consent")
    tab.select_option("#parent", reference)
    tab.check("#withdraw")
    tab.fill("#codename", codename)
    tab.click("#send")
    visit.check_page(tab, "Please check your change", "consent-summary")
    assert reference in tab.locator("#about-to").inner_text()
    assert tab.locator("#current-consent").count() == 1  # opened with the codename just typed
    tab.click("#back")
    visit.check_page(tab, "Change who may receive your testimony", "consent-back")
    assert tab.locator("#withdraw").is_checked()
    # Back forgot the confirmation (a stolen cookie must not find it): the codename again.
    tab.fill("#codename", codename)
    tab.click("#send")
    visit.check_page(tab, "Please check your change", "consent-summary-again")
    tab.click("#confirm")
    visit.check_page(tab, "Your choice was received.", "consent-receipt")
    tab.close()


@pytest.mark.parametrize("lang", ["en", "uk", "ru"])
def test_a_witness_answers_a_reply_and_withdraws_consent(
    browser: Any, live_site: LiveSite, tmp_path: Path, lang: str
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    visit = Visit(live_site, context, lang, tmp_path)
    try:
        page = context.new_page()
        codename, reference = _send(visit, page)
        send_reply(live_site, tmp_path, codename, reference, TEXT[lang].reply)
        page.goto(f"{live_site.base_url}/return?lang={lang}")
        page.fill("#codename", codename)
        page.click("#login")
        visit.check_page(page, "Your testimonies", "account")
        assert reference in page.locator("#reply-1 .reply-about").inner_text()
        reply_id, follow_up = _answer(visit, page, reference)
        _withdraw(visit, page, codename, reference)
        page.goto(f"{live_site.base_url}/account?lang={lang}")
        visit.check_page(page, "Your testimonies", "account-withdrawn")
        line = page.locator(f"#submission-{reference}").inner_text()
        assert visit.t("Withdrawn") in line
    finally:
        context.close()
    answer = live_site.submission(follow_up)
    assert answer.in_reply_to == reply_id
    assert answer.parent_id == reference
    assert all(url.startswith(live_site.base_url) for url in visit.requests)
