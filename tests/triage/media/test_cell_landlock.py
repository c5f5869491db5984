"""The cell's Landlock ruleset (triage.media._landlock): the third review's known limit, an
ExifTool cell on a laptop without user namespaces reading the investigator's other processes
and terminals, reproduced inside the real cell and now refused; and the ruleset in force."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.triage.media.clips import photo
from tests.triage.media.test_cell_escapes import CELLS, ROOT, _cell
from triage.media._landlock import landlock_abi
from triage.media.facts import READ
from triage.media.probe import find_tools, probe_descriptor

pytestmark = [
    pytest.mark.skipif(landlock_abi() < 1, reason="this kernel has no Landlock"),
    pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86_64 system call numbers"),
]
SECRET = "landlock-canary-3f9a"


_REACH = """
sib = sys.argv[3]
def peek(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        return errno.errorcode.get(e.errno, "?")
    try:
        return "leaked:" + os.read(fd, 4096).decode("latin-1").replace("\\0", " ")
    except OSError:
        return "leaked:"  # opened; /proc/<pid>/mem has nothing mapped at offset 0
    finally:
        os.close(fd)
print("environ=" + peek(f"/proc/{sib}/environ"))
print("maps=" + peek(f"/proc/{sib}/maps").split("\\n")[0])
print("mem=" + peek(f"/proc/{sib}/mem")[:6])  # opened is enough: maps says where to read
print("pts=" + peek(sys.argv[4]).strip())
"""


def _reach(which: str, *flags: str) -> dict[str, str]:
    """What the `which` cell, given no user namespace ("nons", as on a laptop that grants
    none), reads of a sibling process and a terminal of the investigator's."""
    # Dumpable and holding no capability the cell lacks: root's uid without capabilities
    # stands for "the same user" (the third review used uid 65534 for both).
    sibling = subprocess.Popen(
        ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "sleep", "60"],
        env={"PATH": "/usr/bin:/bin", "TOKEN": SECRET},
    )  # fmt: skip
    master, terminal = os.openpty()  # a terminal the investigator types into
    os.write(master, f"{SECRET}\n".encode())
    try:
        return _cell(which, _REACH, str(sibling.pid), os.ttyname(terminal), "nons", *flags)
    finally:
        sibling.kill()
        sibling.wait()
        os.close(master)
        os.close(terminal)


_NEEDS_ROOT = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root to start a sibling without capabilities (setpriv)",
)


@_NEEDS_ROOT
def test_without_landlock_exiftools_cell_reads_a_sibling_and_a_terminal():
    # The known limit as the third review found it (and as it stays on a kernel without
    # Landlock): the probe below is not vacuous.
    said = _reach("exiftool", "nolandlock")
    assert said["environ"] == f"leaked:PATH=/usr/bin:/bin TOKEN={SECRET} ", said
    assert said["maps"].startswith("leaked:"), said
    assert said["mem"] == "leaked", said
    assert said["pts"] == f"leaked:{SECRET}", said


@_NEEDS_ROOT
@pytest.mark.parametrize("which", CELLS)
def test_the_cell_cannot_read_a_sibling_or_a_terminal(which: str):
    said = _reach(which)
    for name in ("environ", "maps", "mem", "pts"):
        assert said[name] == "EACCES", (name, said)


def test_exiftools_cell_reads_only_perl_and_what_perl_needs(tmp_path: Path):
    mine = tmp_path / "notes.txt"
    mine.write_text("the investigator's own file")
    said = _cell("exiftool", """
for name, path in [("perl_module", "/usr/share/perl5/Image/ExifTool.pm"),
                   ("mine", sys.argv[3]), ("passwd", "/etc/passwd"),
                   ("own_status", "/proc/self/status"), ("tmp", "/tmp"),
                   ("python", os.__file__)]:
    print(name + "=" + tried(lambda: os.close(os.open(path, os.O_RDONLY))))
""", str(mine))  # fmt: skip
    if shutil.which("exiftool"):
        assert said["perl_module"] == "ok", said
    for name in ("mine", "passwd", "own_status", "tmp", "python"):
        assert said[name] == "EACCES", (name, said)


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="ExifTool is not installed")
def test_both_cells_still_read_a_photo_under_landlock(tmp_path: Path):
    # PyAV's cell opens nothing once loaded (the filter refuses every open), so its ruleset
    # grants no path at all; ExifTool's reads Perl and its modules only. The EXIF GPS is
    # ExifTool's: its Perl ran under the ruleset and still read the file it was given.
    tools = find_tools()
    path = photo(tmp_path / "p.jpg", lat=47.0971, lon=37.5434, when="2024:05:02 08:30:00")
    with open(path, "rb") as source:
        facts = probe_descriptor(source.fileno(), tools)
    assert facts.state == READ, facts
    assert "landlock" in facts.isolation
    assert facts.gps_source == "EXIF/XMP GPS"
    assert facts.latitude == pytest.approx(47.0971, abs=1e-4)


def test_a_process_with_a_second_thread_is_refused_not_half_confined():
    # Landlock confines the calling thread only: a thread a library started earlier would
    # stay outside the ruleset, so the cell fails instead (its file is "unreadable").
    code = """
import sys, threading
sys.path.insert(0, sys.argv[1])
from triage.media._landlock import restrict
threading.Thread(target=threading.Event().wait, daemon=True).start()
try:
    restrict({})
except OSError as e:
    print("refused", e.errno)
"""
    done = subprocess.run(
        [sys.executable, "-c", code, ROOT], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["refused", str(errno.EBUSY)], done


# A seccomp filter that answers EPERM to landlock_create_ruleset (444), as systemd's
# SystemCallFilter or a container profile does to calls it does not list.
_SANDBOXED = """
import ctypes, struct
libc = ctypes.CDLL(None, use_errno=True)
ops = [(0x20, 0, 0, 0), (0x15, 0, 1, 444), (0x06, 0, 0, 0x50000 | 1), (0x06, 0, 0, 0x7FFF0000)]
code = b"".join(struct.pack("HBBI", *op) for op in ops)
buf = ctypes.create_string_buffer(code)
prog = struct.pack("HxxxxxxQ", len(ops), ctypes.addressof(buf))
assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.c_char_p(prog), 0, 0) == 0  # PR_SET_SECCOMP, FILTER
from triage.media._landlock import landlock_abi
from triage.media.probe import find_tools
print(landlock_abi(), find_tools().missing()[-1])
"""


def test_a_sandbox_refusing_landlock_is_said_once_not_every_file_unreadable():
    # Review of efae88d: EPERM from the version probe failed every cell on such a machine.
    done = subprocess.run(
        [sys.executable, "-c", _SANDBOXED], capture_output=True, text=True, check=True, cwd=ROOT
    )
    abi, said = done.stdout.split(" ", 1)
    assert abi == "0"
    assert said.startswith("no Landlock here (the kernel, or a sandbox around triage)")
