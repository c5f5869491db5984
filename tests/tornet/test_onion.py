"""The deployment carries a witness through Tor: client tor → onion → tor → HAProxy → gunicorn.

Every request here goes through the client's SOCKS port to the onion address published by a
tor running the shipped deploy/torrc (PoW on, circuit ids exported to HAProxy), on the private
network of tests/tornet/network.py. HAProxy drops any connection without tor's PROXY line, so
a page that arrives at all proves the circuit-id export works as deployed.
"""

from __future__ import annotations

import hashlib
import re
import secrets

import pytest

from tests.deploy.test_haproxy_live import assert_site_headers
from tests.e2e.streaming import open_form, post_stream, required_answers
from tests.tornet import socks
from tests.tornet.network import reach
from tests.tornet.stack import SSH_BANNER, Stack

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


def _two_files_body(fields: list[tuple[str, str]], files: dict[str, bytes]) -> tuple[str, bytes]:
    """A multipart body with the answers and `files` in group 1, as a browser sends it."""
    boundary = "----tornet" + secrets.token_hex(12)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    ]
    for filename, content in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="group1-files"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def test_the_landing_page_arrives_through_the_onion(tornet: Stack) -> None:
    conn = socks.OnionConnection(tornet.network.socks_port, tornet.network.onion)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 200
    assert b'id="start"' in body
    assert_site_headers(response.headers)


def test_a_witness_sends_two_files_through_tor_and_gets_a_receipt(tornet: Stack) -> None:
    connect = socks.connector(tornet.network.socks_port, tornet.network.onion)
    form = open_form(80, connect)  # /start, the codename typed back, the form
    files = {
        "photo.jpg": secrets.token_bytes(300_000),
        # Above Werkzeug's 500 KB spool threshold: sealed on arrival all the same.
        "clip.mp4": secrets.token_bytes(900_000),
    }
    canary = f"CANARY-{secrets.token_hex(8)}"
    content_type, body = _two_files_body(required_answers(f"Seen at the bridge {canary}"), files)
    status, page = post_stream(80, form, content_type, len(body), iter([body]), connect=connect)

    assert status == 200, page[-2000:]
    for content in files.values():  # the receipt names the SHA-256 of exactly what arrived
        assert hashlib.sha256(content).hexdigest() in page
    reference = re.search(r'<strong id="reference">([^<]+)</strong>', page)
    assert reference is not None
    stored = {entry.original_name: entry for entry in tornet.site.submission(reference[1]).files}
    assert set(stored) == set(files)
    for name, entry in stored.items():
        assert tornet.site.open_blob(entry.blob_name) == files[name]
    assert canary not in tornet.site.log.read_text()


def test_the_admin_ssh_onion_is_published_but_unreachable_without_a_client_key(
    tornet: Stack,
) -> None:
    admin = tornet.network.hostname("admin-ssh")
    with pytest.raises(socks.SocksError) as refused:
        reach(tornet.network, admin, 22).close()
    # Published (the client fetched a descriptor) yet opaque: tor says a key is missing.
    assert refused.value.code == socks.ONION_MISSING_CLIENT_AUTH

    # The admin's key opens it: the refusal above was the missing key, not a dead service.
    controller = tornet.network.control("client")
    address = admin.removesuffix(".onion")
    try:
        controller.command(f"ONION_CLIENT_AUTH_ADD {address} x25519:{tornet.admin_key}")
        with socks.connect(tornet.network.socks_port, admin, 22) as sock:
            assert sock.recv(len(SSH_BANNER)) == SSH_BANNER
    finally:
        controller.command(f"ONION_CLIENT_AUTH_REMOVE {address}")
        controller.close()
