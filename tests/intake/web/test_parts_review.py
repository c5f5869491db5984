"""Uploads in parts under the review of issue 16's merge: the keys the page sealed to, malformed
numbers, unfinished uploads and the disk, long pauses, and `done` sent twice or cut half way.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from crypto.age import seal_bytes
from crypto.keyfile import fingerprint
from intake.diskguard import HEADROOM_BYTES
from intake.maintenance import sweep
from intake.models import BlobRecipient
from intake.partstore import PartStore
from tests.intake.keyring_admin import admin
from tests.intake.web.conftest import Site, form_action, minimal_testimony, post_multipart
from tests.intake.web.parts_steps import (
    CONTENT,
    MIB,
    at,
    begin,
    done_upload,
    draft_blobs,
    keys_of,
    open_page,
    put_part,
    sealed_for,
    start_answer,
    start_upload,
)
from tests.intake.web.test_parts_rotation import _new_key


def test_a_start_for_keys_revoked_or_retired_since_the_page_is_refused(
    site: Site, client: FlaskClient
) -> None:
    _, url = open_page(client)
    sealed, old = sealed_for(site), keys_of(site)
    keys = admin(site.services)
    keys.add(_new_key("Second"))
    keys.revoke(fingerprint(site.investigator.recipient()))
    answer = start_answer(client, url, sealed, old)
    assert answer.status_code == 409
    assert answer.json == {"error": "keys"}  # the page falls back to the plain form
    assert not list((site.services.config.blob_dir / "tmp").glob("*"))
    for malformed in ("", "age1nothing", ",".join(["x"] * 100)):
        assert start_answer(client, url, sealed, malformed).status_code == 409


def test_a_start_after_a_routine_rotation_records_the_keys_declared(
    site: Site, client: FlaskClient
) -> None:
    _, url = open_page(client)
    old = fingerprint(site.investigator.recipient())
    new = _new_key("Next")
    admin(site.services).rotate(old, new)
    assert start_answer(client, url, sealed_for(site), keys_of(site)).json == {"error": "keys"}
    # Sealed to the new key, as the reloaded page seals, it is taken; then the new key is
    # retired mid-upload: the rows name the key the page declared, for `triage rewrap`.
    sealed = seal_bytes(CONTENT, [new.recipient])
    upload = start_upload(client, url, sealed, str(new.recipient))
    for index in range(3):
        assert put_part(client, url, upload, sealed, index) == 200
    admin(site.services).rotate(fingerprint(new.recipient), _new_key("Third"))
    assert done_upload(client, url, upload) == 200
    (name,) = draft_blobs(site)
    with site.services.sessions() as session:
        rows = session.scalars(
            select(BlobRecipient.fingerprint).where(BlobRecipient.blob_name == name)
        )
        assert list(rows) in ([], [fingerprint(new.recipient)])
    meta = json.loads((site.services.config.blob_dir / "parts" / f"{upload}.json").read_text())
    assert meta["fingerprints"] == [fingerprint(new.recipient)]


def test_numbers_int_refuses_are_refused_not_a_crash(site: Site, client: FlaskClient) -> None:
    _, url = open_page(client)
    for size in ("²", "9" * 5000, "-1", "1_000"):
        fields = {"group": "1", "size": size, "sealed_size": "10", "keys": keys_of(site)}
        assert client.post(url, data=fields).status_code == 409


def test_a_witness_holds_two_unfinished_uploads_at_most(site: Site, client: FlaskClient) -> None:
    _, url = open_page(client)
    sealed = sealed_for(site)
    first = start_upload(client, url, sealed, keys_of(site))
    start_upload(client, url, sealed, keys_of(site))
    assert start_answer(client, url, sealed, keys_of(site)).status_code == 409
    for index in range(3):
        assert put_part(client, url, first, sealed, index) == 200
    assert done_upload(client, url, first) == 200
    start_upload(client, url, sealed, keys_of(site))  # a finished one no longer counts


def test_a_start_that_does_not_fit_beside_unfinished_uploads_is_refused_with_a_message(
    site: Site, client: FlaskClient
) -> None:
    _, url = open_page(client)
    sealed = sealed_for(site)
    start_upload(client, url, sealed, keys_of(site))  # 9 MiB still to come
    ledger = site.services.reservations
    ledger.directory.mkdir(mode=0o700, exist_ok=True)
    free = shutil.disk_usage(ledger.directory).free
    # Room for one 9 MiB upload beside this reservation, not for two.
    other = (free - 15 * MIB - HEADROOM_BYTES) * 2048 // 2049
    with ledger.reserve(other):
        answer = start_answer(client, url, sealed, keys_of(site))
        assert answer.status_code == 503
        assert answer.json is not None
        assert answer.json["error"] == "disk"
        assert "no room on the server for this file" in answer.json["message"]
        assert len(list((site.services.config.blob_dir / "parts").glob("*.json"))) == 1
    start_upload(client, url, sealed, keys_of(site))


def test_a_paused_upload_outlives_the_idle_sweep_and_parts_extend_it(
    site: Site, client: FlaskClient
) -> None:
    begun = begin(site, client)
    url, sealed, upload = begun.url, begun.sealed, begun.upload
    root: Path = site.services.config.blob_dir
    temp, meta = root / "tmp" / upload, root / "parts" / f"{upload}.json"
    week_ago = time.time() - 7 * 24 * 3600
    os.utime(temp, (week_ago, week_ago))  # paused far longer than the idle sweep waits
    data = json.loads(meta.read_text())
    assert data["expires"] % 3600 == 0  # to the hour: no exact times on disk
    data["expires"] = time.time() + 60  # almost a day into the upload
    meta.write_text(json.dumps(data))
    assert sweep(site.services.sessions, site.services.store).temps_removed == 0
    assert temp.stat().st_size > 0
    assert put_part(client, url, upload, sealed, 1) == 200
    assert json.loads(meta.read_text())["expires"] > time.time() + 20 * 3600  # moved on


def test_a_done_retried_after_a_cut_between_commit_and_mark_keeps_the_file_once(
    site: Site, client: FlaskClient
) -> None:
    begun = begin(site, client, parts=3)
    page, url, upload = begun.page, begun.url, begun.upload
    assert done_upload(client, url, upload) == 200
    # The server died after keeping the file and before marking the upload finished.
    meta = site.services.config.blob_dir / "parts" / f"{upload}.json"
    data = json.loads(meta.read_text())
    assert data["blob"] == draft_blobs(site)[0]
    data["finished"] = False
    meta.write_text(json.dumps(data))
    assert done_upload(client, url, upload) == 200
    assert len(draft_blobs(site)) == 1
    assert json.loads(meta.read_text())["finished"] is True
    sent = post_multipart(client, form_action(page, "testimony-form"), minimal_testimony())
    assert sent.status_code == 200


def test_a_done_retried_after_a_cut_between_intent_and_draft_keeps_the_file(
    site: Site, client: FlaskClient
) -> None:
    begun = begin(site, client, parts=3)
    url, sealed, upload = begun.url, begun.sealed, begun.upload
    store = PartStore(site.services.config.blob_dir)
    # The intent is written and the blob committed; the server died before the draft row.
    meta = store.meta_dir / f"{upload}.json"
    data = json.loads(meta.read_text())
    data["blob"], data["sealed_sha256"] = "ab" * 16, "00" * 32
    meta.write_text(json.dumps(data))
    site.services.store.commit(upload, "ab" * 16)
    assert put_part(client, url, upload, sealed, 2) == 200  # whole: a part sent again is fine
    assert done_upload(client, url, upload) == 200
    assert draft_blobs(site) == ["ab" * 16]


def test_a_part_for_an_upload_whose_temp_vanished_is_refused(
    site: Site, client: FlaskClient
) -> None:
    _, url = open_page(client)
    sealed = sealed_for(site)
    upload = start_upload(client, url, sealed, keys_of(site))
    (site.services.config.blob_dir / "tmp" / upload).unlink()
    assert put_part(client, url, upload, sealed, 0) == 409
    assert client.get(at(url, upload)).status_code == 409
