"""Server CPU per GiB: a file sealed in the browser and sent in parts, against the plain form.

Usage: .venv/bin/python bench/parts_cpu.py [--size 256MiB] [--repeat 3] [--dir /var/tmp]

One fresh `intake serve` (gunicorn, the shipped config) per run. A witness session is made as a
browser without JavaScript makes it (codename, two words typed back). Then either:

- plain: the testimony form with the file, which the server seals as it arrives;
- parts: the file sealed here first (crypto.age, standing in for the page's worker: its cost
  is the browser's, not counted), then sent as issue 16's page sends it (start, 4 MiB parts,
  done) and the form without the file; one part is cut half way and sent again, as after a
  dropped connection, to measure the resume's overhead in bytes.

The figure is the CPU seconds (user + system) of gunicorn's processes, read from /proc before
and after, per GiB of plaintext; runs are interleaved and repeated and medians reported (the
machine is shared). Bytes sent beyond the sealed file on the parts path are the resume's cost.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import re
import statistics
import sys
import tempfile
import time
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository, for bench.upload

from bench.upload import Body, Content, Server, running, stored_sha256
from crypto.age import Sealer
from crypto.x25519 import X25519Recipient

PART = 4 * 1024 * 1024
_FORM = re.compile(r'<form id="([a-z-]+)" method="post"[^>]*action="([^"]+)"')
_CODENAME = re.compile(r'<p class="codename" id="codename">([a-z ]+)</p>')
_POSITION = re.compile(r'data-position="(\d)" id="(word[12])"')
_PARTS = re.compile(r'data-parts-url="([^"]+)"')


class Client:
    """One browser's cookie jar (the session cookie only) over fresh connections."""

    def __init__(self, port: int) -> None:
        self.port, self.cookie, self.sent = port, "", 0

    def request(
        self, method: str, path: str, body: bytes = b"", ctype: str = ""
    ) -> tuple[int, str, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if ctype:
            headers["Content-Type"] = ctype
        try:
            conn.request(method, path, body=body or None, headers=headers)
            self.sent += len(body)
            response = conn.getresponse()
            text = response.read().decode()
            cookie = response.getheader("Set-Cookie")
            if cookie:
                self.cookie = cookie.split(";", 1)[0]
            return response.status, text, response.getheader("Location") or ""
        finally:
            conn.close()

    def form(self, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
        return self.request("POST", path, urlencode(fields).encode(), _URLENCODED)


_URLENCODED = "application/x-www-form-urlencoded"


def _action(page: str, form_id: str) -> str:
    return next(unescape(a) for i, a in _FORM.findall(page) if i == form_id)


def witness(port: int) -> tuple[Client, str]:
    """A confirmed witness's client and the testimony form's HTML."""
    client = Client(port)
    _, start, _ = client.request("GET", "/start")
    status, _, where = client.form(_action(start, "start-form"), {})
    _, page, _ = client.request("GET", where)
    match = _CODENAME.search(page)
    assert match, "no codename"
    words = match.group(1).split()
    answer = {name: words[int(pos) - 1] for pos, name in _POSITION.findall(page)}
    _, _, where = client.form(_action(page, "confirm-form"), answer)
    _, form, _ = client.request("GET", "/testimony")
    return client, form


def cpu_seconds(server: Server) -> float:
    """User + system CPU seconds of the master and its workers so far."""
    tick = 100.0  # os.sysconf("SC_CLK_TCK") on Linux
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(stat.parent.name)
        if pid == server.process.pid or int(fields[1]) == server.process.pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _seal(content: Content, recipient: X25519Recipient, directory: Path) -> Path:
    path = directory / "sealed.age"
    with path.open("wb") as out:
        sealer = Sealer(out, [recipient])
        for block in content.blocks():
            sealer.write(block)
        sealer.finish()
    return path


def send_parts(client: Client, form: str, sealed: Path, size: int) -> str:
    """Start, parts (one of them cut half way and sent again), done, then the form."""
    base, _, query = unescape(_PARTS.findall(form)[0]).partition("?")

    def at(*path: object) -> str:
        return "/".join([base, *map(str, path)]) + "?" + query

    total = sealed.stat().st_size
    fields = {"group": "1", "size": str(size), "sealed_size": str(total)}
    status, text, _ = client.form(at(), fields)
    assert status == 201, (status, text)
    upload = json.loads(text)["id"]
    with sealed.open("rb") as source:
        for index in range(-(-total // PART)):
            part = source.read(PART)
            if index == 1:  # a cut: half a part arrives, the rest never does
                _cut(client, at(upload, index), part)
                json.loads(client.request("GET", at(upload))[1])
            status, text, _ = client.request(
                "POST", at(upload, index), part, "application/octet-stream"
            )
            assert status == 200, text
    meta = json.dumps({"size": size, "sha256": "0" * 64})
    status, text, _ = client.form(
        at(upload, "done"), {"name": "v.mp4", "type": "video/mp4", "meta": meta}
    )
    assert status == 200, text
    body = Body.form(None)
    data = b"".join(body.chunks())
    ctype = f"multipart/form-data; boundary={body.boundary}"
    status, page, where = client.request("POST", _action(form, "testimony-form"), data, ctype)
    return client.request("GET", where)[1] if status == 303 else page


def _cut(client: Client, path: str, part: bytes) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=60)
    conn.putrequest("POST", path)
    conn.putheader("Cookie", client.cookie)
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("Content-Length", str(len(part)))
    conn.endheaders()
    half = part[: len(part) // 2]
    conn.send(half)
    client.sent += len(half)
    conn.close()
    time.sleep(0.5)


def send_plain(client: Client, form: str, content: Content) -> str:
    body = Body.form(content)
    data = io.BytesIO()
    for chunk in body.chunks():
        data.write(chunk)
    ctype = f"multipart/form-data; boundary={body.boundary}"
    status, page, where = client.request(
        "POST", _action(form, "testimony-form"), data.getvalue(), ctype
    )
    return client.request("GET", where)[1] if status == 303 else page


def one_run(kind: str, size: int, workdir: Path) -> tuple[float, int]:
    """(CPU seconds per GiB, bytes sent beyond the sealed file) for one fresh server."""
    content = Content.random(size)
    with running("intake", workdir) as server, tempfile.TemporaryDirectory(dir=workdir) as tmp:
        client, form = witness(server.port)
        sealed = (
            _seal(content, server.investigator.recipient(), Path(tmp)) if kind == "parts" else None
        )
        before, client.sent = cpu_seconds(server), 0
        page = (
            send_parts(client, form, sealed, size) if sealed else send_plain(client, form, content)
        )
        cpu = cpu_seconds(server) - before
        if kind == "plain" and stored_sha256(server, page) != content.sha256():
            raise RuntimeError("the stored file is not what was sent")
        extra = client.sent - (sealed.stat().st_size if sealed else 0)
        return cpu / (size / (1 << 30)), extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="MiB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    size = args.size << 20
    cpu: dict[str, list[float]] = {"plain": [], "parts": []}
    extra: list[int] = []
    for _ in range(args.repeat):
        for kind, figures in cpu.items():
            per_gib, sent = one_run(kind, size, args.dir)
            figures.append(per_gib)
            if kind == "parts":
                extra.append(sent)
    plain, parts = (statistics.median(cpu[k]) for k in ("plain", "parts"))
    print(f"{args.size} MiB, medians of {args.repeat}; server CPU seconds per GiB of plaintext")
    print(f"  plain form (sealed by the server)  {plain:7.2f} s/GiB")
    print(f"  browser-sealed, in parts           {parts:7.2f} s/GiB   ratio {parts / plain:.3f}")
    print(f"  resume: bytes sent beyond the sealed file, one part cut half way: {max(extra)}")
    print(f"          (at most one part, {PART} bytes, plus the form's answers)")


if __name__ == "__main__":
    main()
