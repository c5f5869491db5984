"""Reading a file's own metadata in the sandboxed children: what is read, and what is refused."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.triage.media.clips import clip, photo
from triage.media.facts import READ, UNREADABLE, MediaFacts
from triage.media.probe import Toolkit, find_tools, probe_descriptor, read_only

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("exiftool") is None,
    reason="needs Debian ffmpeg and libimage-exiftool-perl (make tools)",
)


@pytest.fixture(scope="module")
def tools() -> Toolkit:
    found = find_tools()
    assert found.pyav
    assert found.exiftool
    return found


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clip(tmp_path_factory.mktemp("clips") / "a.mp4")


def _probe(path: Path, tools: Toolkit, **kw: float) -> MediaFacts:
    fd = os.open(path, os.O_RDONLY)
    try:
        return probe_descriptor(fd, tools, **kw)
    finally:
        os.close(fd)


def test_video_facts_are_read(sample: Path, tools: Toolkit):
    facts = _probe(sample, tools)
    assert facts.state == READ
    assert facts.container is not None
    assert "mp4" in facts.container
    assert (facts.video_codec, facts.width, facts.height) == ("h264", 320, 240)
    assert facts.frame_rate == pytest.approx(25)
    assert facts.duration == pytest.approx(2, abs=0.1)
    assert (facts.audio_codec, facts.audio_channels) == ("aac", 2)
    assert facts.recorded_at == "2024-03-01T10:00:00+00:00"
    assert facts.latitude == pytest.approx(44.6167, abs=1e-4)
    assert facts.longitude == pytest.approx(33.5254, abs=1e-4)
    assert facts.gps_source == "QuickTime ISO 6709"
    assert (facts.make, facts.model) == ("Apple", "iPhone 12")
    assert facts.software is not None
    assert facts.software.startswith("Lavf")  # FFmpeg wrote it
    assert any(t.startswith("PyAV") for t in facts.tools)
    assert any(t.startswith("ExifTool") for t in facts.tools)
    assert "seccomp" in facts.isolation
    assert MediaFacts.from_json(facts.to_json()) == facts


def test_photo_exif_is_read(tmp_path: Path, tools: Toolkit):
    path = photo(tmp_path / "p.jpg", lat=47.0971, lon=37.5434, when="2024:05:02 08:30:00")
    facts = _probe(path, tools)
    assert facts.state == READ
    assert facts.gps_source == "EXIF/XMP GPS"
    assert facts.latitude == pytest.approx(47.0971, abs=1e-4)
    assert facts.recorded_at == "2024-05-02T08:30:00"
    assert not facts.zone_known()
    assert facts.make == "Canon"
    assert facts.software == "Adobe Photoshop 25.0"


def test_missing_exiftool_still_reads_the_container(sample: Path, tools: Toolkit):
    facts = _probe(sample, Toolkit(tools.pyav, None))
    assert facts.state == READ
    assert facts.width == 320
    assert "exiftool is not installed" in Toolkit(tools.pyav, None).missing()[0]


def test_original_is_never_modified(sample: Path, tools: Toolkit):
    before = (sample.read_bytes(), sample.stat().st_mtime_ns)
    _probe(sample, tools)
    assert (sample.read_bytes(), sample.stat().st_mtime_ns) == before


def test_corrupt_truncated_and_fuzzed_files_are_unreadable(sample: Path, tmp_path: Path, tools):
    data = sample.read_bytes()
    rng = random.Random(20)  # noqa: S311 - reproducible fuzzing, not secrecy
    cases = {"empty": b"", "garbage": rng.randbytes(50_000), "head": data[:64]}
    for n in range(6):
        fuzzed = bytearray(data[: len(data) // 3])  # truncated and bit-flipped
        for _ in range(200):
            fuzzed[rng.randrange(len(fuzzed))] = rng.randrange(256)
        fuzzed[:12] = rng.randbytes(12)  # no signature left to find
        cases[f"fuzz{n}"] = bytes(fuzzed)
    for name, blob in cases.items():
        path = tmp_path / name
        path.write_bytes(blob)
        facts = _probe(path, tools)
        assert facts.state == UNREADABLE, name
        assert facts.latitude is None
        assert facts.recorded_at is None
        assert facts.reason


def test_a_parser_that_never_answers_is_unreadable(tools: Toolkit):
    read, write = os.pipe()  # nothing ever arrives: the demuxer waits until it is killed
    try:
        facts = probe_descriptor(read, tools, timeout=2)
    finally:
        os.close(read)
        os.close(write)
    assert facts.state == UNREADABLE
    assert "no answer within 2 s" in facts.reason


@pytest.fixture
def listener(socket_enabled: None):
    """A local listening socket that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                seen.append(server.accept())
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


def test_playlists_read_nothing_outside_the_input(tmp_path: Path, sample: Path, tools, listener):
    port, seen = listener
    canary = tmp_path / "canary.mp4"
    shutil.copy(sample, canary)
    url = f"http://127.0.0.1:{port}/x.ts"
    playlists = {
        "p.m3u8": "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
        f"#EXTINF:2,\n{url}\n#EXTINF:2,\nfile:{canary}\n#EXTINF:2,\n{canary}\n#EXT-X-ENDLIST\n",
        "c.txt": f"ffconcat version 1.0\nfile '{url}'\nfile 'file:{canary}'\nfile '{canary}'\n",
    }
    for name, text in playlists.items():
        path = tmp_path / name
        path.write_text(text)
        before = canary.stat().st_atime_ns
        facts = _probe(path, tools)
        assert facts.state == UNREADABLE, name
        assert canary.stat().st_atime_ns == before
    assert seen == []  # no socket reached the listener


def _in_cell(code: str) -> subprocess.CompletedProcess[str]:
    program = "from triage.media._jail import confine, no_network, seccomp_deny\n" + code
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )


def test_the_cell_refuses_sockets_and_opens_and_caps_memory(tmp_path: Path):
    sockets = _in_cell("import socket\nseccomp_deny(opens=False)\nsocket.socket()")
    assert "PermissionError" in sockets.stderr
    opens = _in_cell(f"seccomp_deny(opens=True)\nopen({str(tmp_path / 'x')!r}, 'w')")
    assert "PermissionError" in opens.stderr
    memory = _in_cell("confine(256 << 20, 10)\nb = bytearray(512 << 20)")
    assert "MemoryError" in memory.stderr
    target = tmp_path / "y"
    writes = _in_cell(f"confine(1 << 30, 10)\nwith open({str(target)!r}, 'w') as f: f.write('x')")
    assert "File too large" in writes.stderr  # the parser can write no file at all
    assert target.stat().st_size == 0


def test_parsers_get_a_read_only_descriptor_from_the_start(tmp_path: Path):
    fd = os.open(tmp_path, os.O_TMPFILE | os.O_RDWR, 0o600)
    try:
        os.write(fd, b"plaintext")
        with read_only(fd) as source:
            assert source != fd
            assert os.read(source, 5) == b"plain"  # from the start, whatever fd's offset
            with pytest.raises(OSError, match="Bad file descriptor"):
                os.write(source, b"x")
    finally:
        os.close(fd)
    assert list(tmp_path.iterdir()) == []  # the unnamed file never showed in the folder
