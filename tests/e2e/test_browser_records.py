"""A returning witness sees what was received, in a fresh browser, with JavaScript off.

In each language a witness sends a testimony with four files, closes the browser, and comes
back in a new context (as after "New Identity") with the codename: the account page lists
every file's name, plaintext size and SHA-256, and the consent chosen, opened from the record
sealed to the witness's reply key (intake.web.services.records).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.chromium import BROWSER_MARKS, chromium
from tests.e2e.conftest import LiveSite
from tests.e2e.test_browser import (
    DESKTOP,
    NARROW,
    TEXT,
    Visit,
    Words,
    fill_testimony,
    take_codename,
)

pytestmark = BROWSER_MARKS

WORDS = {
    **TEXT,
    "ru": Words(
        account="Солдаты увели моего соседа утром второго дня.",
        more="",
        reply="",
        files=("улица-1.jpg", "улица-2.jpg", "голос.ogg", "видео.mp4", "позже.jpg"),
    ),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _send(visit: Visit, page: Any) -> tuple[str, str, list[dict[str, Any]]]:
    """Landing in the visit's language → codename → form → receipt."""
    page.goto(f"{visit.site.base_url}/?lang={visit.lang}")
    page.click("#start")
    codename = take_codename(visit, page)
    groups = fill_testimony(page, WORDS[visit.lang])
    page.click("#send")
    visit.check_page(page, "Thank you. Your testimony was received.", "receipt")
    sent = [item for items in groups.values() for item in items]
    return codename, page.locator("#reference").inner_text().strip(), sent


@pytest.mark.parametrize("lang", ["en", "uk", "ru"])
def test_a_returning_witness_sees_names_sizes_hashes_and_consent(
    browser: Any, live_site: LiveSite, tmp_path: Path, lang: str
) -> None:
    first = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    try:
        codename, reference, sent = _send(Visit(live_site, first, lang, tmp_path), first.new_page())
    finally:
        first.close()  # the browser forgets everything: only the codename is left
    fresh = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    visit = Visit(live_site, fresh, lang, tmp_path)
    try:
        page = fresh.new_page()
        page.goto(f"{live_site.base_url}/return?lang={lang}")
        visit.check_page(page, "Return with your codename", "login")
        page.fill("#codename", codename)
        page.click("#login")
        visit.check_page(page, "Your testimonies", "account-records")
        record = page.locator(f"#record-{reference}")
        rows = [
            [cell.strip() for cell in row.locator("td").all_inner_texts()]
            for row in record.locator("table.record-files tbody tr").all()
        ]
        expected = [[f["name"], hashlib.sha256(f["buffer"]).hexdigest()] for f in sent]
        assert sorted([row[0], row[2]] for row in rows) == sorted(expected)
        consent = record.locator("div.consent")
        assert visit.t("Who may receive this testimony, as you chose when you sent it:") in (
            consent.inner_text()
        )
        listed = [item.strip() for item in consent.locator("ul.recipients li").all_inner_texts()]
        # "The investigators, and also those I tick": the service's investigators come first.
        assert listed[0] == visit.t("This service's investigators")
        assert visit.t("The Office of the Prosecutor of the International Criminal Court") in listed
        # Stacked at 320 px the column headings are gone: each hash says what it is.
        page.set_viewport_size(NARROW)
        label = record.locator("td.hash .hash-label").first
        assert label.is_visible()
        assert label.inner_text().strip() == visit.t("SHA-256:")
        page.set_viewport_size(DESKTOP)
        note = page.locator("#records-note").inner_text()
        assert "90" in note
    finally:
        fresh.close()
    assert all(url.startswith(live_site.base_url) for url in visit.requests)
