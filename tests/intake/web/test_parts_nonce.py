"""A start sent again is answered with the upload it made: the page's nonce (one per attempt at
a file, reused by that start's retries) makes a start idempotent.

Over Tor the 201 answering a start can be lost; the page's automatic retry then used to make a
second upload and leave the first, idle but counted against the witness's `MAX_OPEN` for about
a day, so with one more left by a reloaded page the next start was refused (409) and the file
fell back to the plain form.
"""

from __future__ import annotations

import secrets

from flask.testing import FlaskClient

from intake.partstore import MAX_OPEN
from tests.intake.web.conftest import Site
from tests.intake.web.parts_steps import (
    done_upload,
    keys_of,
    open_page,
    put_part,
    sealed_for,
    start_answer,
    start_upload,
)


def test_a_start_sent_again_gives_the_same_upload_and_counts_once(
    site: Site, client: FlaskClient
) -> None:
    _, url = open_page(client)
    sealed, keys = sealed_for(site), keys_of(site)
    nonce = secrets.token_hex(16)
    first = start_upload(client, url, sealed, keys, nonce=nonce)
    again = start_upload(client, url, sealed, keys, nonce=nonce)  # the first's answer was lost
    assert again == first
    uploads = sorted((site.services.config.blob_dir / "parts").glob("*.json"))
    assert [path.stem for path in uploads] == [first]
    # Room is left for the other MAX_OPEN - 1: the retry took none.
    others = [start_upload(client, url, sealed, keys) for _ in range(MAX_OPEN - 1)]
    assert start_answer(client, url, sealed, keys).status_code == 409
    assert first not in others
    for index in range(3):
        assert put_part(client, url, first, sealed, index) == 200
    assert done_upload(client, url, first) == 200


def test_another_witness_with_the_same_nonce_gets_its_own_upload(
    site: Site, client: FlaskClient
) -> None:
    _, url = open_page(client)
    sealed, keys = sealed_for(site), keys_of(site)
    nonce = secrets.token_hex(16)
    mine = start_upload(client, url, sealed, keys, nonce=nonce)
    stranger = site.client()
    _, other_url = open_page(stranger)
    theirs = start_upload(stranger, other_url, sealed, keys, nonce=nonce)
    assert theirs != mine
    assert put_part(stranger, other_url, theirs, sealed, 0) == 200
    assert put_part(client, url, mine, sealed, 0) == 200


def test_a_malformed_nonce_is_refused(site: Site, client: FlaskClient) -> None:
    _, url = open_page(client)
    sealed, keys = sealed_for(site), keys_of(site)
    assert start_answer(client, url, sealed, keys, nonce="x" * 32).status_code == 409
    assert start_answer(client, url, sealed, keys, nonce="ab" * 16 + "\n").status_code == 409
