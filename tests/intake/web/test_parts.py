"""A browser-sealed file sent in parts (issue 16, item 2): in order, checked, resumable.

The sealed file is made with crypto.age (tests/intake/web/parts_steps.py), as the page's script
makes it with the age TypeScript library; tests/e2e/test_browser_sealing.py drives the real
script in Chromium, with the server killed half way.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import update

from crypto.age import seal_bytes
from crypto.x25519 import X25519Identity
from intake.clock import minute_bucket
from intake.maintenance import sweep
from intake.models import Submission as SubmissionRow
from intake.models import WitnessSession
from intake.partstore import PART_SIZE, PartStore
from protocol.schema import Submission
from tests.intake.web.conftest import (
    Site,
    form_action,
    minimal_testimony,
    post_multipart,
    reference_of,
)
from tests.intake.web.parts_steps import (
    CONTENT,
    DIGEST,
    at,
    begin,
    done_upload,
    have_parts,
    keys_of,
    open_page,
    put_part,
    sealed_for,
    start_answer,
    start_upload,
)


def test_parts_in_order_survive_a_torn_part_and_reach_the_submission(
    site: Site, client: FlaskClient
) -> None:
    page, url = open_page(client)
    sealed = sealed_for(site)
    upload = start_upload(client, url, sealed, keys_of(site))
    assert have_parts(client, url, upload) == 0
    assert put_part(client, url, upload, sealed, 1) == 409  # a gap is refused
    assert put_part(client, url, upload, sealed, 0) == 200
    # A cut in the middle of part 1 (a killed worker) leaves a torn tail: it does not count.
    temp = site.services.config.blob_dir / "tmp" / upload
    with temp.open("ab") as torn:
        torn.write(sealed[PART_SIZE : PART_SIZE + 1000])
    assert have_parts(client, url, upload) == 1
    assert put_part(client, url, upload, sealed, 1) == 200
    assert put_part(client, url, upload, sealed, 1) == 200  # sent again: accepted, not appended
    assert done_upload(client, url, upload) == 409  # not whole yet
    assert put_part(client, url, upload, sealed, 2) == 200
    assert have_parts(client, url, upload) == 3
    assert temp.read_bytes() == sealed
    assert done_upload(client, url, upload) == 200
    assert not temp.exists()
    assert done_upload(client, url, upload) == 200  # sent again after a cut: kept once
    assert have_parts(client, url, upload) == 3
    sent = post_multipart(client, form_action(page, "testimony-form"), minimal_testimony())
    assert sent.status_code == 200
    body = sent.get_data(as_text=True)
    assert DIGEST in body  # the receipt lists the browser's hash
    with site.services.sessions() as session:
        row = session.get(SubmissionRow, reference_of(body))
        assert row is not None
        doc = Submission.from_json(site.open_blob(row.manifest_blob))
    (entry,) = doc.files
    assert (entry.original_name, entry.size, entry.plaintext_sha256) == (
        "yard.mp4",
        len(CONTENT),
        DIGEST,
    )
    assert entry.plaintext_sha256_by == "browser"  # submission.json says whose hash it is
    stored = site.services.config.blob_dir / "blobs" / entry.blob_name
    assert stored.read_bytes() == sealed


def test_a_first_part_not_sealed_to_exactly_the_active_keys_is_refused(
    site: Site, client: FlaskClient
) -> None:
    _, url = open_page(client)
    other = X25519Identity.generate().recipient()
    length = len(seal_bytes(CONTENT, [site.investigator.recipient()]))
    # Plaintext under a sealed name, cut to the length a sealed file would have.
    posing = (b"age-encryption.org/v1\n" + CONTENT + CONTENT)[:length]
    for sealed in (seal_bytes(CONTENT, [site.investigator.recipient(), other]), posing):
        upload = start_upload(client, url, sealed, keys_of(site))
        assert put_part(client, url, upload, sealed, 0) == 409
        assert (site.services.config.blob_dir / "tmp" / upload).stat().st_size == 0


def test_parts_need_the_token_and_the_witness_who_started_them(
    site: Site, client: FlaskClient
) -> None:
    _, url = open_page(client)
    sealed = sealed_for(site)
    upload = start_upload(client, url, sealed, keys_of(site))
    assert client.get(at(url, upload).split("?")[0]).status_code == 403
    stranger = site.client()
    _, other_url = open_page(stranger)
    assert stranger.get(at(other_url, upload)).status_code == 409
    assert put_part(stranger, other_url, upload, sealed, 0) == 409
    refused = start_answer(client, url, b"x" * 10, keys_of(site), size=5)
    assert refused.status_code == 409  # sizes that cannot belong together


def test_the_sweep_removes_expired_uploads(site: Site, client: FlaskClient) -> None:
    begun = begin(site, client)
    url, upload = begun.url, begun.upload
    root: Path = site.services.config.blob_dir
    meta = root / "parts" / f"{upload}.json"
    data = json.loads(meta.read_text())
    data["expires"] = time.time() - 1
    meta.write_text(json.dumps(data))
    assert _have_status(client, url, upload) == 409
    report = sweep(site.services.sessions, site.services.store)
    assert report.temps_removed == 1
    assert not meta.exists()
    assert not (root / "tmp" / upload).exists()
    assert PartStore(root).sweep() == []


def _have_status(client: FlaskClient, url: str, upload: str) -> int:
    return client.get(at(url, upload)).status_code


def test_the_forms_hold_admits_its_parts_after_the_idle_deadline(
    site: Site, client: FlaskClient
) -> None:
    _, url = open_page(client)
    sealed = sealed_for(site)
    upload = start_upload(client, url, sealed, keys_of(site))
    with site.services.sessions() as session:
        session.execute(update(WitnessSession).values(idle_until=minute_bucket() - 60))
        session.commit()
    assert _have_status(client, url, upload) == 200  # an hour of sending: still admitted
    assert put_part(client, url, upload, sealed, 0) == 200
    no_once = re.sub(r"once=[^&]+&?", "", url)
    assert _have_status(client, no_once, upload) == 403  # the cookie alone admits nothing
