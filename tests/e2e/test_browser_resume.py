"""Issue 16's proof for item 2: a browser-sealed upload survives the server being killed.

Debian's Chromium (JavaScript on) sends a 1 GiB file through a relay to a real gunicorn. The
page seals the file part by part as it sends (a few parts in memory at a time), so the test
watches the server's copy grow and, once half the parts have arrived, kills the whole server
(master and workers) with SIGKILL and starts it again on the same port; the same page goes on
from the first part the server lacks, with the part it still holds, and the testimony arrives.
The stored file opens with the real `age` binary and hashes to the original, and the relay,
which sees every byte between the browser and the server, never sees the file's plaintext (a
canary stamped all through it). The relay does not throttle here: the kill is timed by the
parts count, not by a slow rate. Its cost is the browser sealing and hashing 1 GiB: 11.5 min
on a two-core machine shared with seven other test runs (load 16), far less on an idle one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.chromium import BROWSER_MARKS, chromium
from tests.e2e.conftest import LiveSite, _wait_until_serving, children_of
from tests.e2e.test_browser_sealing import _to_form

pytest.importorskip("playwright.sync_api")

AGE = shutil.which("age")
SIZE = 1024 * 1024 * 1024
DONE_TIMEOUT_MS = 600_000

pytestmark = [*BROWSER_MARKS, pytest.mark.skipif(AGE is None, reason="the age binary is missing")]


class Relay:
    """A TCP relay from a loopback port to the site's, throttling what the browser sends to
    `rate` bytes a second (if given) and looking for the canary in it (with an overlap, so a
    canary split between reads counts)."""

    def __init__(self, target: int, canary: bytes, rate: float | None = None) -> None:
        self.target = target
        self.canary = canary
        self.rate = rate
        self.seen_canary = False
        self.bytes_up = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target))
        except OSError:
            client.close()  # the server is down: the browser sees a dropped connection
            return
        threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()
        self._pipe(client, upstream, True)

    def _pipe(self, source: socket.socket, sink: socket.socket, up: bool) -> None:
        tail = b""
        try:
            while data := source.recv(64 * 1024):
                if up:
                    window = tail + data
                    self.seen_canary |= self.canary in window
                    tail = window[-len(self.canary) :]
                    self.bytes_up += len(data)
                    if self.rate:
                        time.sleep(len(data) / self.rate)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def close(self) -> None:
        self._server.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _sealed_so_far(site: LiveSite) -> tuple[int, int]:
    """(bytes in the upload in progress, its declared sealed size), or (0, 0) before it starts."""
    for meta in (site.data_dir / "store" / "parts").glob("*.json"):
        temp = site.temp_dir / meta.stem
        if temp.is_file():
            return temp.stat().st_size, int(json.loads(meta.read_text())["sealed_size"])
    return 0, 0


def _kill_all(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the server's process group and any worker outside it: no graceful end."""
    workers = children_of(process.pid)
    # A restart that exited has no group left to kill.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    for pid in workers:
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)


def _restart(site: LiveSite, started: list[subprocess.Popen[bytes]]) -> None:
    """`intake serve` again on the site's port, added to `started` before the wait for it: a
    server that never answers still has its own session, and the caller's cleanup kills it."""
    intake = Path(sys.executable).with_name("intake")
    with site.log.open("ab") as out:
        process = subprocess.Popen(
            [str(intake), "serve", "--bind", f"127.0.0.1:{site.port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=site.env,
            start_new_session=True,
        )
    started.append(process)
    _wait_until_serving(site.port, process, site.log)


def wait_for_half(site: LiveSite, pause: Callable[[], object]) -> None:
    """Until half the upload is sealed on disk (not all of it), calling `pause` between looks:
    a Playwright page must wait through its own loop, other drivers can sleep."""
    deadline = time.monotonic() + 900  # a bound for a failure only: a shared CI host is slow
    while time.monotonic() < deadline:
        have, total = _sealed_so_far(site)
        if total and have >= total // 2:
            assert have < total, "the upload finished before the kill"
            return
        pause()
    pytest.fail("the upload never reached half way")


def _source(path: Path, canary: bytes) -> str:
    """Write SIZE bytes of one random block with the canary at its end, repeated; its SHA-256."""
    block = secrets.token_bytes(64 * 1024 - len(canary)) + canary
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(SIZE // len(block)):
            out.write(block)
            digest.update(block)
    return digest.hexdigest()


def _opened_sha256(site: LiveSite, blob: Path, workdir: Path) -> str:
    """The blob opened by the real `age` binary into a file, and that file's SHA-256."""
    identity = workdir / "investigator.key"
    identity.write_text(str(site.investigator) + "\n", encoding="ascii")
    identity.chmod(0o600)
    opened = workdir / "opened"
    subprocess.run(
        ["age", "-d", "-i", str(identity), "-o", str(opened), str(blob)], check=True, timeout=300
    )
    digest = hashlib.sha256()
    with opened.open("rb") as source:
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
    opened.unlink()
    return digest.hexdigest()


def test_the_upload_survives_a_server_killed_half_way(
    browser: Any, live_site: LiveSite, tmp_path: Path
) -> None:
    canary = f"CANARY-{secrets.token_hex(8)}".encode()
    source = tmp_path / "convoy.mp4"
    digest = _source(source, canary)
    relay = Relay(live_site.port, canary)
    site = LiveSite(**{**live_site.__dict__, "base_url": f"http://127.0.0.1:{relay.port}"})
    context = browser.new_context(java_script_enabled=True)
    restarted: list[subprocess.Popen[bytes]] = []
    try:
        page = context.new_page()
        _to_form(page, site)
        page.check("#recipients-only")
        page.check("#consent")
        page.fill("#account", "The convoy stopped at the bridge.")
        page.set_input_files("#group1-files", str(source))
        page.click("#send")
        wait_for_half(live_site, lambda: page.wait_for_timeout(100))
        _kill_all(live_site.process)
        page.wait_for_selector("#seal-status:has-text('connection was lost')", timeout=60_000)
        assert float(page.locator("#seal-progress").get_attribute("value") or 0) > 0
        _restart(live_site, restarted)
        page.wait_for_selector("#reference", timeout=DONE_TIMEOUT_MS)
        hashes = [c.strip() for c in page.locator("#received-files td.hash").all_inner_texts()]
        reference = page.locator("#reference").inner_text().strip()
    finally:
        context.close()
        relay.close()
        for process in restarted:
            _kill_all(process)
    assert hashes == [digest]
    (entry,) = live_site.submission(reference).files
    assert (entry.original_name, entry.size) == (source.name, SIZE)
    assert (entry.plaintext_sha256, entry.plaintext_sha256_by) == (digest, "browser")
    blob = live_site.blob_dir / entry.blob_name
    assert _opened_sha256(live_site, blob, tmp_path) == digest
    assert not relay.seen_canary  # nothing between browser and server saw the plaintext
    # Resume overhead: what crossed the relay beyond the sealed file is at most one part
    # resent plus the requests' headers and the form.
    assert relay.bytes_up < blob.stat().st_size + 4 * 1024 * 1024 + 512 * 1024
