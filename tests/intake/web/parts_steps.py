"""The steps the parts tests share: a witness's form page, a sealed file, an upload begun.

The sealed file is made here with crypto.age, as the page's script makes it with the age
TypeScript library. `begin` is the setup most parts tests open with: the page, the file sealed
to the active key, a start and its first part.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import re
from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from crypto.age import seal_bytes
from intake.models import DraftBlob
from intake.partstore import PART_SIZE
from tests.intake.web.conftest import Site, start_witness

__all__ = [
    "CONTENT",
    "DIGEST",
    "MIB",
    "Begun",
    "at",
    "begin",
    "done_upload",
    "draft_blobs",
    "have_parts",
    "keys_of",
    "open_page",
    "parts_url",
    "put_part",
    "sealed_for",
    "start_answer",
    "start_upload",
]

CONTENT = bytes(range(256)) * (9 * 4096 + 17)  # a little over 9 MiB: three parts
DIGEST = hashlib.sha256(CONTENT).hexdigest()
MIB = 1024 * 1024


def parts_url(page: str) -> str:
    found = re.search(r'data-parts-url="([^"]+)"', page)
    assert found
    return html_lib.unescape(found.group(1))


def at(url: str, *path: object) -> str:
    base, _, query = url.partition("?")
    return "/".join([base, *map(str, path)]) + "?" + query


def keys_of(site: Site) -> str:
    """The recipients a page declares it sealed to (comma-separated): the active key."""
    return str(site.investigator.recipient())


def open_page(client: FlaskClient) -> tuple[str, str]:
    """A new witness's testimony form and its parts URL."""
    page = start_witness(client)[1].get_data(as_text=True)
    return page, parts_url(page)


def sealed_for(site: Site) -> bytes:
    """CONTENT sealed to the active key, as the page seals it."""
    return seal_bytes(CONTENT, [site.investigator.recipient()])


def start_answer(
    client: FlaskClient,
    url: str,
    sealed: bytes,
    keys: str,
    *,
    size: int = len(CONTENT),
    replaces: str = "",
    nonce: str = "",
) -> TestResponse:
    fields = {"group": "1", "size": str(size), "sealed_size": str(len(sealed)), "keys": keys}
    if replaces:
        fields["replaces"] = replaces
    if nonce:
        fields["nonce"] = nonce
    return client.post(url, data=fields)


def start_upload(
    client: FlaskClient,
    url: str,
    sealed: bytes,
    keys: str,
    *,
    replaces: str = "",
    nonce: str = "",
) -> str:
    answer = start_answer(client, url, sealed, keys, replaces=replaces, nonce=nonce)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.json is not None
    assert answer.json["parts"] == 3
    return str(answer.json["id"])


def put_part(client: FlaskClient, url: str, upload: str, sealed: bytes, index: int) -> int:
    part = sealed[index * PART_SIZE : (index + 1) * PART_SIZE]
    answer = client.post(at(url, upload, index), data=part, content_type="application/octet-stream")
    return answer.status_code


def have_parts(client: FlaskClient, url: str, upload: str) -> int:
    answer = client.get(at(url, upload))
    assert answer.status_code == 200
    assert answer.json is not None
    return int(answer.json["have"])


def done_upload(client: FlaskClient, url: str, upload: str) -> int:
    meta = json.dumps({"size": len(CONTENT), "sha256": DIGEST})
    fields = {"name": "yard.mp4", "type": "video/mp4", "meta": meta}
    return client.post(at(url, upload, "done"), data=fields).status_code


def draft_blobs(site: Site) -> list[str]:
    with site.services.sessions() as session:
        return list(session.scalars(select(DraftBlob.name)))


@dataclass(frozen=True)
class Begun:
    """An upload under way: the form page, its parts URL, the sealed file and the upload id."""

    page: str
    url: str
    sealed: bytes
    upload: str


def begin(site: Site, client: FlaskClient, parts: int = 1) -> Begun:
    """A new witness's page, CONTENT sealed, an upload started and its first `parts` parts
    sent (each answered 200)."""
    page, url = open_page(client)
    sealed = sealed_for(site)
    upload = start_upload(client, url, sealed, keys_of(site))
    for index in range(parts):
        assert put_part(client, url, upload, sealed, index) == 200
    return Begun(page, url, sealed, upload)
