"""The testimony form end to end: receipt, rows, sealed blobs, drafts, limits, one-time tokens."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import stream_encode_multipart

from crypto.errors import CryptoError
from crypto.keyfile import fingerprint
from intake.diskguard import HEADROOM_BYTES
from intake.models import Blob, BlobRecipient, BlobRole, DraftBlob, FormToken, PendingDraft, Witness
from intake.models import Submission as SubmissionRow
from intake.web import upload as upload_module
from intake.web.services import testimony as service
from protocol.schema import Submission
from tests.intake.keyring_admin import admin
from tests.intake.web.conftest import (
    Site,
    add_investigator,
    codename_of,
    form_action,
    make_site,
    minimal_testimony,
    open_testimony_form,
    post_multipart,
    query_of,
    reference_of,
    start_witness,
)

PHOTO = bytes(range(256)) * 400  # 100 KiB
VIDEO = b"\x00\x01video-frame" * 50_000  # ~650 KB: over Werkzeug's 500 KB spool threshold
NOTE = "A note in the file: щоденник".encode()


def _action(client: FlaskClient, path: str = "/testimony", form_id: str = "testimony-form") -> str:
    response = start_witness(client)[1] if path == "/testimony" else client.get(path)
    assert response.status_code == 200
    return form_action(response.get_data(as_text=True), form_id)


def _post(client: FlaskClient, action: str, data: dict[str, Any]) -> Any:
    return post_multipart(client, action, data)


def _count(site: Site, model: Any) -> int:
    with site.services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _files(*items: tuple[bytes, str, str]) -> list[tuple[io.BytesIO, str, str]]:
    return [(io.BytesIO(data), name, kind) for data, name, kind in items]


def _manifest(site: Site, reference: str) -> Submission:
    with site.services.sessions() as session:
        row = session.get(SubmissionRow, reference)
        assert row is not None
        return Submission.from_json(site.open_blob(row.manifest_blob))


def test_landing_and_form_render(client: FlaskClient) -> None:
    landing = client.get("/").get_data(as_text=True)
    assert "Start your testimony" in landing
    page = open_testimony_form(client)
    assert page.index('id="leave-site"') < page.index("<main")
    for field in ('name="consent"', 'name="account"', 'name="group1-files"', 'name="group3-files"'):
        assert field in page
    assert 'type="month"' not in page
    assert 'type="week"' not in page
    assert page.count(" multiple") >= 3
    assert re.search(r'<textarea[^>]* name="account" required', page)
    assert re.search(r'<input id="consent" name="consent" required type="checkbox"', page)
    assert page.count(" required") == 2  # browser-native checks: only A3 and B1
    query = query_of(form_action(page, "testimony-form"))
    assert set(query) == {"csrf", "once"}


def test_testimony_with_files_in_two_groups(site: Site, client: FlaskClient) -> None:
    data = minimal_testimony(
        incident_types=["torture", "detention-disappearance"],
        oblast="UA-63",
        event_date="2024-03-05",
        date_precision="month",
        time_from="12:05",
        coordinates="49.99, 36.23",
        call_signs="Gnom\nBelka",
        victims_min="2",
        victims_max="5",
        **{"group1-shows": "The yard after the shelling", "group1-graphic": "yes"},
        **{"group2-shows": "A note", "group2-recorded_by": "me"},
    )
    data["group1-files"] = _files(
        (PHOTO, "yard.jpg", "image/jpeg"), (VIDEO, "yard.mp4", "video/mp4")
    )
    data["group2-files"] = _files((NOTE, "note.txt", "text/plain"))
    data["group3-files"] = _files((b"", "", "application/octet-stream"))  # an empty input
    response = _post(client, _action(client), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    codename = codename_of(html)
    assert len(codename.split()) == 9  # English: 9 words of 2048
    assert "Capital letters and spaces do not matter." in html
    for content in (PHOTO, VIDEO, NOTE):
        assert hashlib.sha256(content).hexdigest() in html
    reference = reference_of(html)

    doc = _manifest(site, reference)
    assert doc.kind == "testimony"
    assert doc.ui_language == "en"
    assert doc.parent_id is None
    answers = doc.answers.values
    assert answers["A3"] is True
    assert answers["B1"] == data["account"]
    assert answers["B4_date"] == "2024-03"
    assert answers["B5_timezone"] == "Europe/Kyiv"
    assert answers["B6_lat"] == 49.99
    assert answers["B8_callsigns"] == ("Gnom", "Belka")
    assert answers["D0"] is False
    assert answers["D3"] is False
    assert "D7" not in answers
    by_name = {entry.original_name: entry for entry in doc.files}
    assert set(by_name) == {"yard.jpg", "yard.mp4", "note.txt"}
    assert by_name["yard.mp4"].group == 1
    assert by_name["note.txt"].group == 2
    assert by_name["yard.jpg"].group_answers.values["C10"] == "yes"
    assert by_name["note.txt"].group_answers.values["C3"] == "me"
    for entry, content in ((by_name["yard.jpg"], PHOTO), (by_name["yard.mp4"], VIDEO)):
        raw = site.raw_blob(entry.blob_name)
        assert content[:1000] not in raw  # ciphertext at rest
        assert hashlib.sha256(raw).hexdigest() == entry.sealed_sha256
        assert site.open_blob(entry.blob_name) == content
        assert entry.plaintext_sha256 == hashlib.sha256(content).hexdigest()
        assert entry.size == len(content)

    with site.services.sessions() as session:
        row = session.get(SubmissionRow, reference)
        assert row is not None
        assert row.file_count == 3
        assert row.kind == "testimony"
        blobs = session.scalars(select(Blob).where(Blob.submission_id == reference)).all()
        assert sorted(b.role for b in blobs).count(BlobRole.FILE) == 3
        assert {r.fingerprint for b in blobs for r in b.recipients} == set(
            site.services.keyring.active_fingerprints()
        )
        witness = session.get(Witness, row.witness_id)
        assert witness is not None
        assert witness.reply_recipient == doc.witness_reply_recipient
    assert _count(site, FormToken) == 1
    assert list(site.services.store.temp_dir.iterdir()) == []  # type: ignore[attr-defined]
    assert site.deriver.calls == 1


def test_refresh_or_double_click_submits_once(site: Site, client: FlaskClient) -> None:
    action = _action(client)
    first = _post(client, action, minimal_testimony())
    assert first.status_code == 200
    again = _post(client, action, minimal_testimony())
    assert again.status_code == 409
    assert "already received" in again.get_data(as_text=True)
    assert _count(site, SubmissionRow) == 1
    assert site.deriver.calls == 1


def test_bad_csrf_is_refused_before_the_body_is_read(
    site: Site, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    original = upload_module.UploadSession.open_part

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append("file")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(upload_module.UploadSession, "open_part", spy)
    action = _action(client)
    query = query_of(action)
    data = minimal_testimony()
    data["group1-files"] = _files((PHOTO, "a.jpg", "image/jpeg"))
    for bad in (f"/testimony?once={query['once']}", f"/testimony?csrf=forged&once={query['once']}"):
        data["group1-files"] = _files((PHOTO, "a.jpg", "image/jpeg"))
        response = _post(client, bad, data)
        assert response.status_code == 400
        assert "expired" in response.get_data(as_text=True)
    other = site.client()  # another browser's session: the token is not theirs
    data["group1-files"] = _files((PHOTO, "a.jpg", "image/jpeg"))
    assert _post(other, action, data).status_code == 400
    assert opened == []
    assert _count(site, SubmissionRow) == 0
    data["group1-files"] = _files((PHOTO, "a.jpg", "image/jpeg"))
    assert _post(client, action, data).status_code == 200
    assert opened == ["file"]


def test_error_keeps_answers_and_whole_files_in_a_draft(site: Site, client: FlaskClient) -> None:
    data = minimal_testimony(account="", settlement="Izium")  # B1 missing
    data["group1-files"] = _files((VIDEO, "long.mp4", "video/mp4"), (NOTE, "n.txt", "text/plain"))
    response = _post(client, _action(client), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="error-summary"' in html
    assert "Please describe what happened." in html
    assert 'value="Izium"' in html
    assert "We kept 2 files" in html
    assert "long.mp4" in html
    assert _count(site, PendingDraft) == 1
    assert _count(site, DraftBlob) == 2
    assert _count(site, SubmissionRow) == 0
    action = form_action(html, "testimony-form")
    assert "draft" not in query_of(action)  # the draft is the witness's, not the URL's

    again = minimal_testimony(settlement="Izium")
    again["group2-files"] = _files((PHOTO, "third.jpg", "image/jpeg"))
    receipt = _post(client, action, again)
    text = receipt.get_data(as_text=True)
    assert receipt.status_code == 200, text
    doc = _manifest(site, reference_of(text))
    assert sorted(f.original_name for f in doc.files) == ["long.mp4", "n.txt", "third.jpg"]
    for entry in doc.files:
        content = {"long.mp4": VIDEO, "n.txt": NOTE, "third.jpg": PHOTO}[entry.original_name]
        assert site.open_blob(entry.blob_name) == content
    assert _count(site, PendingDraft) == 0
    assert _count(site, DraftBlob) == 0
    assert _count(site, Blob) == 4


def test_a_testimony_with_the_old_trap_filled_is_kept(site: Site, client: FlaskClient) -> None:
    # The bot trap is at the codename step now: nothing a person types or sends in the
    # testimony form can be thrown away behind a fake receipt, whatever autofill puts in it.
    page = open_testimony_form(client)
    assert 'name="website"' not in page
    data = minimal_testimony(website="http://autofilled.example")
    data["group1-files"] = _files((PHOTO, "photo.jpg", "image/jpeg"))
    response = _post(client, form_action(page, "testimony-form"), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    with site.services.sessions() as session:
        row = session.get(SubmissionRow, reference_of(html))
        assert row is not None
        doc = Submission.from_json(site.open_blob(row.manifest_blob))
    assert doc.answers.values["B1"] == data["account"]
    assert site.open_blob(doc.files[0].blob_name) == PHOTO


def test_too_many_files_keeps_the_first_ones(tmp_path: Any, db_url: str) -> None:
    site = make_site(tmp_path, db_url, max_files=2)
    client = site.client()
    data = minimal_testimony()
    data["group1-files"] = _files(*((bytes([i]) * 1000, f"f{i}.bin", "x/y") for i in range(3)))
    response = _post(client, _action(client), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "more files than one submission can take (2)" in html
    assert "We kept 2 files" in html
    assert _count(site, DraftBlob) == 2
    site.services.engine.dispose()


def test_request_over_the_size_limit_is_refused_unread(tmp_path: Any, db_url: str) -> None:
    site = make_site(tmp_path, db_url, max_request_bytes=200_000)
    client = site.client()
    data = minimal_testimony()
    data["group1-files"] = _files((VIDEO, "big.mp4", "video/mp4"))
    response = _post(client, _action(client), data)
    assert response.status_code == 413
    assert "Nothing of it was stored" in response.get_data(as_text=True) or (
        "nothing of it was stored" in response.get_data(as_text=True)
    )
    assert list(site.services.store.temp_dir.iterdir()) == []  # type: ignore[attr-defined]
    assert _count(site, SubmissionRow) == 0
    site.services.engine.dispose()


def test_keyring_rotated_during_upload_reseals_to_the_new_keys(
    site: Site, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_identity: list[Any] = []
    settle = service._settle

    def settle_then_rotate(*args: Any, **kwargs: Any) -> Any:
        settled = settle(*args, **kwargs)
        fresh = add_investigator(site.services, name="Successor")
        old = site.services.keyring.active_fingerprints()
        admin(site.services).retire(next(fp for fp in old if fp != _fp(fresh)), force=True)
        new_identity.append(fresh)
        return settled

    monkeypatch.setattr(service, "_settle", settle_then_rotate)
    data = minimal_testimony()
    data["group1-files"] = _files((VIDEO, "v.mp4", "video/mp4"))
    response = _post(client, _action(client), data)
    assert response.status_code == 200, response.get_data(as_text=True)
    successor = new_identity[0]
    reference = reference_of(response.get_data(as_text=True))
    with site.services.sessions() as session:
        blobs = session.scalars(select(Blob).where(Blob.submission_id == reference)).all()
        fingerprints = set(session.scalars(select(BlobRecipient.fingerprint)))
    assert fingerprints == {_fp(successor)}
    for blob in blobs:
        assert site.open_blob(blob.name, successor)
        with pytest.raises(CryptoError):
            site.open_blob(blob.name)  # the retired key no longer opens new testimony
        raw = site.raw_blob(blob.name)
        assert hashlib.sha256(raw).hexdigest() == blob.sealed_sha256


def _fp(identity: Any) -> str:
    return fingerprint(identity.recipient())


def test_no_active_key_gives_the_calm_503(site: Site, client: FlaskClient) -> None:
    action = _action(client)
    fingerprint = site.services.keyring.active_fingerprints()[0]
    admin(site.services).retire(fingerprint, force=True)
    assert client.get("/testimony").status_code == 503
    response = _post(client, action, minimal_testimony())
    assert response.status_code == 503
    assert "not accepting" in response.get_data(as_text=True)
    assert _count(site, SubmissionRow) == 0


def _cut_body(
    action: str, client: FlaskClient, parts: list[tuple[str, str, bytes]], keep: int
) -> Any:
    """POST the minimal testimony with `parts`, the body cut `keep` bytes before its end."""
    fields = MultiDict(minimal_testimony(settlement="Izium"))
    for field, name, data in parts:
        fields.add(field, FileStorage(io.BytesIO(data), name, content_type="x/y"))
    stream, length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    body = stream.read()
    return client.post(
        action,
        input_stream=io.BytesIO(body[: len(body) - keep]),  # the client went away
        content_length=length,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_a_body_cut_off_midway_keeps_the_answers_and_the_whole_files(
    site: Site, client: FlaskClient
) -> None:
    parts = [("group1-files", "whole.jpg", PHOTO), ("group2-files", "cut.mp4", VIDEO)]
    response = _cut_body(_action(client), client, parts, len(VIDEO) // 2)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "every file that arrived whole are kept" in html
    assert "whole.jpg" in html
    assert hashlib.sha256(PHOTO).hexdigest() in html
    assert 'href="/testimony"' in html  # open the form again, not Reload
    assert _count(site, SubmissionRow) == 0
    assert _count(site, PendingDraft) == 1
    assert _count(site, DraftBlob) == 1
    assert list(site.services.store.temp_dir.iterdir()) == []  # type: ignore[attr-defined]
    [kept] = list(site.services.store.blob_dir.iterdir())  # type: ignore[attr-defined]
    assert site.open_blob(kept.name) == PHOTO
    with site.services.sessions() as session:
        draft = session.scalars(select(PendingDraft)).one()
        assert draft.sealed_answers is not None
        assert b"Izium" not in draft.sealed_answers  # sealed, not readable by the server

    form = client.get("/testimony").get_data(as_text=True)  # open the form again, a GET
    assert "whole.jpg" in form
    assert hashlib.sha256(PHOTO).hexdigest() in form
    assert 'value="Izium"' in form
    assert "I saw soldiers take my neighbour away." in form
    again = minimal_testimony(settlement="Izium")
    again["group2-files"] = _files((VIDEO, "cut.mp4", "x/y"))
    receipt = _post(client, form_action(form, "testimony-form"), again)
    assert receipt.status_code == 200, receipt.get_data(as_text=True)
    doc = _manifest(site, reference_of(receipt.get_data(as_text=True)))
    assert sorted(f.original_name for f in doc.files) == ["cut.mp4", "whole.jpg"]
    assert _count(site, PendingDraft) == 0
    assert _count(site, DraftBlob) == 0


def test_a_resent_body_does_not_store_the_kept_files_twice(site: Site, client: FlaskClient) -> None:
    """A browser resends a POST by itself when the connection dies before any answer (Chromium
    did after a killed worker: tests/e2e/test_browser_nothing_lost.py): the files the draft
    kept from the first attempt arrive again and are not stored twice."""
    action = _action(client)
    parts = [("group1-files", "whole.jpg", PHOTO), ("group2-files", "cut.mp4", VIDEO)]
    assert _cut_body(action, client, parts, len(VIDEO) // 2).status_code == 400
    again = minimal_testimony(settlement="Izium")
    again["group1-files"] = _files((PHOTO, "whole.jpg", "x/y"))
    again["group2-files"] = _files((VIDEO, "cut.mp4", "x/y"))
    receipt = _post(client, action, again)
    assert receipt.status_code == 200, receipt.get_data(as_text=True)
    doc = _manifest(site, reference_of(receipt.get_data(as_text=True)))
    assert sorted((f.group, f.original_name) for f in doc.files) == [
        (1, "whole.jpg"),
        (2, "cut.mp4"),
    ]
    assert _count(site, Blob) == 3  # the two files and submission.json
    assert len(list(site.services.store.blob_dir.iterdir())) == 3  # type: ignore[attr-defined]
    assert list(site.services.store.temp_dir.iterdir()) == []  # type: ignore[attr-defined]


def test_a_resent_body_is_not_refused_for_the_files_already_kept(
    tmp_path: Any, db_url: str
) -> None:
    """The file limit counts each file once: a resend of every file after a cut (the kept ones
    again, as Chromium does by itself) fits when the files themselves fit."""
    site = make_site(tmp_path, db_url, max_files=3)
    client = site.client()
    action = _action(client)
    third = bytes(range(256)) * 400
    parts = [
        ("group1-files", "one.jpg", PHOTO),
        ("group1-files", "two.mp4", VIDEO),
        ("group2-files", "three.bin", third),
    ]
    assert _cut_body(action, client, parts, len(third) // 2).status_code == 400
    assert _count(site, DraftBlob) == 2
    again = minimal_testimony(settlement="Izium")
    again["group1-files"] = _files((PHOTO, "one.jpg", "x/y"), (VIDEO, "two.mp4", "x/y"))
    again["group2-files"] = _files((third, "three.bin", "x/y"))
    receipt = _post(client, action, again)
    assert receipt.status_code == 200, receipt.get_data(as_text=True)
    doc = _manifest(site, reference_of(receipt.get_data(as_text=True)))
    assert sorted(f.original_name for f in doc.files) == ["one.jpg", "three.bin", "two.mp4"]
    assert list(site.services.store.temp_dir.iterdir()) == []  # type: ignore[attr-defined]
    site.services.engine.dispose()


def test_new_files_beyond_the_limit_beside_kept_ones_are_refused(
    tmp_path: Any, db_url: str
) -> None:
    """Kept files still count: two kept and two new with a limit of three keeps one new."""
    site = make_site(tmp_path, db_url, max_files=3)
    client = site.client()
    action = _action(client)
    parts = [("group1-files", "one.jpg", PHOTO), ("group1-files", "two.mp4", VIDEO)]
    parts.append(("group2-files", "cut.bin", VIDEO))
    assert _cut_body(action, client, parts, len(VIDEO) // 2).status_code == 400
    again = minimal_testimony(settlement="Izium")
    again["group2-files"] = _files(
        (b"3" * 900, "three.bin", "x/y"), (b"4" * 900, "four.bin", "x/y")
    )
    response = _post(client, action, again)
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html
    assert "more files than one submission can take (3)" in html
    assert "We kept 3 files" in html
    assert "three.bin" in html
    assert "four.bin" not in html
    assert _count(site, DraftBlob) == 3
    assert list(site.services.store.temp_dir.iterdir()) == []  # type: ignore[attr-defined]
    site.services.engine.dispose()


def test_a_cut_inside_the_first_file_keeps_every_answer(site: Site, client: FlaskClient) -> None:
    parts = [("group1-files", "cut.mp4", VIDEO)]
    response = _cut_body(_action(client), client, parts, len(VIDEO) // 2)
    assert response.status_code == 400
    assert _count(site, DraftBlob) == 0
    assert list(site.services.store.blob_dir.iterdir()) == []  # type: ignore[attr-defined]
    assert list(site.services.store.temp_dir.iterdir()) == []  # type: ignore[attr-defined]
    form = client.get("/testimony").get_data(as_text=True)
    assert 'value="Izium"' in form
    assert "I saw soldiers take my neighbour away." in form
    assert 'id="kept-files"' not in form


def test_a_cut_inside_a_text_field_keeps_the_answers_before_it(
    site: Site, client: FlaskClient
) -> None:
    action = _action(client)
    fields = MultiDict(minimal_testimony(settlement="Izium"))
    fields.add("place", "x" * 5000)
    stream, length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    body = stream.read()
    response = client.post(
        action,
        input_stream=io.BytesIO(body[: len(body) - 3000]),
        content_length=length,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 400
    form = client.get("/testimony").get_data(as_text=True)
    assert 'value="Izium"' in form


def test_total_text_cap_sends_the_form_back(tmp_path: Any, db_url: str) -> None:
    site = make_site(tmp_path, db_url, max_text_bytes=2000)
    client = site.client()
    data = minimal_testimony(place="x" * 1500, orders="y" * 1500)
    response = _post(client, _action(client), data)
    assert response.status_code == 422
    assert "longer than we can accept" in response.get_data(as_text=True)
    assert _count(site, SubmissionRow) == 0
    site.services.engine.dispose()


def test_field_errors_are_in_the_witness_language(client: FlaskClient) -> None:
    client.get("/?lang=uk")
    data = minimal_testimony(victims_min="багато", account="")
    response = _post(client, _action(client), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Опишіть, будь ласка, що сталося." in html
    assert "Недійсне ціле число" in html


def test_draft_files_follow_a_keyring_rotation(site: Site, client: FlaskClient) -> None:
    data = minimal_testimony(account="")
    data["group1-files"] = _files((VIDEO, "kept.mp4", "video/mp4"))
    rejected = _post(client, _action(client), data)
    assert rejected.status_code == 422
    successor = add_investigator(site.services, name="Successor")
    for old in site.services.keyring.active_fingerprints():
        if old != fingerprint(successor.recipient()):
            admin(site.services).retire(old, force=True)
    action = form_action(rejected.get_data(as_text=True), "testimony-form")
    receipt = _post(client, action, minimal_testimony())
    assert receipt.status_code == 200, receipt.get_data(as_text=True)
    reference = reference_of(receipt.get_data(as_text=True))
    with site.services.sessions() as session:
        row = session.get(SubmissionRow, reference)
        assert row is not None
        doc = Submission.from_json(site.open_blob(row.manifest_blob, successor))
        blobs = {b.name: b for b in session.scalars(select(Blob)).all()}
    (entry,) = doc.files
    assert site.open_blob(entry.blob_name, successor) == VIDEO
    with pytest.raises(CryptoError):
        site.open_blob(entry.blob_name)
    raw = site.raw_blob(entry.blob_name)
    assert hashlib.sha256(raw).hexdigest() == entry.sealed_sha256
    assert blobs[entry.blob_name].sealed_sha256 == entry.sealed_sha256


def test_an_oversized_request_after_a_cut_keeps_the_earlier_draft(
    tmp_path: Any, db_url: str
) -> None:
    site = make_site(tmp_path, db_url, max_request_bytes=200_000)
    client = site.client()
    action = _action(client)
    parts = [("group1-files", "whole.jpg", PHOTO), ("group2-files", "cut.bin", PHOTO)]
    assert _cut_body(action, client, parts, len(PHOTO) // 2).status_code == 400
    form = client.get("/testimony").get_data(as_text=True)
    again = minimal_testimony(settlement="Izium")
    again["group2-files"] = _files((VIDEO, "big.mp4", "video/mp4"))
    response = _post(client, form_action(form, "testimony-form"), again)
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "nothing of it was stored" in html  # refused before the body was read
    assert "Press Back: your browser keeps what you typed" in html
    assert 'href="/testimony"' in html
    assert _count(site, DraftBlob) == 1  # the earlier attempt's file is still in the draft
    form = client.get("/testimony").get_data(as_text=True)
    assert "whole.jpg" in form
    assert 'value="Izium"' in form
    site.services.engine.dispose()


def test_an_upload_that_fits_only_without_the_one_in_progress_is_refused_unread(
    site: Site, client: FlaskClient
) -> None:
    ledger = site.services.reservations
    ledger.directory.mkdir(mode=0o700, exist_ok=True)
    free = shutil.disk_usage(ledger.directory).free
    # Another worker's upload in progress has reserved all but 4 MiB of the free space; each
    # upload alone fits, together they do not.
    other = (free - 4 * 1024 * 1024 - HEADROOM_BYTES) * 2048 // 2049
    action = _action(client)
    data = minimal_testimony(settlement="Izium")
    data["group1-files"] = _files((b"v" * 6_000_000, "video.mp4", "video/mp4"))
    with ledger.reserve(other):
        response = _post(client, action, data)
        html = response.get_data(as_text=True)
        assert response.status_code == 503, html[:2000]
        assert "We could not save all of what you sent" in html
        assert 'href="/testimony"' in html
        assert _count(site, DraftBlob) == 0  # refused before the body: nothing half-stored
        assert _count(site, PendingDraft) == 0
        assert _count(site, SubmissionRow) == 0
        assert list(site.services.store.temp_dir.iterdir()) == []  # type: ignore[attr-defined]
        assert list(site.services.store.blob_dir.iterdir()) == []  # type: ignore[attr-defined]
    form = client.get("/testimony").get_data(as_text=True)  # the other upload ended
    receipt = _post(client, form_action(form, "testimony-form"), data)
    assert receipt.status_code == 200, receipt.get_data(as_text=True)[:2000]
    assert ledger.held_bytes() == 0
