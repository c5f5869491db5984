"""Issue F's proof in a real browser (Debian's Chromium, JavaScript off), in English, Ukrainian
and Russian: what arrived is never lost.

Chromium reaches a real gunicorn through a loopback proxy (tests/reliability/proxy.py) that
stops the browser's own multipart body a chosen number of bytes after a file part's name, and
then cuts the connection. A cut inside the first file keeps every typed answer (the form comes
back filled in on GET); a cut after two of three files keeps both, and the witness, back with
the codename in a fresh browser context, sees them and sends only the third, ending with one
testimony of three files that the real `age` opens to the bytes sent (and a reload of the
receipt shows it again); a gunicorn worker SIGKILLed in the third file keeps the two whole
ones too. A canary in the typed answers and in every file's bytes is never in clear on disk
(data directory, the server's temporary directory, its log) nor in any file the server's
processes hold open while they work (the /proc/PID/fd watch of test_gunicorn_upload).

The busy key derivation is proved against the app served in this process (werkzeug's threaded
server), the one place a test can hold every KDF slot: the witness's testimony still commits
(the commit derives nothing), and a login or a new codename gets the translated busy page.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from intake.models import Submission, Witness
from tests.e2e.chromium import BROWSER_MARKS
from tests.e2e.conftest import LiveSite, serve
from tests.e2e.test_browser import (
    DESKTOP,
    TEXT,
    Files,
    Visit,
    Words,
    answer_questions,
    assert_stored_exactly,
    receipt_hashes,
    take_codename,
)
from tests.e2e.test_gunicorn_upload import OpenFileWatch, files_containing
from tests.reliability.harness import Grep
from tests.reliability.inprocess import Site, site_at
from tests.reliability.live import WORKERS, pids_holding
from tests.reliability.proxy import TcpProxy

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = BROWSER_MARKS

LANGS = ["en", "uk", "ru"]
FILE_BYTES = 200_000
INTO_FILE = FILE_BYTES // 2  # where a cut lands, counted from the file part's name
WAIT_SECONDS = 60  # generous: a loaded CI machine runs Chromium, gunicorn and age at once


@dataclass(frozen=True)
class Cuttable:
    """A served site seen through the proxy; the canary stamped into what the witness sends."""

    site: LiveSite  # its base_url is the proxy's
    proxy: TcpProxy
    server_tmp: Path
    canary: str
    watch: OpenFileWatch

    def watched_a_temp_file(self) -> bool:
        """Whether the watch has looked into an upload's temporary file (the sealed bytes)."""
        return any(Path(target).parent == self.site.temp_dir for target in self.watch.seen)


@pytest.fixture
def cuttable(tmp_path: Path) -> Iterator[Cuttable]:
    """gunicorn with a temporary directory of its own, behind the proxy, watched through /proc."""
    server_tmp = tmp_path / "server-tmp"
    server_tmp.mkdir()
    with serve(tmp_path, extra_env={"TMPDIR": str(server_tmp)}) as site:
        proxy = TcpProxy(("127.0.0.1", site.port))
        proxy.restore()
        canary = f"CANARY-{secrets.token_hex(8)}"
        watch = OpenFileWatch(site, canary.encode(), [site.process.pid, *site.workers()])
        stop = threading.Event()
        watcher = threading.Thread(target=watch_every_worker, args=(site, watch, stop), daemon=True)
        watcher.start()
        try:
            seen = dataclasses.replace(site, base_url=f"http://127.0.0.1:{proxy.port}")
            yield Cuttable(seen, proxy, server_tmp, canary, watch)
        finally:
            stop.set()
            watcher.join(timeout=30)
            proxy.cut()
    # After the server stopped: nothing it wrote holds the canary in clear.
    assert any(Path(t).parent == site.temp_dir for t in watch.seen), sorted(watch.seen)
    assert watch.hits == set()
    assert watch.refused == set()
    for root in (site.data_dir, server_tmp):
        assert files_containing(root, canary.encode()) == []
    assert canary not in site.log.read_text()


def watch_every_worker(site: LiveSite, watch: OpenFileWatch, stop: threading.Event) -> None:
    """OpenFileWatch.run, but a worker gunicorn starts (one replacing a killed worker) joins
    the watch at the next look, before it can take a request."""
    while not stop.is_set():
        watch.pids.extend(set(site.workers()) - set(watch.pids))
        watch.look()
        time.sleep(0.02)


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def error_page_shown(page: Any) -> bool:
    """Whether the browser shows its own network error page (its POST failed for good)."""
    page.wait_for_timeout(50)  # the sync API takes in the browser's events only in a call
    return str(page.url).startswith("chrome-error://")


def stamped(name: str, canary: str, mime: str = "video/mp4") -> dict[str, Any]:
    """A file for <input type=file>: random bytes with the canary stamped every 4 KiB."""
    content = bytearray(secrets.token_bytes(FILE_BYTES))
    for offset in range(0, FILE_BYTES - len(canary), 4096):
        content[offset : offset + len(canary)] = canary.encode()
    return {"name": name, "mimeType": mime, "buffer": bytes(content)}


def open_form(visit: Visit, page: Any) -> str:
    """Landing in the visit's language (in the URL), the codename step, the form."""
    page.goto(f"{visit.site.base_url}/start?lang={visit.lang}")
    codename = take_codename(visit, page)
    visit.check_page(page, "Your testimony", "form")
    return codename


def answer(page: Any, words: Words, canary: str) -> None:
    """Every answer the witness types, the canary in the free text."""
    answer_questions(page, f"{words.account} {canary}")
    page.fill("#settlement", f"Izium {canary}")


def assert_answers_back(page: Any, words: Words, canary: str) -> None:
    """The form came back with every answer typed before the cut."""
    assert page.input_value("#account") == f"{words.account} {canary}"
    assert page.input_value("#settlement") == f"Izium {canary}"
    assert page.input_value("#source") == "saw"
    assert page.input_value("#oblast") == "UA-32"
    for box in ("#consent", "#recipients-more", "#recipients-2"):
        assert page.is_checked(box), box


def part_of(file_name: str) -> bytes:
    """Where a file part begins in the browser's multipart body."""
    return f'filename="{file_name}"'.encode()


def send_cut(
    cut: Cuttable, page: Any, file_name: str, kept: Callable[[], bool], what: str
) -> Callable[[], None]:
    """Send the form; the proxy holds the body INTO_FILE bytes after `file_name`'s part began,
    until `kept()` and the watch has read the temporary file the part is sealed into (open
    while the body is held); returns what cuts the connection (call it after anything else)."""
    tripped = cut.proxy.hold_after(part_of(file_name), INTO_FILE)
    page.click("#send", no_wait_after=True)
    assert tripped.wait(WAIT_SECONDS), "the browser's body never reached the cut"
    until(kept, what)
    until(cut.watched_a_temp_file, "the watch never saw the part's temporary file")

    def cut_now() -> None:
        cut.proxy.cut()
        # The browser shows its own error page (the proxy is not listening, so a retry of the
        # POST fails too); only then may the witness reach the site again.
        until(lambda: error_page_shown(page), "no error page in the browser")
        cut.proxy.restore()

    return cut_now


def open_form_again(visit: Visit, page: Any) -> None:
    """What the reload notice says to do after a failure: open the form again (a GET)."""
    page.goto(f"{visit.site.base_url}/testimony?lang={visit.lang}")
    visit.check_page(page, "Your testimony", "form-again")
    assert page.locator("#reload-notice").count() == 1


def assert_kept(page: Any, files: list[dict[str, Any]]) -> None:
    """The form says what it already has: each file's name, size and SHA-256 (the size in
    bytes in the <data> element's value, in words for people in its text)."""
    items = page.locator("#kept-list li")
    assert items.count() == len(files)
    shown = []
    for item in items.all():
        size = item.locator(".kept-size")
        assert size.inner_text().strip()
        shown.append(
            (
                item.locator(".kept-name").inner_text(),
                int(size.get_attribute("value")),
                item.locator(".kept-sha256").inner_text(),
            )
        )
    sent = [(f["name"], len(f["buffer"]), hashlib.sha256(f["buffer"]).hexdigest()) for f in files]
    assert sorted(shown) == sorted(sent)


def send_the_rest(
    visit: Visit, page: Any, third: dict[str, Any], sent: Files, codename: str | None
) -> str:
    """Only the missing file; the receipt lists all, and again after a reload (same session),
    with the codename if this session issued it (one typed at login is not shown back)."""
    page.set_input_files("#group3-files", [third])
    page.click("#send")
    hashes = sorted(hashlib.sha256(f["buffer"]).hexdigest() for fs in sent.values() for f in fs)
    for shown in ("receipt", "receipt-reloaded"):
        if shown != "receipt":
            page.reload()
        visit.check_page(page, "Thank you. Your testimony was received.", shown)
        assert sorted(receipt_hashes(page)) == hashes
        names = page.locator("#received-files").inner_text()
        assert all(f["name"] in names for fs in sent.values() for f in fs)
        codenames = [c.strip() for c in page.locator("#codename").all_inner_texts()]
        assert codenames == ([codename] if codename else [])
    return str(page.locator("#reference").inner_text().strip())


def assert_one_testimony(cut: Cuttable, reference: str, sent: Files, workdir: Path) -> None:
    """One testimony holds every file; the real `age` opens each to the bytes sent."""
    site = cut.site
    assert site.count("submission") == 1
    assert site.count("pending_draft") == site.count("draft_blob") == 0
    assert_stored_exactly(site, reference, sent)
    for entry in site.submission(reference).files:
        opened = site.open_with_age(entry.blob_name, workdir)
        assert hashlib.sha256(opened).hexdigest() == entry.plaintext_sha256


def three_files(page: Any, words: Words, canary: str) -> Files:
    files = {n: [stamped(words.files[n - 1], canary)] for n in (1, 2, 3)}
    for number, chosen in files.items():
        page.set_input_files(f"#group{number}-files", chosen)
    return files


@contextmanager
def visiting(browser: Any, cut: Cuttable, lang: str) -> Iterator[tuple[Visit, Any]]:
    """A fresh browser context (Tor Browser's "New Identity") in `lang` and a page of it; the
    context is closed at the end."""
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    try:
        yield Visit(cut.site, context, lang, None), context.new_page()
    finally:
        context.close()


def filled_in(visit: Visit, page: Any, cut: Cuttable) -> tuple[str, Files]:
    """The form opened, every answer typed and three files chosen: the codename, the files."""
    words = TEXT[visit.lang]
    codename = open_form(visit, page)
    answer(page, words, cut.canary)
    return codename, three_files(page, words, cut.canary)


def discarded(site: LiveSite) -> None:
    until(lambda: not list(site.temp_dir.iterdir()), "the cut-off file was not discarded")


def resume(visit: Visit, page: Any, cut: Cuttable, sent: Files, codename: str | None) -> str:
    """The form back with the two whole files and every answer; only the third is sent."""
    assert_kept(page, sent[1] + sent[2])
    assert_answers_back(page, TEXT[visit.lang], cut.canary)
    return send_the_rest(visit, page, sent[3][0], sent, codename)


def kill_the_receiving_worker(cut: Cuttable, third: str, cut_now: Callable[[], None]) -> None:
    """SIGKILL the one worker sealing the third file's part, then cut the held connection; back
    once gunicorn has replaced the worker and the watch follows the replacement."""
    site = cut.site
    (temp,) = site.temp_dir.iterdir()
    (victim,) = pids_holding(site.workers(), temp)
    # Chromium resends a POST by itself when its connection dies before any answer: the resend
    # (if it comes) is held at the same place, its two first files already kept.
    cut.proxy.hold_after(part_of(third), INTO_FILE)
    os.kill(victim, signal.SIGKILL)
    until(lambda: victim not in site.workers(), "the worker outlived SIGKILL")
    cut_now()
    cut.proxy.disarm()
    # What the dead worker was sealing stays behind as ciphertext, for the sweep.
    only_the_dead = lambda: [p.name for p in site.temp_dir.iterdir()] == [temp.name]  # noqa: E731
    until(only_the_dead, "a resent part was left behind")
    until(lambda: len(site.workers()) == WORKERS, "gunicorn did not replace the killed worker")
    # The watch adds each new worker as it looks (watch_every_worker): the replacement too.
    until(lambda: set(site.workers()) <= set(cut.watch.pids), "the new worker unwatched")


@pytest.mark.parametrize("lang", LANGS)
def test_a_cut_inside_the_first_file_keeps_every_answer(
    browser: Any, cuttable: Cuttable, tmp_path: Path, lang: str
) -> None:
    words, site = TEXT[lang], cuttable.site
    with visiting(browser, cuttable, lang) as (visit, page):
        open_form(visit, page)
        answer(page, words, cuttable.canary)
        page.set_input_files("#group1-files", [stamped(words.files[0], cuttable.canary)])
        answers_kept = lambda: site.count("pending_draft", "sealed_answers IS NOT NULL") == 1  # noqa: E731
        send_cut(cuttable, page, words.files[0], answers_kept, "the answers were not kept")()
        discarded(site)
        open_form_again(visit, page)
        assert_answers_back(page, words, cuttable.canary)
        assert page.locator("#kept-files").count() == 0  # the cut file is not claimed as kept
    assert site.count("draft_blob") == site.count("submission") == 0


@pytest.mark.parametrize("lang", LANGS)
def test_a_cut_after_two_of_three_files_resumes_with_the_codename_in_a_fresh_context(
    browser: Any, cuttable: Cuttable, tmp_path: Path, lang: str
) -> None:
    words, site = TEXT[lang], cuttable.site
    with visiting(browser, cuttable, lang) as (first, page):
        codename, sent = filled_in(first, page, cuttable)
        two_kept = lambda: site.count("draft_blob") == 2  # noqa: E731
        send_cut(cuttable, page, words.files[2], two_kept, "the two whole files were not kept")()
    discarded(site)
    assert site.count("submission") == 0

    with visiting(browser, cuttable, lang) as (back, page):  # "New Identity"
        page.goto(f"{site.base_url}/return?lang={lang}")
        back.check_page(page, "Return with your codename", "login")
        page.fill("#codename", codename)
        page.click("#login")
        back.check_page(page, "Your testimonies", "account")
        page.click("#continue-link")
        back.check_page(page, "Your testimony", "form-again")
        reference = resume(back, page, cuttable, sent, None)
    assert_one_testimony(cuttable, reference, sent, tmp_path)
    assert site.submission(reference).ui_language == lang


@pytest.mark.parametrize("lang", LANGS)
def test_a_worker_killed_in_the_third_file_keeps_the_two_whole_ones(
    browser: Any, cuttable: Cuttable, tmp_path: Path, lang: str
) -> None:
    words, site = TEXT[lang], cuttable.site
    with visiting(browser, cuttable, lang) as (visit, page):
        codename, sent = filled_in(visit, page, cuttable)

        def receiving_third() -> bool:
            return site.count("draft_blob") == 2 and len(list(site.temp_dir.iterdir())) == 1

        cut_now = send_cut(cuttable, page, words.files[2], receiving_third, "no third file")
        kill_the_receiving_worker(cuttable, words.files[2], cut_now)
        open_form_again(visit, page)
        reference = resume(visit, page, cuttable, sent, codename)
    assert_one_testimony(cuttable, reference, sent, tmp_path)


@dataclass(frozen=True)
class InProcess:
    """The app served by werkzeug's threaded server in this process, at `base_url`."""

    site: Site
    base_url: str

    def count(self, table: type[Submission] | type[Witness]) -> int:
        with self.site.services.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(table)) or 0)

    @contextmanager
    def every_derivation_slot_busy(self) -> Iterator[None]:
        """Hold every KDF slot of the app; a witness then waits a moment, not 30 s."""
        deriver = self.site.ctx.deriver
        held = 0
        while deriver.slots.acquire(blocking=False):
            held += 1
        waited, deriver.wait_seconds = deriver.wait_seconds, 0.2
        try:
            assert held >= 1
            yield
        finally:
            deriver.wait_seconds = waited
            for _ in range(held):
                deriver.slots.release()


@pytest.fixture
def in_process(tmp_path: Path) -> Iterator[InProcess]:
    with site_at(tmp_path) as site:
        server = make_server("127.0.0.1", 0, site.app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield InProcess(site, f"http://127.0.0.1:{server.server_port}")
        finally:
            server.shutdown()
            thread.join(timeout=30)


def log_in(visit: Visit, page: Any, codename: str) -> int:
    """Back with the codename; the status the login POST was answered with."""
    page.goto(f"{visit.site.base_url}/return?lang={visit.lang}")
    page.fill("#codename", codename)
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.click("#login")
    return int(answer.value.status)


@pytest.mark.parametrize("lang", LANGS)
def test_a_busy_derivation_gets_a_translated_page_and_loses_nothing(
    browser: Any, in_process: InProcess, tmp_path: Path, lang: str
) -> None:
    canary = f"CANARY-{secrets.token_hex(8)}"
    words = TEXT[lang]
    contexts = [browser.new_context(java_script_enabled=False, viewport=DESKTOP) for _ in "ab"]
    witness, back = (Visit(in_process, c, lang, None) for c in contexts)
    try:
        page = witness.context.new_page()
        codename = open_form(witness, page)
        answer(page, words, canary)
        chosen = stamped(words.files[0], canary)
        page.set_input_files("#group1-files", [chosen])
        with in_process.every_derivation_slot_busy():
            page.click("#send")  # the commit derives nothing: the testimony lands all the same
            witness.check_page(page, "Thank you. Your testimony was received.", "receipt")
            assert receipt_hashes(page) == [hashlib.sha256(chosen["buffer"]).hexdigest()]
            reference = page.locator("#reference").inner_text().strip()

            again = back.context.new_page()
            assert log_in(back, again, codename) == 503
            back.check_page(again, "We are very busy right now", "busy-login")
            again.goto(f"{in_process.base_url}/start?lang={lang}")
            again.click("#get-codename")
            back.check_page(again, "We are very busy right now", "busy-start")
            assert in_process.count(Witness) == in_process.count(Submission) == 1
        assert log_in(back, again, codename) == 200
        back.check_page(again, "Your testimonies", "account")
        assert again.locator(f"#submission-{reference}").count() == 1
    finally:
        for context in contexts:
            context.close()
    assert Grep(canary.encode()).hits(tmp_path) == []
