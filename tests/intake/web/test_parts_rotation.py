"""Issue 16, item 4: a browser-sealed file and a keyring that changed before the form was sent.

Sealed to a key revoked since: the file leaves the draft and the store, and the form asks for
it again. Sealed under a routine rotation (its key retired): it is kept as it is, and its rows
name the retired key, so it is among the blobs `triage rewrap` re-issues.
"""

from __future__ import annotations

import io
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from crypto.age import seal_bytes
from crypto.keyfile import fingerprint
from crypto.minisign import SigningKey
from crypto.x25519 import X25519Identity
from intake.keyring import NewKey
from intake.models import BlobRecipient
from intake.partstore import PART_SIZE
from tests.intake.keyring_admin import admin
from tests.intake.web.conftest import (
    Site,
    form_action,
    make_site,
    minimal_testimony,
    post_multipart,
    reference_of,
)
from tests.intake.web.parts_steps import (
    CONTENT,
    begin,
    done_upload,
    draft_blobs,
    parts_url,
    put_part,
    start_upload,
)


def _new_key(name: str) -> NewKey:
    identity = X25519Identity.generate()
    signing = SigningKey.generate().verify_key().to_file_text()
    return NewKey.parse(str(identity.recipient()), name=name, signing_key=signing)


def _send_in_parts(site: Site, client: FlaskClient) -> str:
    begun = begin(site, client, parts=3)
    assert done_upload(client, begun.url, begun.upload) == 200
    return begun.page


def test_a_file_sealed_to_a_key_revoked_since_is_asked_for_again(
    site: Site, client: FlaskClient
) -> None:
    page = _send_in_parts(site, client)
    (name,) = draft_blobs(site)
    keys = admin(site.services)
    keys.add(_new_key("Second"))
    keys.revoke(fingerprint(site.investigator.recipient()))
    sent = post_multipart(client, form_action(page, "testimony-form"), minimal_testimony())
    assert sent.status_code == 422
    assert "withdrawn since" in sent.get_data(as_text=True)
    assert draft_blobs(site) == []
    assert not site.services.store.exists(name)


def test_a_file_sealed_before_a_routine_rotation_is_kept_for_rewrap(
    site: Site, client: FlaskClient
) -> None:
    page = _send_in_parts(site, client)
    (name,) = draft_blobs(site)
    old = fingerprint(site.investigator.recipient())
    admin(site.services).rotate(old, _new_key("Next"))
    sent = post_multipart(client, form_action(page, "testimony-form"), minimal_testimony())
    assert sent.status_code == 200
    assert reference_of(sent.get_data(as_text=True))
    with site.services.sessions() as session:
        rows = session.scalars(
            select(BlobRecipient.fingerprint).where(BlobRecipient.blob_name == name)
        )
        assert list(rows) == [old]  # still sealed to the retired key: re-wrapped by triage
    assert site.open_blob(name) == CONTENT  # kept exactly as the browser sealed it


def test_a_copy_sealed_to_the_new_keys_is_kept_beside_one_sealed_to_a_revoked_key(
    site: Site, client: FlaskClient
) -> None:
    # Review of 64b9c08: a `done` dropped its copy of a file the draft held, even when the
    # held copy was sealed to a key revoked since; the submission then dropped that one too,
    # and the file, sent whole twice, was gone.
    page = _send_in_parts(site, client)
    keys = admin(site.services)
    second = X25519Identity.generate()
    signing = SigningKey.generate().verify_key().to_file_text()
    keys.add(NewKey.parse(str(second.recipient()), name="Second", signing_key=signing))
    keys.revoke(fingerprint(site.investigator.recipient()))
    url = parts_url(page)
    sealed = seal_bytes(CONTENT, [second.recipient()])
    again = start_upload(client, url, sealed, str(second.recipient()))
    for index in range(-(-len(sealed) // PART_SIZE)):
        assert put_part(client, url, again, sealed, index) == 200
    assert done_upload(client, url, again) == 200
    sent = post_multipart(client, form_action(page, "testimony-form"), minimal_testimony())
    assert sent.status_code == 200, sent.get_data(as_text=True)
    assert "yard.mp4" in sent.get_data(as_text=True)  # the copy sealed to the current keys


def test_the_plain_form_keeps_a_copy_sent_beside_one_sealed_to_a_revoked_key(
    site: Site, client: FlaskClient
) -> None:
    # Review of 8a57982: the plain form discarded its copy (sealed to the current keys) as a
    # duplicate of the browser's, which the submission then dropped as sealed to a revoked
    # key: the file, sent whole twice, was gone and asked for a third time.
    page = _send_in_parts(site, client)
    keys = admin(site.services)
    keys.add(_new_key("Second"))
    keys.revoke(fingerprint(site.investigator.recipient()))
    action = form_action(page, "testimony-form")
    again = FileStorage(io.BytesIO(CONTENT), "yard.mp4", content_type="video/mp4")
    sent = post_multipart(client, action, {**minimal_testimony(), "group1-files": again})
    assert sent.status_code == 200, sent.get_data(as_text=True)
    assert "yard.mp4" in sent.get_data(as_text=True)


def test_a_copy_sent_beside_a_revoked_one_is_kept_at_the_file_limit(
    tmp_path: Path, db_url: str
) -> None:
    # Review of 7e9b959: the file limit still counted the revoked copy, so with the draft full
    # the copy sent again to the current keys was refused as one file too many.
    one = make_site(tmp_path, db_url, max_files=1)
    try:
        client = one.client()
        page = _send_in_parts(one, client)
        keys = admin(one.services)
        keys.add(_new_key("Second"))
        keys.revoke(fingerprint(one.investigator.recipient()))
        again = FileStorage(io.BytesIO(CONTENT), "yard.mp4", content_type="video/mp4")
        action = form_action(page, "testimony-form")
        sent = post_multipart(client, action, {**minimal_testimony(), "group1-files": again})
        assert sent.status_code == 200, sent.get_data(as_text=True)
    finally:
        one.services.engine.dispose()
