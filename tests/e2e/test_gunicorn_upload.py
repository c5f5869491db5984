"""A 1 GiB upload through a real gunicorn on 127.0.0.1, watched through /proc while it runs.

The file is generated block by block and streamed with a precomputed Content-Length (no
gigabyte buffer anywhere in the test). While it travels, every file the gunicorn processes
hold open is looked at through /proc/PID/fd: the only regular files may be the database, the
log, gunicorn's empty heartbeat, temporary blobs in the store's tmp/ area, and the installed
code and data opened read-only; nothing deleted or anonymous (Werkzeug's spool file would be
both), and a canary stamped all through the file's content is never found in any of them.
Afterwards the stored blob opens offline, as a stream, to exactly the bytes sent, and no canary
(content, file name, account text) is in the data directory, the server's temporary directory
or its log.

INTAKE_E2E_UPLOAD_MIB sets the size (default 1024); it takes about 20 s at 1 GiB here.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.conftest import LiveSite, serve
from tests.e2e.streaming import GeneratedFile, multipart, open_form, post_stream, required_answers

pytestmark = [pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

MIB = 1 << 20
SIZE = int(os.environ.get("INTAKE_E2E_UPLOAD_MIB", "1024")) * MIB
SCAN_CHUNK = 16 * MIB
# Where the server's code and read-only data live: the virtual environment, the interpreter's
# standard library (a worker gunicorn starts while watched imports the app as it boots), and
# the packages and templates of this checkout (an editable install). Opened read-only, they
# hold no upload.
REPO = Path(__file__).resolve().parents[2]
INSTALLED = [
    Path(sys.prefix).resolve(),
    Path(sys.base_prefix).resolve(),
    *(REPO / name for name in ("crypto", "intake", "templates")),
    Path("/etc/mime.types"),  # Python's mimetypes reads it once, when a worker first guesses
]
# gunicorn's worker heartbeat: an empty file it creates in worker_tmp_dir and unlinks at once.
HEARTBEAT = re.compile(r"^/dev/shm/wgunicorn-[^/]+ \(deleted\)$")


def read_only(fd_path: Path) -> bool:
    """Whether the descriptor was opened O_RDONLY (from /proc/PID/fdinfo/N)."""
    info = fd_path.parent.parent / "fdinfo" / fd_path.name
    flags = next(line for line in info.read_text().splitlines() if line.startswith("flags:"))
    return int(flags.split()[1], 8) & os.O_ACCMODE == os.O_RDONLY


@pytest.fixture
def big_site(tmp_path: Path) -> Iterator[LiveSite]:
    """A live site whose processes use a temporary directory of their own (to search it);
    its data directory, a gigabyte of sealed blob, is removed after the test."""
    server_tmp = tmp_path / "server-tmp"
    server_tmp.mkdir()
    with serve(tmp_path, extra_env={"TMPDIR": str(server_tmp)}) as site:
        yield site
    shutil.rmtree(site.data_dir)


@dataclass
class OpenFileWatch:
    """Polls /proc/PID/fd of the server's processes; reads each open file's new bytes once."""

    site: LiveSite
    canary: bytes
    pids: list[int]
    seen: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    hits: set[str] = field(default_factory=set)
    temp_bytes_read: int = 0
    # Per open file (device, inode): how far it has been read, and the last bytes read.
    _read: dict[tuple[int, int], tuple[int, bytes]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def allowed(self, target: str, fd_path: Path, size: int) -> bool:
        if HEARTBEAT.match(target):
            return size == 0
        path = Path(target)
        keys = [Path(self.site.env["INTAKE_KEYRING_FILE"]), self.site.data_dir / "secret_key"]
        if any(path.is_relative_to(root) for root in [*INSTALLED, *keys]) and read_only(fd_path):
            # The code and its data (Babel's locale files, templates) being loaded, the
            # investigators' public keys read for each upload, the session key read at boot.
            return True
        database = {self.site.database.name + suffix for suffix in ("", "-wal", "-shm", "-journal")}
        # The disk guard's reservation files and its ledger lock (intake/diskguard.py): held
        # open under flock while an upload runs, and never written to.
        reservation = path.parent == self.site.data_dir / "store" / "reserve"
        return (
            path.parent == self.site.temp_dir
            or (path.parent == self.site.data_dir and path.name in database)
            or path == self.site.log
            or (reservation and size == 0)
        )

    def look(self) -> None:
        for pid in self.pids:
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except FileNotFoundError:
                continue
            for fd_path in fds:
                try:
                    target = os.readlink(fd_path)
                    # Sockets, pipes and devices are not files ("socket:[…]", "/dev/null");
                    # /dev/shm is a file system, and memfd's "/memfd:… (deleted)" is a file.
                    device = target.startswith(("/dev/", "/proc/"))
                    if target.startswith("/") and (not device or target.startswith("/dev/shm/")):
                        self._check(fd_path, target)
                except (FileNotFoundError, ProcessLookupError):
                    continue  # closed between listing and reading: the next look sees the rest

    def _check(self, fd_path: Path, target: str) -> None:
        # Open first and ask the open file what it is: the server may close this descriptor
        # and reuse its number (for a directory held to fsync a rename) between a stat of
        # the path and the open, which made the watch itself fail in CI.
        descriptor = os.open(fd_path, os.O_RDONLY)
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            os.close(descriptor)
            return  # a directory held open to fsync a rename into it: no file content
        with open(descriptor, "rb") as handle:
            self.seen.add(target)
            if not self.allowed(target, fd_path, info.st_size):
                self.refused.add(target)
            key = (info.st_dev, info.st_ino)
            offset, tail = self._read.get(key, (0, b""))
            handle.seek(offset)
            while data := handle.read(SCAN_CHUNK):
                if self.canary in tail + data:  # the tail catches a canary across two reads
                    self.hits.add(target)
                if Path(target).parent == self.site.temp_dir:
                    self.temp_bytes_read += len(data)
                offset += len(data)
                tail = data[-len(self.canary) :]
        self._read[key] = (offset, tail)

    def run(self) -> None:
        while not self._stop.is_set():
            self.look()
            time.sleep(0.02)

    def stop(self) -> None:
        self._stop.set()


def files_containing(root: Path, canary: bytes) -> list[Path]:
    """Every regular file under `root` whose bytes contain `canary`, read in chunks."""
    found = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        with path.open("rb") as handle:
            tail = b""
            while chunk := handle.read(SCAN_CHUNK):
                if canary in tail + chunk:
                    found.append(path)
                    break
                tail = chunk[-len(canary) :]
    return found


def test_a_large_upload_is_sealed_on_arrival_and_opens_intact(
    big_site: LiveSite, tmp_path: Path
) -> None:
    canary = f"CANARY-{secrets.token_hex(8)}"
    file = GeneratedFile.random(SIZE, canary.encode())
    expected_sha256 = file.sha256()
    form = open_form(big_site.port)
    fields = required_answers(f"A long video of the crossing {canary}")
    content_type, length, body = multipart(fields, "group1-files", f"{canary}.mp4", file)

    watch = OpenFileWatch(big_site, canary.encode(), [big_site.process.pid, *big_site.workers()])
    watcher = threading.Thread(target=watch.run, daemon=True)
    watcher.start()
    try:
        status, page = post_stream(big_site.port, form, content_type, length, body)
    finally:
        watch.stop()
        watcher.join(timeout=30)
    assert status == 200, page[-2000:]
    assert expected_sha256 in page  # the receipt shows the SHA-256 of exactly what arrived

    # The watch saw the upload being sealed into the store's tmp/ area, and nothing else.
    assert any(Path(t).parent == big_site.temp_dir for t in watch.seen), watch.seen
    assert watch.temp_bytes_read > SIZE // 4
    assert watch.refused == set()
    assert watch.hits == set()

    reference = re.search(r'<strong id="reference">([^<]+)</strong>', page)
    assert reference is not None
    (entry,) = big_site.submission(reference.group(1)).files
    assert entry.original_name == f"{canary}.mp4"
    assert (entry.plaintext_sha256, entry.size) == (expected_sha256, SIZE)
    assert big_site.blob_sha256(entry.blob_name) == (expected_sha256, SIZE)

    for root in (big_site.data_dir, tmp_path / "server-tmp"):
        assert files_containing(root, canary.encode()) == []
    assert canary not in big_site.log.read_text()
    assert list(big_site.temp_dir.iterdir()) == []  # committed, not left behind
