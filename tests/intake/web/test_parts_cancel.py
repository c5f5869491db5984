"""An upload the page gives up (issue 16 review L): cancelled by its own witness, it frees its
reservation at once; left without a cancel, it reserves only what it wrote once idle."""

from __future__ import annotations

import os
import shutil
import time

from flask.testing import FlaskClient

from intake.diskguard import HEADROOM_BYTES
from intake.partstore import PartStore
from intake.partstore.store import IDLE_SECONDS
from tests.intake.web.conftest import Site
from tests.intake.web.parts_steps import (
    MIB,
    at,
    begin,
    done_upload,
    keys_of,
    open_page,
    put_part,
    sealed_for,
    start_answer,
    start_upload,
)


def _cancel(client: FlaskClient, url: str, upload: str) -> int:
    return client.post(at(url, upload, "cancel")).status_code


def _room_for_one_more(site: Site) -> int:
    """Bytes to reserve elsewhere so that one 9 MiB upload fits beside one more, not two."""
    ledger = site.services.reservations
    ledger.directory.mkdir(mode=0o700, exist_ok=True)
    free = shutil.disk_usage(ledger.directory).free
    return (free - 15 * MIB - HEADROOM_BYTES) * 2048 // 2049


def test_a_cancel_frees_the_reservation_and_the_files_and_may_come_twice(
    site: Site, client: FlaskClient
) -> None:
    begun = begin(site, client)
    url, sealed, upload = begun.url, begun.sealed, begun.upload
    root = site.services.config.blob_dir
    with site.services.reservations.reserve(_room_for_one_more(site)):
        assert start_answer(client, url, sealed, keys_of(site)).status_code == 503
        assert _cancel(client, url, upload) == 200
        assert not (root / "tmp" / upload).exists()
        assert not (root / "parts" / f"{upload}.json").exists()
        assert _cancel(client, url, upload) == 200  # sent twice, or after the sweep
        start_upload(client, url, sealed, keys_of(site))
    assert client.get(at(url, upload)).status_code == 409  # gone for the page too


def test_another_witness_cannot_cancel_an_upload(site: Site, client: FlaskClient) -> None:
    _, url = open_page(client)
    sealed = sealed_for(site)
    upload = start_upload(client, url, sealed, keys_of(site))
    stranger = site.client()
    _, other_url = open_page(stranger)
    assert _cancel(stranger, other_url, upload) == 409
    assert _cancel(client, other_url, upload) == 403  # the other form's token is not ours
    assert PartStore(site.services.config.blob_dir).temp_exists(upload)
    assert put_part(client, url, upload, sealed, 0) == 200


def test_a_cancel_leaves_a_finished_upload_in_the_draft(site: Site, client: FlaskClient) -> None:
    begun = begin(site, client, parts=3)
    url, upload = begun.url, begun.upload
    assert done_upload(client, url, upload) == 200
    assert _cancel(client, url, upload) == 200  # late: the file stays
    assert done_upload(client, url, upload) == 200  # answered as before: still in the draft


def test_an_idle_upload_reserves_only_what_it_wrote(site: Site, client: FlaskClient) -> None:
    begun = begin(site, client)
    url, sealed, upload = begun.url, begun.sealed, begun.upload
    temp = site.services.config.blob_dir / "tmp" / upload
    with site.services.reservations.reserve(_room_for_one_more(site)):
        assert start_answer(client, url, sealed, keys_of(site)).status_code == 503
        quiet = time.time() - IDLE_SECONDS - 60
        os.utime(temp, (quiet, quiet))  # the page gave it up without a word
        start_upload(client, url, sealed, keys_of(site))


def test_a_restart_names_the_upload_it_replaces_so_its_cancel_cannot_come_too_late(
    site: Site, client: FlaskClient
) -> None:
    # A page reloaded mid-upload left one upload (`older`); this page's upload is refused
    # half way and it seals the file again. Its cancel of `first` was sent unawaited, so the
    # next start may reach the server before it: the witness then holds two unfinished uploads
    # and the start is refused, one restart lost (two: the page falls back to the plain form).
    begun = begin(site, client)
    url, sealed, first = begun.url, begun.sealed, begun.upload
    older = start_upload(client, url, sealed, keys_of(site))
    assert start_answer(client, url, sealed, keys_of(site)).status_code == 409  # the race lost
    # The restart's start names the upload it replaces: the server cancels it first, in order.
    second = start_upload(client, url, sealed, keys_of(site), replaces=first)
    root = site.services.config.blob_dir
    assert not (root / "tmp" / first).exists()
    assert not (root / "parts" / f"{first}.json").exists()
    assert _cancel(client, url, first) == 200  # the page's own cancel, late: harmless
    for upload in (older, second):
        assert put_part(client, url, upload, sealed, 0) == 200
    stranger = site.client()
    _, other_url = open_page(stranger)
    refused = start_answer(stranger, other_url, sealed, keys_of(site), replaces=older)
    assert refused.status_code == 409  # no witness replaces another's upload
    assert put_part(client, url, older, sealed, 1) == 200
