"""A client that sends a large testimony to a live site without ever holding the file in memory.

It takes the codename step and fetches the form like a browser (session cookie, action URL
with the CSRF and one-time tokens), then streams a multipart body with a precomputed
Content-Length: the text parts, one file part generated block by block, the closing boundary.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import unescape
from urllib.parse import urlencode

BLOCK = 1 << 20
# Makes the connection to (port, timeout): a plain one, or one that first says which Tor
# circuit it comes on (tests/deploy/haproxy.py, in front of HAProxy).
Connect = Callable[[int, float], http.client.HTTPConnection]


def plain(port: int, timeout: float) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)


_ACTION = re.compile(r'<form id="testimony-form"[^>]*action="([^"]+)"')


@dataclass(frozen=True)
class FormSession:
    """What a browser holds after loading the form: its session cookie and the form's action."""

    cookie: str
    action: str


def _request(
    port: int,
    method: str,
    path: str,
    cookie: str,
    body: bytes | None = None,
    *,
    connect: Connect = plain,
) -> tuple[int, str, str]:
    """One request; returns the status, the body and the session cookie (kept if none set)."""
    conn = connect(port, 60)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        html = response.read().decode()
        cookie = (response.getheader("Set-Cookie") or cookie).split(";", 1)[0]
    finally:
        conn.close()
    return response.status, html, cookie


def _form_action(html: str, form_id: str) -> str:
    match = re.search(rf'<form id="{form_id}"[^>]*action="([^"]+)"', html)
    assert match, f"no {form_id} on the page"
    return unescape(match.group(1))


def open_form(port: int, connect: Connect = plain) -> FormSession:
    """The testimony form as a browser reaches it: through the codename step."""
    _status, start, cookie = _request(port, "GET", "/start", "", connect=connect)
    action = _form_action(start, "start-form")
    status, _html, cookie = _request(port, "POST", action, cookie, b"", connect=connect)
    assert status == 303, _html  # to the codename page, which a reload shows again
    status, issued, cookie = _request(port, "GET", "/start/codename", cookie, connect=connect)
    assert status == 200, issued
    words = re.search(r'id="codename">([^<]+)<', issued)
    assert words
    typed = {
        name: words.group(1).split(" ")[int(position) - 1]
        for position, name in re.findall(
            r'data-position="(\d)" id="word[12]"[^>]* name="(word[12])"', issued
        )
    }
    answer = urlencode(typed).encode()
    action = _form_action(issued, "confirm-form")
    status, _html, cookie = _request(port, "POST", action, cookie, answer, connect=connect)
    assert status == 303
    status, html, cookie = _request(port, "GET", "/testimony", cookie, connect=connect)
    assert status == 200, html
    match = _ACTION.search(html)
    assert match, "the form page has no testimony form"
    assert cookie, "the form page set no session cookie"
    return FormSession(cookie=cookie, action=unescape(match.group(1)))


@dataclass(frozen=True)
class GeneratedFile:
    """`size` bytes made of one random block with a counter and `marker` stamped on each block,
    so that no two blocks are equal and `marker` runs all through the file."""

    size: int
    marker: bytes
    seed: bytes

    @classmethod
    def random(cls, size: int, marker: bytes) -> GeneratedFile:
        return cls(size, marker, secrets.token_bytes(BLOCK))

    def blocks(self) -> Iterator[bytes]:
        """The file's content, one block at a time (the same bytes on every pass)."""
        for index in range(-(-self.size // BLOCK)):
            stamp = index.to_bytes(8, "big") + self.marker
            yield (stamp + self.seed[len(stamp) :])[: self.size - index * BLOCK]

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for block in self.blocks():
            digest.update(block)
        return digest.hexdigest()


def _part(boundary: str, name: str, extra: str = "") -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"{extra}\r\n'
    return f"--{boundary}\r\n{disposition}".encode()


def multipart(
    fields: list[tuple[str, str]], file_field: str, filename: str, file: GeneratedFile
) -> tuple[str, int, Iterator[bytes]]:
    """(content type, content length, body chunks) of a form with one large file part."""
    boundary = "----intake" + secrets.token_hex(12)
    head = b"".join(
        _part(boundary, name) + b"\r\n" + value.encode() + b"\r\n" for name, value in fields
    )
    head += _part(boundary, file_field, f'; filename="{filename}"')
    head += b"Content-Type: video/mp4\r\n\r\n"
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        yield from file.blocks()
        yield tail

    content_type = f"multipart/form-data; boundary={boundary}"
    return content_type, len(head) + file.size + len(tail), body()


def post_stream(
    port: int,
    form: FormSession,
    content_type: str,
    length: int,
    body: Iterator[bytes],
    *,
    connect: Connect = plain,
) -> tuple[int, str]:
    """POST the body to the form's action as it is generated; (status, page) of the answer."""
    conn = connect(port, 600)
    try:
        conn.putrequest("POST", form.action)
        conn.putheader("Content-Type", content_type)
        conn.putheader("Content-Length", str(length))
        conn.putheader("Cookie", form.cookie)
        conn.endheaders()
        for chunk in body:
            conn.send(chunk)
        response = conn.getresponse()
        page = response.read().decode()
        cookie = (response.getheader("Set-Cookie") or form.cookie).split(";", 1)[0]
        location = response.getheader("Location")
    finally:
        conn.close()
    if response.status == 303 and location:  # the receipt, as a browser follows it
        status, page, _cookie = _request(port, "GET", location, cookie, connect=connect)
        return status, page
    return response.status, page


def required_answers(account: str) -> list[tuple[str, str]]:
    """The required answers of the testimony form, as a browser sends them."""
    return [
        ("consent", "y"),
        ("recipients", "investigators"),
        ("account", account),
        ("identify", "no"),
        ("contact", "no"),
        ("contact_how", "receipt-code"),
    ]
