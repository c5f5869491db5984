"""A browser-sealed file sent in parts (issue 16, item 2): in order, checked, resumable.

The sealed file is made here with crypto.age, as the page's script makes it with the age
TypeScript library; tests/e2e/test_browser_sealing.py drives the real script in Chromium,
with the server killed half way.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import re
import time
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

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
    start_witness,
)

CONTENT = bytes(range(256)) * (9 * 4096 + 17)  # a little over 9 MiB: three parts
DIGEST = hashlib.sha256(CONTENT).hexdigest()


def _parts_url(page: str) -> str:
    found = re.search(r'data-parts-url="([^"]+)"', page)
    assert found
    return html_lib.unescape(found.group(1))


def _at(url: str, *path: object) -> str:
    base, _, query = url.partition("?")
    return "/".join([base, *map(str, path)]) + "?" + query


def _keys(site: Site) -> str:
    """The recipients a page declares it sealed to (comma-separated): the active key."""
    return str(site.investigator.recipient())


def _start_answer(
    client: FlaskClient, url: str, sealed: bytes, keys: str, size: int = len(CONTENT)
) -> TestResponse:
    fields = {"group": "1", "size": str(size), "sealed_size": str(len(sealed)), "keys": keys}
    return client.post(url, data=fields)


def _start(client: FlaskClient, url: str, sealed: bytes, keys: str) -> str:
    answer = _start_answer(client, url, sealed, keys)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.json is not None
    assert answer.json["parts"] == 3
    return str(answer.json["id"])


def _put(client: FlaskClient, url: str, upload: str, sealed: bytes, index: int) -> int:
    part = sealed[index * PART_SIZE : (index + 1) * PART_SIZE]
    answer = client.post(
        _at(url, upload, index), data=part, content_type="application/octet-stream"
    )
    return answer.status_code


def _have(client: FlaskClient, url: str, upload: str) -> int:
    answer = client.get(_at(url, upload))
    assert answer.status_code == 200
    assert answer.json is not None
    return int(answer.json["have"])


def _done(client: FlaskClient, url: str, upload: str) -> int:
    meta = json.dumps({"size": len(CONTENT), "sha256": DIGEST})
    fields = {"name": "yard.mp4", "type": "video/mp4", "meta": meta}
    return client.post(_at(url, upload, "done"), data=fields).status_code


def test_parts_in_order_survive_a_torn_part_and_reach_the_submission(
    site: Site, client: FlaskClient
) -> None:
    page = start_witness(client)[1].get_data(as_text=True)
    url = _parts_url(page)
    sealed = seal_bytes(CONTENT, [site.investigator.recipient()])
    upload = _start(client, url, sealed, _keys(site))
    assert _have(client, url, upload) == 0
    assert _put(client, url, upload, sealed, 1) == 409  # a gap is refused
    assert _put(client, url, upload, sealed, 0) == 200
    # A cut in the middle of part 1 (a killed worker) leaves a torn tail: it does not count.
    temp = site.services.config.blob_dir / "tmp" / upload
    with temp.open("ab") as torn:
        torn.write(sealed[PART_SIZE : PART_SIZE + 1000])
    assert _have(client, url, upload) == 1
    assert _put(client, url, upload, sealed, 1) == 200
    assert _put(client, url, upload, sealed, 1) == 200  # sent again: accepted, not appended
    assert _done(client, url, upload) == 409  # not whole yet
    assert _put(client, url, upload, sealed, 2) == 200
    assert _have(client, url, upload) == 3
    assert temp.read_bytes() == sealed
    assert _done(client, url, upload) == 200
    assert not temp.exists()
    assert _done(client, url, upload) == 200  # sent again after a cut: kept once
    assert _have(client, url, upload) == 3
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
    url = _parts_url(start_witness(client)[1].get_data(as_text=True))
    other = X25519Identity.generate().recipient()
    length = len(seal_bytes(CONTENT, [site.investigator.recipient()]))
    # Plaintext under a sealed name, cut to the length a sealed file would have.
    posing = (b"age-encryption.org/v1\n" + CONTENT + CONTENT)[:length]
    for sealed in (seal_bytes(CONTENT, [site.investigator.recipient(), other]), posing):
        upload = _start(client, url, sealed, _keys(site))
        assert _put(client, url, upload, sealed, 0) == 409
        assert (site.services.config.blob_dir / "tmp" / upload).stat().st_size == 0


def test_parts_need_the_token_and_the_witness_who_started_them(
    site: Site, client: FlaskClient
) -> None:
    url = _parts_url(start_witness(client)[1].get_data(as_text=True))
    sealed = seal_bytes(CONTENT, [site.investigator.recipient()])
    upload = _start(client, url, sealed, _keys(site))
    assert client.get(_at(url, upload).split("?")[0]).status_code == 403
    stranger = site.client()
    other_url = _parts_url(start_witness(stranger)[1].get_data(as_text=True))
    assert stranger.get(_at(other_url, upload)).status_code == 409
    assert _put(stranger, other_url, upload, sealed, 0) == 409
    refused = _start_answer(client, url, b"x" * 10, _keys(site), size=5)
    assert refused.status_code == 409  # sizes that cannot belong together


def test_the_sweep_removes_expired_uploads(site: Site, client: FlaskClient) -> None:
    url = _parts_url(start_witness(client)[1].get_data(as_text=True))
    sealed = seal_bytes(CONTENT, [site.investigator.recipient()])
    upload = _start(client, url, sealed, _keys(site))
    assert _put(client, url, upload, sealed, 0) == 200
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
    return client.get(_at(url, upload)).status_code


def test_the_forms_hold_admits_its_parts_after_the_idle_deadline(
    site: Site, client: FlaskClient
) -> None:
    url = _parts_url(start_witness(client)[1].get_data(as_text=True))
    sealed = seal_bytes(CONTENT, [site.investigator.recipient()])
    upload = _start(client, url, sealed, _keys(site))
    with site.services.sessions() as session:
        session.execute(update(WitnessSession).values(idle_until=minute_bucket() - 60))
        session.commit()
    assert _have_status(client, url, upload) == 200  # an hour of sending: still admitted
    assert _put(client, url, upload, sealed, 0) == 200
    no_once = re.sub(r"once=[^&]+&?", "", url)
    assert _have_status(client, no_once, upload) == 403  # the cookie alone admits nothing
