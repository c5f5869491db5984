"""Files sealed in the witness's browser (issue 16): stored as sent, refused when malformed.

The browser's part is made here with crypto.age, as the page's script makes it with the age
TypeScript library (tests/e2e/test_browser_sealing.py drives the real script in Chromium).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from crypto.age import seal_bytes
from crypto.scrypt import ScryptRecipient
from crypto.x25519 import X25519Identity
from intake.models import Blob, DraftBlob
from intake.models import Submission as SubmissionRow
from intake.security_headers import CSP, SCRIPT_CSP
from intake.web.static import STATIC_DIR, integrity
from protocol.schema import Submission
from tests.intake.web.conftest import (
    Site,
    form_action,
    minimal_testimony,
    post_multipart,
    reference_of,
    start_witness,
)

CONTENT = b"a photo of the yard, sealed in the browser " * 3000  # two 64 KiB chunks and a bit


def _sealed_part(
    sealed: bytes, *, size: int = len(CONTENT), digest: str | None = None, group: int = 1
) -> dict[str, Any]:
    meta = {"size": size, "sha256": digest or hashlib.sha256(CONTENT).hexdigest()}
    return {
        f"group{group}-sealed-meta": json.dumps(meta),
        f"group{group}-sealed": [(io.BytesIO(sealed), "yard.jpg", "image/jpeg")],
    }


def _send(client: FlaskClient, parts: dict[str, Any]) -> Any:
    page = start_witness(client)[1].get_data(as_text=True)
    return post_multipart(client, form_action(page, "testimony-form"), minimal_testimony(**parts))


def _blob_count(site: Site) -> int:
    with site.services.sessions() as session:
        blobs = session.scalar(select(func.count()).select_from(Blob)) or 0
        drafts = session.scalar(select(func.count()).select_from(DraftBlob)) or 0
        return int(blobs + drafts)


def test_the_form_page_loads_the_script_with_sri_under_the_script_csp(
    site: Site, client: FlaskClient
) -> None:
    response = start_witness(client)[1]
    html = response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == SCRIPT_CSP
    for directive in ("script-src 'self'", "worker-src 'self'", "connect-src 'self'"):
        assert directive in SCRIPT_CSP
    assert "unsafe" not in SCRIPT_CSP
    assert "blob:" not in SCRIPT_CSP
    digest = hashlib.sha384((STATIC_DIR / "seal.js").read_bytes()).digest()
    tag = re.search(r'<script src="/static/seal.js" integrity="([^"]+)" defer></script>', html)
    assert tag
    assert tag.group(1) == integrity("seal.js")
    assert tag.group(1) == "sha384-" + base64.b64encode(digest).decode()
    assert "<script>" not in html
    assert " on" + "submit=" not in html
    declared = re.search(r'data-seal-recipients="([^"]+)"', html)
    assert declared
    recipients = json.loads(declared.group(1).replace("&#34;", '"'))
    assert recipients == [str(site.investigator.recipient())]
    assert client.get("/").headers["Content-Security-Policy"] == CSP
    with client.get("/static/seal.js") as script:
        assert script.headers["Content-Security-Policy"] == CSP  # the worker needs nothing more


def test_a_part_sealed_in_the_browser_is_stored_as_sent(site: Site, client: FlaskClient) -> None:
    sealed = seal_bytes(CONTENT, [site.investigator.recipient()])
    response = _send(client, _sealed_part(sealed))
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert hashlib.sha256(CONTENT).hexdigest() in html
    with site.services.sessions() as session:
        row = session.get(SubmissionRow, reference_of(html))
        assert row is not None
        doc = Submission.from_json(site.open_blob(row.manifest_blob))
    (entry,) = doc.files
    assert (entry.original_name, entry.group, entry.size) == ("yard.jpg", 1, len(CONTENT))
    assert entry.plaintext_sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert site.raw_blob(entry.blob_name) == sealed  # not sealed again
    assert entry.sealed_sha256 == hashlib.sha256(sealed).hexdigest()
    assert site.open_blob(entry.blob_name) == CONTENT
    assert not any("sealed" in key for key in doc.answers.values)


def _refused(site: Site, client: FlaskClient, parts: dict[str, Any]) -> None:
    response = _send(client, parts)
    assert response.status_code == 400, response.status_code
    assert _blob_count(site) == 0
    assert list((site.config.data_dir / "store" / "tmp").iterdir()) == []


def test_plaintext_under_the_sealed_name_never_reaches_the_disk(
    site: Site, client: FlaskClient
) -> None:
    _refused(site, client, _sealed_part(CONTENT))


@pytest.mark.parametrize("case", ["extra recipient", "scrypt", "wrong size", "no declaration"])
def test_a_malformed_sealed_part_is_refused(site: Site, client: FlaskClient, case: str) -> None:
    mine = site.investigator.recipient()
    other = X25519Identity.generate().recipient()
    good = _sealed_part(seal_bytes(CONTENT, [mine]))
    parts = {
        "extra recipient": _sealed_part(seal_bytes(CONTENT, [mine, other])),
        "scrypt": _sealed_part(seal_bytes(CONTENT, [ScryptRecipient(b"pw", log_n=2)])),
        "wrong size": _sealed_part(seal_bytes(CONTENT, [mine]), size=len(CONTENT) - 1),
        "no declaration": {"group1-sealed": good["group1-sealed"]},
    }[case]
    _refused(site, client, parts)
