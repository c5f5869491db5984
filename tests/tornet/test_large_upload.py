"""A 100 MiB testimony through Tor arrives whole: tor → HAProxy → gunicorn, sealed on arrival.

The file is generated block by block as it is sent (tests/e2e/streaming.py), so neither the
client nor anything on the way needs it in memory; the receipt names its SHA-256 and the blob
opens with the investigator key to exactly those bytes. Its speed goes to bench/tornet.py.
"""

from __future__ import annotations

import os
import re
import secrets

import pytest

from tests.e2e.streaming import GeneratedFile, multipart, open_form, post_stream, required_answers
from tests.tornet import socks
from tests.tornet.stack import Stack

pytestmark = [pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

MIB = 1 << 20
SIZE = int(os.environ.get("INTAKE_TORNET_UPLOAD_MIB", "100")) * MIB


def test_a_100_mib_upload_through_tor_arrives_whole(tornet: Stack) -> None:
    connect = socks.connector(tornet.network.socks_port, tornet.network.onion)
    canary = f"CANARY-{secrets.token_hex(8)}"
    file = GeneratedFile.random(SIZE, canary.encode())
    form = open_form(80, connect)
    fields = required_answers(f"A long video of the crossing {canary}")
    content_type, length, body = multipart(fields, "group1-files", f"{canary}.mp4", file)

    status, page = post_stream(80, form, content_type, length, body, connect=connect)

    assert status == 200, page[-2000:]
    expected = file.sha256()
    assert expected in page
    reference = re.search(r'<strong id="reference">([^<]+)</strong>', page)
    assert reference is not None
    (entry,) = tornet.site.submission(reference[1]).files
    assert (entry.plaintext_sha256, entry.size) == (expected, SIZE)
    assert tornet.site.blob_sha256(entry.blob_name) == (expected, SIZE)
    assert list(tornet.site.temp_dir.iterdir()) == []
