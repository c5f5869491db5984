"""Files built to break the scan (the attacker review of the media merge): each stays one
file's problem, and nothing a file says can fake a line or hide in a bundle."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.triage.factory import FileSpec, answers_for, build, export_bundle
from tests.triage.media.clips import Meta, camera, clip
from tests.triage.workbench import Bench
from triage.importing import media_scan
from triage.media.facts import READ, from_tools
from triage.media.layout import describe
from triage.media.probe import Toolkit, find_tools, hash_descriptor, probe_descriptor, run_cell
from triage.media.similar import FRAMES_MAX

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("exiftool") is None,
    reason="needs Debian ffmpeg and libimage-exiftool-perl (make tools)",
)


@pytest.fixture(scope="module")
def tools() -> Toolkit:
    return find_tools()


def _probe(path: Path, tools: Toolkit):
    fd = os.open(path, os.O_RDONLY)
    try:
        return probe_descriptor(fd, tools)
    finally:
        os.close(fd)


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def _far_future_photo(path: Path) -> Path:
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120", "-frames:v", "1", str(path))
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original", "-DateTimeOriginal=9999:12:31 23:59:59",
         "-OffsetTimeOriginal=-12:00", str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_a_time_past_year_9999_in_utc_is_dropped(tmp_path: Path, tools: Toolkit):
    facts = _probe(_far_future_photo(tmp_path / "y.jpg"), tools)
    assert facts.state == READ
    assert facts.recorded() is None
    assert facts.recorded_at is None


def test_import_and_later_scans_survive_a_file_that_breaks_the_scan(
    bench: Bench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    photo = _far_future_photo(tmp_path / "y.jpg").read_bytes()
    me = [bench.investigator.recipient]
    sent = build(
        me, answers=answers_for(B4_date="2024-03-01", B4_precision="exact"),
        files=[FileSpec(photo, declared_type="image/jpeg")],
        received_at=datetime(2024, 3, 3, tzinfo=UTC),
    )  # fmt: skip
    result = bench.run("import", str(export_bundle(tmp_path / "e", [sent])))
    assert result.exit_code == 0, result.output
    assert "media: 1 file(s) scanned, 1 read" in result.stdout

    # Whatever else goes wrong with one file (a bug of ours, a tool's surprise), it is that
    # file's "unreadable", and the scan goes on.
    def broken(*_args: object, **_kw: object) -> object:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(media_scan, "probe_descriptor", broken)
    again = bench.run("media", "scan", "--again")
    assert again.exit_code == 0, again.output
    assert "1 file(s) scanned, 0 read, 1 unreadable" in again.stdout
    shown = bench.run("show", sent.id)
    assert shown.exit_code == 0
    assert "unreadable (scan failed: OverflowError)" in shown.stdout


@pytest.mark.parametrize(("name", "codec"), [("s.mkv", "srt"), ("s.mp4", "mov_text")])
def test_files_with_subtitles_are_read(tmp_path: Path, tools: Toolkit, name: str, codec: str):
    video = clip(tmp_path / "v.mp4", seconds=1)
    subtitles = tmp_path / "s.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello\n")
    path = tmp_path / name
    _ffmpeg("-i", str(video), "-i", str(subtitles), "-map", "0", "-map", "1", "-c:v", "copy",
            "-c:a", "copy", "-c:s", codec, str(path))  # fmt: skip
    facts = _probe(path, tools)
    assert facts.state == READ, facts.reason
    assert facts.video_codec == "h264"


_FAKE = "Apple\nCONTRADICTION (time): none\u202e\x85\x1b[31m"


def test_metadata_cannot_fake_a_line_or_carry_controls():
    av = {"format": "mp4", "metadata": {"make": _FAKE, "model": "x\r\ny", "software": "a\tb"}}
    facts = from_tools(av, None)
    assert facts.make == "Apple CONTRADICTION (time): none"
    assert facts.model == "x y"
    assert facts.software == "a b"
    lines = describe(facts, [])
    assert not any("\n" in line or line.startswith("CONTRADICTION") for line in lines)


def test_show_and_bundle_keep_hostile_metadata_on_its_line(bench: Bench, tmp_path: Path):
    made = clip(tmp_path / "m.mp4", Meta(make=_FAKE, model="EOS\u2067 5D"), seconds=1)
    me = [bench.investigator.recipient]
    sent = build(
        me, answers=answers_for(B4_date="2024-03-01", B4_precision="exact", B6_oblast="UA-43"),
        files=[FileSpec(made.read_bytes())], received_at=datetime(2024, 3, 3, tzinfo=UTC),
    )  # fmt: skip
    assert bench.run("import", str(export_bundle(tmp_path / "e", [sent]))).exit_code == 0
    shown = bench.run("show", sent.id).stdout
    assert "CONTRADICTION" not in shown.replace("device: Apple CONTRADICTION", "")
    assert "\u202e" not in shown
    assert "\u2067" not in shown
    incident = bench.run("incident", "new", "X", "--oblast", "UA-43").stdout.strip()
    assert bench.run("incident", "add", incident, sent.id).exit_code == 0
    to = tmp_path / "case"
    exported = bench.run(
        "case", "export", incident, "--to", str(to), "--recipient", "OPG Ukraine",
        "--recipient-class", "ua-prosecutors", "--purpose", "criminal proceedings 1",
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    (meta,) = (to / "metadata").iterdir()
    raw = meta.read_text(encoding="utf-8")
    assert raw.isascii()  # nothing to reorder or act on in a viewer: escapes only
    assert "EOS 5D" in json.loads(raw)["facts"]["model"]


def _in_cell(code: str) -> str:
    program = "from triage.media._jail import seccomp_deny\n" + code
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    return done.stdout + done.stderr


def test_the_filter_covers_threads_started_before_it():
    said = _in_cell(
        "import socket, threading, time\n"
        "def early():\n"
        "    time.sleep(0.5)\n"
        "    try:\n"
        "        socket.socket(); print('socket allowed')\n"
        "    except PermissionError:\n"
        "        print('socket refused')\n"
        "thread = threading.Thread(target=early); thread.start()\n"
        "seccomp_deny(opens=True)\n"
        "thread.join()\n"
    )
    assert "socket refused" in said


def test_the_filter_refuses_changes_processes_and_exec_but_not_threads(tmp_path: Path):
    victim = tmp_path / "v"
    victim.write_text("x")
    calls = {
        "fork": "os.fork()",
        "unlink": f"os.unlink({str(victim)!r})",
        "rename": f"os.rename({str(victim)!r}, {str(tmp_path / 'w')!r})",
        "link": f"os.link({str(victim)!r}, {str(tmp_path / 'l')!r})",
        "symlink": f"os.symlink('v', {str(tmp_path / 's')!r})",
        "mkdir": f"os.mkdir({str(tmp_path / 'd')!r})",
        "truncate": f"os.truncate({str(victim)!r}, 0)",
        "exec": "os.execv('/bin/true', ['true'])",
        "spawn": "import subprocess; subprocess.run(['/bin/true'])",
    }
    for name, call in calls.items():
        said = _in_cell(f"import os\nseccomp_deny(opens=True)\n{call}\nprint('allowed')")
        assert "PermissionError" in said, (name, said)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v"]
    assert victim.read_text() == "x"
    thread = _in_cell(
        "import threading\nseccomp_deny(opens=True)\n"
        "t = threading.Thread(target=print, args=('thread ran',)); t.start(); t.join()"
    )
    assert "thread ran" in thread
    exiftool = _in_cell("import os\nseccomp_deny(opens=False)\nos.fork()")
    assert "PermissionError" in exiftool  # ExifTool may exec itself, never a new process


def test_a_timeout_kills_what_the_child_left_holding_the_pipe(tmp_path: Path):
    pid_file = tmp_path / "pid"
    leaver = (
        "import subprocess, sys\n"
        "p = subprocess.Popen(['sleep', '60'], stdout=sys.stdout)\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
    )
    started = time.monotonic()
    with open(os.devnull, "rb") as nothing:
        out, why = run_cell([sys.executable, "-c", leaver], nothing.fileno(), 2, 1 << 20)
    assert time.monotonic() - started < 10
    assert (out, why) == (None, "timeout")
    status = Path(f"/proc/{pid_file.read_text()}/status")
    time.sleep(0.2)
    assert not status.exists() or "zombie" in status.read_text()


def test_a_child_that_says_too_much_is_cut_off():
    with open(os.devnull, "rb") as nothing:
        out, why = run_cell(
            [sys.executable, "-c", "import sys; sys.stdout.write('x' * (4 << 20))"],
            nothing.fileno(), 10, 1 << 20,
        )  # fmt: skip
    assert out is None
    assert why == "more than 1 MiB of output"


def test_hashed_frames_per_file_are_capped(tmp_path: Path, tools: Toolkit):
    video = camera(tmp_path / "c.mp4", seconds=6)
    with open(video, "rb") as source:
        spread = hash_descriptor(source.fileno(), tools, duration=6, frames_max=3)
        lying = hash_descriptor(source.fileno(), tools, duration=1, frames_max=2)
    assert spread is not None
    assert [round(f.at) for f in spread] == [0, 2, 4]  # sparser, over the whole length
    assert lying is not None
    assert len(lying) == 2  # a file that understates its length still stops at the cap
    assert FRAMES_MAX == 1800


def test_the_filter_refuses_fchmodat2(tmp_path: Path):
    # chmod's newest door (Linux 6.6, number 452 on every architecture): without it in the
    # filter a parser could still change a file's mode on any kernel that has it.
    victim = tmp_path / "v"
    victim.write_text("x")
    victim.chmod(0o600)
    said = _in_cell(
        "import ctypes, errno\nseccomp_deny(opens=True)\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"done = libc.syscall(452, -100, {str(victim).encode()!r}, 0o777, 0)\n"
        "print('refused' if done == -1 and ctypes.get_errno() == errno.EACCES else done)"
    )
    assert "refused" in said
    assert victim.stat().st_mode & 0o777 == 0o600


def test_exiftools_cell_opens_files_to_read_only(tmp_path: Path):
    # ExifTool's cell may open paths (Perl loads its modules), but never to write: an open
    # with O_TRUNC would empty any file the investigator can write, the workspace's included
    # (RLIMIT_FSIZE stops growth, not truncation).
    victim = tmp_path / "v"
    victim.write_text("x")
    writes = (
        "open(path, 'w')", "open(path, 'a')", "open(path, 'r+')",
        "os.open(path, os.O_RDONLY | os.O_TRUNC)", "os.open(path + 'n', os.O_CREAT)",
    )  # fmt: skip
    for how in writes:
        code = f"import os\npath = {str(victim)!r}\nseccomp_deny(opens=False)\n{how}\n"
        said = _in_cell(code + "print('opened')")
        assert "PermissionError" in said, (how, said)
    assert victim.read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v"]
    reads = _in_cell(f"seccomp_deny(opens=False)\nprint(open({str(victim)!r}).read())")
    assert reads.strip() == "x"
