"""Reading one file's metadata in sandboxed children (triage.media._child), never in-process.

Each tool runs in a child of its own with the file on its standard input, a timeout (then
its process group is killed), capped output, the cell of triage.media._jail and a bare
environment (ExifTool's Perl may open files to read; PyAV can open none); whatever goes
wrong there (a crash, a signal, a timeout, output that is not what the child prints) makes
the file "unreadable" and nothing more.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import os
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from triage.media._landlock import landlock_abi
from triage.media.facts import MediaFacts, from_tools, unreadable
from triage.media.similar import FRAMES_MAX, FrameHash, frames_from_json

__all__ = [
    "Toolkit",
    "find_tools",
    "hash_descriptor",
    "probe_descriptor",
    "read_only",
    "run_cell",
]

TIMEOUT = 30.0  # seconds per tool and file: headers of a large file read in well under one
HASH_TIMEOUT_MAX = 1800.0  # an hour of video decodes well within half an hour
_OUTPUT_MAX = 8 << 20  # what a child may say; more is not a report of ours
_EXIFTOOL_OUTPUT_MAX = 1 << 20  # eighteen tags: a megabyte is a file stuffing them
_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": "/nonexistent"}
# numpy's OpenBLAS (and OpenMP) would start worker threads at import: one thread, no pool.
# Load-bearing: Landlock confines only the thread that asks, so a child with a second thread
# refuses to parse (triage.media._landlock) and every file would be unreadable.
_PR_GET_DUMPABLE = 3
_PR_SET_DUMPABLE = 4
_CELL_ENV = {**_ENV, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Toolkit:
    """The tools found on this machine (once per scan); None where a tool is missing."""

    pyav: str | None
    exiftool: str | None
    exiftool_path: str = "exiftool"  # the one whose version was asked, run by its full path
    pdq: bool = False  # pdqhash and numpy importable: perceptual hashes are made
    landlock: bool = True  # the kernel confines the cells' paths (triage.media._landlock)

    def missing(self) -> list[str]:
        """What to tell the investigator, once, about tools that are not here."""
        said = []
        if self.pyav is None:
            said.append(
                "PyAV is not installed: media files are not scanned "
                "(install the extra: pip install 'testimony-intake[media]')"
            )
        if self.exiftool is None:
            said.append(
                "exiftool is not installed: EXIF and XMP fields (most photos' time and GPS) "
                "are not read (Debian: apt install libimage-exiftool-perl)"
            )
        if not self.landlock:
            said.append(
                "no Landlock here (the kernel, or a sandbox around triage): where user "
                "namespaces are off too, ExifTool's cell can read other processes of your user "
                "(docs/media.md)"
            )
        return said

    def versions(self) -> list[str]:
        return [v for v in (self.pyav, self.exiftool) if v]


@contextlib.contextmanager
def read_only(fd: int) -> Iterator[int]:
    """A read-only descriptor of what `fd` reads, from its start: the parser gets no way to
    write to the opened copy (a pipe, which cannot be reopened or rewound, is passed as is)."""
    try:
        source = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        yield fd
        return
    if not stat.S_ISREG(os.fstat(source).st_mode):
        os.close(source)
        yield fd
        return
    try:
        yield source
    finally:
        os.close(source)


def find_tools() -> Toolkit:
    pyav = None
    if importlib.util.find_spec("av") is not None:
        from importlib.metadata import version  # noqa: PLC0415 - only when scanning

        pyav = f"PyAV {version('av')}"
    pdq = all(importlib.util.find_spec(name) is not None for name in ("pdqhash", "numpy"))
    landlock = landlock_abi() > 0
    if (path := shutil.which("exiftool")) is not None:
        done = subprocess.run(  # noqa: S603 - our own question to the tool, no witness input
            [path, "-ver"], capture_output=True, text=True, timeout=TIMEOUT, check=False, env=_ENV
        )
        if done.returncode == 0:
            return Toolkit(pyav, f"ExifTool {done.stdout.strip()}", path, pdq, landlock)
    return Toolkit(pyav, None, pdq=pdq, landlock=landlock)


def _read_capped(pipe: int, deadline: float, limit: int) -> tuple[bytes, str]:
    """What the child writes until it closes the pipe; "" or why reading stopped early."""
    out = bytearray()
    with selectors.DefaultSelector() as waiting:
        waiting.register(pipe, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not waiting.select(left):
                continue
            chunk = os.read(pipe, 1 << 16)
            if not chunk:
                return bytes(out), ""
            out += chunk
            if len(out) > limit:
                return b"", f"more than {limit >> 20} MiB of output"
    return b"", "timeout"


@contextlib.contextmanager
def _not_dumpable() -> Iterator[None]:
    """This process not dumpable while a cell child lives: /proc/<pid>/mem (the decrypted
    identity, plaintext), its descriptors and environment then need CAP_SYS_PTRACE, which
    the child has dropped. Restored after, so core dumps and debuggers work as before."""
    libc = ctypes.CDLL(None, use_errno=True)
    before = libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0)
    if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")
    try:
        yield
    finally:
        if before == 1:  # 2 (suid_dumpable) cannot be set back by prctl: stays 0
            libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)


def run_cell(command: list[str], fd: int, timeout: float, limit: int) -> tuple[bytes | None, str]:
    """Run a cell child on the file open at `fd`: its output and "", or None and why not.
    The child leads a process group of its own; on a timeout, too much output or any
    early stop the whole group is killed, so nothing it started is left holding the pipe.
    This process is not dumpable meanwhile (_not_dumpable)."""
    with _not_dumpable():
        return _run_child(command, fd, timeout, limit)


def _run_child(command: list[str], fd: int, timeout: float, limit: int) -> tuple[bytes | None, str]:
    deadline = time.monotonic() + timeout
    with read_only(fd) as source:
        child = subprocess.Popen(  # noqa: S603 - our own child; the file is only its stdin
            command, stdin=source, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            close_fds=True, env=_CELL_ENV, cwd="/", start_new_session=True,
        )  # fmt: skip
    assert child.stdout is not None  # noqa: S101 - stdout=PIPE above
    try:
        out, why = _read_capped(child.stdout.fileno(), deadline, limit)
        if not why:
            child.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        why = "timeout"
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)  # the group, whatever the child did
        child.wait()
        child.stdout.close()
    if why:
        return None, why
    if child.returncode != 0:
        code = child.returncode
        return None, f"the parser failed ({f'signal {-code}' if code < 0 else f'exit {code}'})"
    return out, ""


def _run(which: str, fd: int, timeout: float, *extra: str) -> tuple[Any, str]:
    """The child's JSON and "", or None and why it failed."""
    cpu = str(int(timeout) + 1)
    command = [sys.executable, "-I", "-m", "triage.media._child", which, cpu, *extra]
    limit = _EXIFTOOL_OUTPUT_MAX if which == "exiftool" else _OUTPUT_MAX
    out, why = run_cell(command, fd, timeout, limit)
    if why == "timeout":
        return None, f"{which}: no answer within {timeout:.0f} s"
    if out is None:
        return None, f"{which}: {why}"
    try:
        return json.loads(out), ""
    except ValueError:
        return None, f"{which}: output was not a report"


def _exif_fields(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, list) or not value or not isinstance(value[0], dict):
        return None
    fields = {k: v for k, v in value[0].items() if k != "SourceFile"}
    return fields or None


def hash_descriptor(
    fd: int,
    tools: Toolkit,
    *,
    duration: float | None,
    every: float = 1.0,
    frames_max: int = FRAMES_MAX,
) -> list[FrameHash] | None:
    """PDQ hashes of the frames at each `every` seconds (vPDQ), decoded in the cell; None
    when PDQ is not installed or the file cannot be decoded. The time limit grows with the
    file's length: decoding a minute of 1080p takes seconds. At most `frames_max` frames:
    a longer file is sampled more sparsely, evenly over the length it declares, and the
    child stops at the cap whatever the file declared."""
    if tools.pyav is None or not tools.pdq:
        return None
    timeout = min(HASH_TIMEOUT_MAX, TIMEOUT + 3 * (duration or 0))
    every = max(every, (duration or 0) / frames_max)
    report, _why = _run("pdq", fd, timeout, str(every), str(frames_max))
    if not isinstance(report, dict) or not isinstance(report.get("frames"), list):
        return None
    return frames_from_json(json.dumps(report["frames"]))


def probe_descriptor(fd: int, tools: Toolkit, *, timeout: float = TIMEOUT) -> MediaFacts:
    """What the file open at `fd` (seekable, read-only) says about itself. PyAV decides whether
    the file is readable at all; ExifTool adds what it finds to a file PyAV could read."""
    if tools.pyav is None:
        return unreadable("PyAV is not installed")
    av, why = _run("pyav", fd, timeout)
    if not isinstance(av, dict):
        return unreadable(why or "pyav: output was not a report", (tools.pyav,))
    exif = None
    if tools.exiftool is not None:
        raw, _why = _run("exiftool", fd, timeout, tools.exiftool_path)
        fields = _exif_fields(raw)
        exif = {"version": tools.exiftool, "fields": fields or {}}
    return from_tools(av, exif)
