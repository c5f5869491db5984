"""A witness's browser over raw sockets: cookies, the form's action URL, multipart bodies sent
whole, slowly, cut off or malformed on purpose, and the response parsed with http.client.
"""

from __future__ import annotations

import http.client
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

MINIMAL_TESTIMONY: list[tuple[str, str]] = [
    ("consent", "y"),
    ("recipients", "investigators"),
    ("recipients", "icc-otp"),
    ("account", "I saw soldiers take my neighbour away."),
    ("identify", "no"),
    ("contact", "no"),
    ("contact_how", "receipt-code"),
]

_ACTION = re.compile(r'<form id="([a-z-]+)" method="post"[^>]*action="([^"]+)"')
_CODENAME = re.compile(r'<p class="codename" id="codename">([^<]+)</p>')
_POSITION = re.compile(r'<input [^>]*data-position="(\d)" id="word[12]"[^>]* name="(word[12])"')


def confirm_words(body: str) -> list[tuple[str, str]]:
    """The confirmation form's answer for the codename shown on `body` (the codename step)."""
    match = _CODENAME.search(body)
    assert match, "no codename on the page"
    words = match.group(1).split(" ")
    return [(name, words[int(position) - 1]) for position, name in _POSITION.findall(body)]


_REFERENCE = re.compile(r'<strong id="reference">(S-[0-9A-Z]{16})</strong>')


@dataclass(frozen=True)
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str

    def codename(self) -> str:
        match = _CODENAME.search(self.body)
        assert match, f"no codename on the page (status {self.status})"
        return match.group(1)

    def reference(self) -> str:
        match = _REFERENCE.search(self.body)
        assert match, f"no reference on the page (status {self.status})"
        return match.group(1)

    def action(self, form_id: str) -> str:
        for found, action in _ACTION.findall(self.body):
            if found == form_id:
                return str(action).replace("&amp;", "&")
        raise AssertionError(f"no form {form_id!r} on the page (status {self.status})")


@dataclass(frozen=True)
class FilePart:
    """A file part: its bytes come from `chunks()` (called once per send), `size` in total."""

    field: str
    filename: str
    size: int
    chunks: Callable[[], Iterator[bytes]]
    content_type: str = "application/octet-stream"

    @classmethod
    def of(cls, field: str, filename: str, data: bytes) -> FilePart:
        return cls(field, filename, len(data), lambda: iter([data]))


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


@dataclass(frozen=True)
class Multipart:
    """A multipart/form-data body, streamed: text fields first, then the file parts."""

    fields: list[tuple[str, str]] = field(default_factory=list)
    files: list[FilePart] = field(default_factory=list)
    boundary: str = field(default_factory=lambda: "----rel" + secrets.token_hex(12))

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _heads(self) -> Iterator[tuple[bytes, FilePart | None]]:
        for name, value in self.fields:
            head = f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"'
            yield (head + "\r\n\r\n").encode() + value.encode() + b"\r\n", None
        for part in self.files:
            head = (
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote(part.field)}"'
                f'; filename="{_quote(part.filename)}"\r\nContent-Type: {part.content_type}'
            )
            yield (head + "\r\n\r\n").encode(), part

    @property
    def length(self) -> int:
        total = len(f"--{self.boundary}--\r\n")
        for head, part in self._heads():
            total += len(head) + (part.size + 2 if part else 0)
        return total

    def chunks(self) -> Iterator[bytes]:
        for head, part in self._heads():
            yield head
            if part:
                yield from part.chunks()
                yield b"\r\n"
        yield f"--{self.boundary}--\r\n".encode()


def paced(
    chunks: Iterable[bytes], *, rate: float | None, piece: int = 16 * 1024
) -> Iterator[bytes]:
    """`chunks` cut into `piece`-sized writes at about `rate` bytes per second (None: as given)."""
    if rate is None:
        yield from chunks
        return
    start, sent = time.monotonic(), 0
    for chunk in chunks:
        for offset in range(0, len(chunk), piece):
            part = chunk[offset : offset + piece]
            yield part
            sent += len(part)
            ahead = sent / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)


@dataclass
class Witness:
    """One browser: its own cookie, talking HTTP/1.1 to the site on 127.0.0.1:`port`."""

    port: int
    cookie: str = ""
    timeout: float = 60

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)

    def head(self, method: str, path: str, extra: Iterable[tuple[str, str]] = ()) -> bytes:
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            "Accept-Language: en-US",
        ]
        if self.cookie:
            lines.append(f"Cookie: {self.cookie}")
        lines += [f"{k}: {v}" for k, v in extra]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def read(self, sock: socket.socket) -> Response:
        raw = http.client.HTTPResponse(sock)
        try:
            raw.begin()
            body = raw.read().decode("utf-8", errors="replace")
        finally:
            raw.close()  # its file object holds the socket open otherwise
        for value in raw.headers.get_all("Set-Cookie") or []:
            if value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return Response(raw.status, raw.headers, body)

    def get(self, path: str) -> Response:
        with self.connect() as sock:
            sock.sendall(self.head("GET", path, [("Connection", "close")]))
            return self.read(sock)

    def send(
        self, path: str, body: Iterable[bytes], *, content_type: str, length: int | None
    ) -> Response:
        """POST `body` (an iterable of writes) and read the answer; a server that answers
        early and stops reading is fine: the answer is read once sending fails. A 303 is
        followed with a GET, as a browser does."""
        extra = [("Content-Type", content_type), ("Connection", "close")]
        if length is not None:
            extra.append(("Content-Length", str(length)))
        with self.connect() as sock:
            try:
                sock.sendall(self.head("POST", path, extra))
                for chunk in body:
                    sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            answer = self.read(sock)
        if answer.status == 303:
            return self.get(answer.headers["Location"])
        return answer

    def post(self, path: str, form: Multipart, *, rate: float | None = None) -> Response:
        """POST `form`; a 303 is followed with a GET, as a browser does."""
        answer = self.send(
            path,
            paced(form.chunks(), rate=rate),
            content_type=form.content_type,
            length=form.length,
        )
        if answer.status == 303:
            return self.get(answer.headers["Location"])
        return answer

    def testimony_action(self) -> str:
        """The testimony form's action, reached through the codename step."""
        issued = self.post(self.get("/start").action("start-form"), Multipart([]))
        confirmed = self.post(issued.action("confirm-form"), Multipart(confirm_words(issued.body)))
        return confirmed.action("testimony-form")

    def submit(self, files: Iterable[FilePart] = (), *, rate: float | None = None) -> Response:
        """A fresh form, filled with the minimal testimony and `files`, sent."""
        return self.post(
            self.testimony_action(), Multipart(list(MINIMAL_TESTIMONY), list(files)), rate=rate
        )

    def login(self, codename: str) -> Response:
        action = self.get("/return").action("login-form")
        form = Multipart([("codename", codename)])
        return self.post(action, form)
