"""Receipt records: what a returning witness sees of each testimony, sealed to their reply key."""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from crypto.age import open_bytes
from crypto.errors import CryptoError
from crypto.x25519 import X25519Identity
from intake.clock import utc_now
from intake.maintenance import RECORD_DAYS_AFTER_PURGE, sweep
from intake.models import Submission, SubmissionRecord, SubmissionState
from intake.web.services.records import (
    ConsentEntry,
    RecordFile,
    open_record,
    seal_consent,
    seal_files,
)
from intake.web.services.submit import NewSubmission, commit_submission
from intake.web.services.witness import Account, change_consent, login
from protocol.entries import Answers, ConsentChange
from tests.intake.web import witness_steps
from tests.intake.web.conftest import Site, form_action

VIDEO = bytes(range(256)) * 400  # 102,400 bytes
PHOTO = b"\xff\xd8 a photo of the street"
NAMES = ("вулиця-дрон.mp4", "street.jpg")


def _testify(client: FlaskClient) -> tuple[str, str]:
    files = [
        (io.BytesIO(VIDEO), NAMES[0], "video/mp4"),
        (io.BytesIO(PHOTO), NAMES[1], "image/jpeg"),
    ]
    return witness_steps.testify(client, **{"group1-files": files})


def _forget_records(site: Site) -> None:
    """Every record gone, as for submissions from before records were kept."""
    with site.services.sessions() as session:
        session.execute(delete(SubmissionRecord))
        session.commit()


def _record(site: Site, reference: str) -> SubmissionRecord:
    with site.services.sessions() as session:
        record = session.get(SubmissionRecord, reference)
        assert record is not None
        session.expunge(record)
        return record


# --- the service ---------------------------------------------------------------------------


def test_sealed_record_opens_only_with_the_reply_key() -> None:
    reply = X25519Identity.generate()
    files = [RecordFile("a.mp4", 12, "ab" * 32)]
    sealed = seal_files(str(reply.recipient()), "S", files)
    assert sealed.startswith(b"age-encryption.org/v1\n")
    assert b"a.mp4" not in sealed
    with pytest.raises(CryptoError):
        open_bytes(sealed, [X25519Identity.generate()])
    plain = open_bytes(sealed, [reply])
    assert len(plain) % 256 == 0  # padded: the length says little about the names
    entry = ConsentEntry(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), given=("icc-otp",))
    consent = seal_consent(str(reply.recipient()), "S", entry)
    record = SubmissionRecord(submission_id="S", sealed_files=sealed, sealed_consent=consent)
    opened = open_record(record, "S", reply)
    assert opened.files == tuple(files)
    assert opened.consent == entry
    assert not opened.unchecked
    stranger = open_record(record, "S", X25519Identity.generate())
    assert stranger.files is None
    assert stranger.consent is None
    assert stranger.unchecked
    assert open_record(None, "S", reply).files is None


def test_a_record_moved_to_another_row_is_not_shown_as_checked() -> None:
    reply = X25519Identity.generate()
    sealed = seal_files(str(reply.recipient()), "S", [RecordFile("a.mp4", 12, "ab" * 32)])
    moved = open_record(SubmissionRecord(submission_id="T", sealed_files=sealed), "T", reply)
    assert moved.files is None
    assert moved.unchecked


def test_commit_seals_the_record_to_the_reply_key(site: Site, client: FlaskClient) -> None:
    codename, reference = _testify(client)
    record = _record(site, reference)
    assert record.sealed_files is not None
    assert record.sealed_consent is not None
    for sealed in (record.sealed_files, record.sealed_consent):
        assert sealed.startswith(b"age-encryption.org/v1\n")
        for secret in (*NAMES, hashlib.sha256(VIDEO).hexdigest(), "icc-otp"):
            assert secret.encode() not in sealed
        with pytest.raises(CryptoError):  # the investigators' key does not open it
            open_bytes(sealed, [site.investigator])
    with site.app.app_context():
        identity = site.deriver.derive(codename).identity
    opened = open_record(record, reference, identity)
    assert opened.files == (
        RecordFile(NAMES[0], len(VIDEO), hashlib.sha256(VIDEO).hexdigest()),
        RecordFile(NAMES[1], len(PHOTO), hashlib.sha256(PHOTO).hexdigest()),
    )
    assert opened.consent is not None
    assert opened.consent.change is None
    assert opened.consent.given == ("investigators", "icc-otp")


# --- the page ------------------------------------------------------------------------------


def test_login_shows_names_plaintext_sizes_hashes_and_consent(
    site: Site, client: FlaskClient
) -> None:
    codename, reference = _testify(client)
    html = witness_steps.login(site.client(), codename)
    for name in NAMES:
        assert name in html
    assert hashlib.sha256(VIDEO).hexdigest() in html
    assert hashlib.sha256(PHOTO).hexdigest() in html
    assert "102.4 KB" in html  # the video's plaintext size, not its sealed size
    assert "Who may receive this testimony, as you chose when you sent it:" in html
    assert "The Office of the Prosecutor of the International Criminal Court" in html
    assert f"{RECORD_DAYS_AFTER_PURGE} more days" in html
    # Later pages of the session cannot open it: no key, no names.
    later = client.get("/account").get_data(as_text=True)
    assert reference in later
    assert NAMES[1] not in later
    assert "type your codename again" in later


def test_old_submission_shows_counts_sizes_and_says_details_were_not_kept(
    site: Site, client: FlaskClient
) -> None:
    codename, reference = _testify(client)
    _forget_records(site)
    html = witness_steps.login(site.client(), codename)
    assert NAMES[0] not in html
    assert "2 files" in html
    assert "File names and fingerprints were not kept for submissions sent at that time." in html


def _change_consent(browser: FlaskClient, codename: str, reference: str, **data: object) -> None:
    page = browser.get("/account/consent").get_data(as_text=True)
    response = browser.post(
        form_action(page, "consent-form"),
        data={"parent": reference, "codename": codename, "confirm": "yes", **data},
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def test_consent_change_shows_the_consent_now(site: Site, client: FlaskClient) -> None:
    codename, reference = _testify(client)
    browser = site.client()
    witness_steps.login(browser, codename)
    _change_consent(browser, codename, reference, recipients=["investigators"])
    html = witness_steps.login(site.client(), codename)
    assert "who may receive this testimony:" in html
    assert "The Office of the Prosecutor of the International Criminal Court" not in html
    assert NAMES[0] in html  # the files' record is untouched
    _change_consent(browser, codename, reference, withdraw="y")
    html = witness_steps.login(site.client(), codename)
    assert "You withdrew your consent for this testimony on" in html


def _at(monkeypatch: pytest.MonkeyPatch, minutes: int) -> None:
    """Submissions committed from now on are received `minutes` after a fixed moment."""
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    monkeypatch.setattr("intake.web.services.submit.utc_now", lambda: moment)


@dataclass(frozen=True)
class OneTestimony:
    """A witness who sent one testimony (received at the fixed moment's minute 0)."""

    codename: str
    reference: str
    account: Account


@pytest.fixture
def testimony(site: Site, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> OneTestimony:
    _at(monkeypatch, 0)
    codename, reference = _testify(client)
    return OneTestimony(codename, reference, _account(site, codename))


def _account(site: Site, codename: str) -> Account:
    with site.app.app_context():
        account = login(site.ctx, codename)
    assert account is not None
    return account


def _change(site: Site, account: Account, parent: str, change: ConsentChange) -> None:
    with site.app.app_context():
        change_consent(
            site.ctx,
            account,
            parent_id=parent,
            change=change,
            language="en",
            form_token=secrets.token_urlsafe(16),
        )


def _second_testimony(site: Site, account: Account) -> str:
    new = NewSubmission(
        kind="testimony",
        answers=Answers.parse({"A3": True, "A4": ["investigators", "icc-otp"], "B1": "Again."}),
        ui_language="en",
        reply_recipient=account.reply_recipient,
        form_token=secrets.token_urlsafe(16),
        witness_id=account.witness_id,
    )
    with site.app.app_context():
        return commit_submission(site.ctx, new, fresh=())


def _consent_of(site: Site, codename: str, reference: str) -> str:
    html = witness_steps.login(site.client(), codename)
    row = html.index(f'id="record-{reference}"')
    ends = [html.find(end, row) for end in ('<tr id="submission-', "</section>")]
    return html[row : min(end for end in ends if end > 0)]


def test_a_narrow_after_a_withdrawal_leaves_it_withdrawn(
    site: Site, testimony: OneTestimony, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, reference = testimony.account, testimony.reference
    _at(monkeypatch, 1)
    _change(site, account, reference, ConsentChange("withdraw"))
    _at(monkeypatch, 2)
    _change(site, account, reference, ConsentChange("narrow", ("publication-anonymised",)))
    shown = _consent_of(site, testimony.codename, reference)
    assert "You withdrew your consent for this testimony on" in shown
    assert "Publication in anonymised form" not in shown


def test_a_narrow_to_a_class_never_chosen_leaves_only_the_services_investigators(
    site: Site, testimony: OneTestimony, monkeypatch: pytest.MonkeyPatch
) -> None:
    _at(monkeypatch, 1)
    narrowed = ConsentChange("narrow", ("publication-anonymised",))
    _change(site, testimony.account, testimony.reference, narrowed)
    shown = _consent_of(site, testimony.codename, testimony.reference)
    assert "This service's investigators only" in shown
    assert "Publication in anonymised form" not in shown


def test_a_change_reaches_every_testimony_sent_before_it(
    site: Site, testimony: OneTestimony, monkeypatch: pytest.MonkeyPatch
) -> None:
    codename, first, account = testimony.codename, testimony.reference, testimony.account
    _at(monkeypatch, 1)
    second = _second_testimony(site, account)
    _at(monkeypatch, 2)
    _change(site, account, first, ConsentChange("narrow", ("icc-otp",)))
    _at(monkeypatch, 3)
    third = _second_testimony(site, account)
    for reference in (first, second):
        shown = _consent_of(site, codename, reference)
        assert "who may receive this testimony:" in shown
        assert "<li>The Office of the Prosecutor of the International Criminal Court</li>" in shown
        assert "This service&#39;s investigators only" not in shown
    shown = _consent_of(site, codename, third)
    assert "as you chose when you sent it" in shown


def test_a_record_moved_between_rows_could_not_be_checked(
    site: Site, testimony: OneTestimony
) -> None:
    other = _second_testimony(site, testimony.account)
    with site.services.sessions() as session:
        mine = session.get(SubmissionRecord, testimony.reference)
        theirs = session.get(SubmissionRecord, other)
        assert mine is not None
        assert theirs is not None
        theirs.sealed_files, theirs.sealed_consent = mine.sealed_files, mine.sealed_consent
        session.commit()
    shown = _consent_of(site, testimony.codename, other)
    assert "could not be checked" in shown
    assert NAMES[0] not in shown
    assert "Who may receive" not in shown


def test_an_old_testimony_shows_only_a_withdrawal(site: Site, client: FlaskClient) -> None:
    codename, reference = _testify(client)
    _forget_records(site)
    browser = site.client()
    witness_steps.login(browser, codename)
    _change_consent(browser, codename, reference, recipients=["investigators"])
    html = witness_steps.login(site.client(), codename)
    assert "who may receive this testimony" not in html  # its consent as given is unknown
    _change_consent(browser, codename, reference, withdraw="y")
    html = witness_steps.login(site.client(), codename)
    assert "You withdrew your consent" in html
    assert "were not kept for submissions sent at that time" in html


def test_later_pages_say_the_size_is_on_our_server(site: Site, client: FlaskClient) -> None:
    _testify(client)
    later = client.get("/account").get_data(as_text=True)
    assert "2 files," in later
    assert "on our server" in later


def test_a_testimony_without_files_says_nothing_of_deleted_names(
    site: Site, client: FlaskClient
) -> None:
    codename, _reference = witness_steps.testify(client)
    html = witness_steps.login(site.client(), codename)
    assert "0 files" in html
    assert "fingerprints" not in html.split('id="submissions"')[1]


def _purge(site: Site, reference: str, on: date) -> None:
    with site.services.sessions() as session:
        row = session.get(Submission, reference)
        assert row is not None
        row.blobs.clear()
        row.state = SubmissionState.PURGED
        row.purged_on = on
        session.commit()


def test_records_outlive_a_purge_for_their_days_then_the_sweep_removes_them(
    site: Site, client: FlaskClient
) -> None:
    codename, reference = _testify(client)
    today = utc_now().date()
    _purge(site, reference, today - timedelta(days=RECORD_DAYS_AFTER_PURGE))
    assert sweep(site.services.sessions, site.services.store).records_expired == 0
    html = witness_steps.login(site.client(), codename)
    assert "Delivered to investigators" in html
    assert NAMES[0] in html
    assert "This list is kept until" in html
    _purge(site, reference, today - timedelta(days=RECORD_DAYS_AFTER_PURGE + 1))
    assert sweep(site.services.sessions, site.services.store).records_expired == 1
    with site.services.sessions() as session:
        assert session.scalars(select(SubmissionRecord)).all() == []
    html = witness_steps.login(site.client(), codename)
    assert NAMES[0] not in html
    assert "2 files" in html
    assert "The names and fingerprints of these files were deleted after" in html


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("uk", "Хто може отримати"),
        ("ru", "Кто может получить"),
    ],
)
def test_the_records_are_shown_in_every_language(
    site: Site, client: FlaskClient, lang: str, sentence: str
) -> None:
    codename, _reference = _testify(client)
    browser = site.client()
    browser.get(f"/return?lang={lang}")
    html = witness_steps.login(browser, codename)
    assert NAMES[0] in html
    assert hashlib.sha256(VIDEO).hexdigest() in html
    assert sentence in html


def test_a_consent_change_record_stays_while_its_witness_has_another(
    site: Site, testimony: OneTestimony
) -> None:
    codename, reference = testimony.codename, testimony.reference
    _change(site, testimony.account, reference, ConsentChange("withdraw"))
    with site.services.sessions() as session:
        change = session.scalar(select(Submission).where(Submission.kind == "consent_change"))
        assert change is not None
        change_id = change.id
    long_ago = utc_now().date() - timedelta(days=RECORD_DAYS_AFTER_PURGE + 1)
    _purge(site, change_id, long_ago)
    assert sweep(site.services.sessions, site.services.store).records_expired == 0
    assert "You withdrew your consent" in _consent_of(site, codename, reference)
    _purge(site, reference, long_ago)
    assert sweep(site.services.sessions, site.services.store).records_expired == 2
