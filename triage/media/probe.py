"""Reading one file's metadata in sandboxed children (triage.media._child), never in-process.

Each tool runs in a child of its own with the file as its only input descriptor, a timeout,
the cell of triage.media._jail and a bare environment; whatever goes wrong there (a crash, a
signal, a timeout, output that is not what the child prints) makes the file "unreadable" and
nothing more.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from triage.media.facts import MediaFacts, from_tools, unreadable
from triage.media.similar import FrameHash, frames_from_json

__all__ = ["Toolkit", "find_tools", "hash_descriptor", "probe_descriptor", "read_only"]

TIMEOUT = 30.0  # seconds per tool and file: headers of a large file read in well under one
HASH_TIMEOUT_MAX = 1800.0  # an hour of video decodes well within half an hour
_OUTPUT_MAX = 8 << 20  # what a child may say; more is not a report of ours
_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": "/nonexistent"}


@dataclass(frozen=True)
class Toolkit:
    """The tools found on this machine (once per scan); None where a tool is missing."""

    pyav: str | None
    exiftool: str | None
    exiftool_path: str = "exiftool"  # the one whose version was asked, run by its full path
    pdq: bool = False  # pdqhash and numpy importable: perceptual hashes are made

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
    if (path := shutil.which("exiftool")) is not None:
        done = subprocess.run(  # noqa: S603 - our own question to the tool, no witness input
            [path, "-ver"], capture_output=True, text=True, timeout=TIMEOUT, check=False, env=_ENV
        )
        if done.returncode == 0:
            return Toolkit(pyav, f"ExifTool {done.stdout.strip()}", path, pdq)
    return Toolkit(pyav, None, pdq=pdq)


def _run(which: str, fd: int, timeout: float, *extra: str) -> tuple[Any, str]:
    """The child's JSON and "", or None and why it failed."""
    cpu = str(int(timeout) + 1)
    command = [sys.executable, "-I", "-m", "triage.media._child", which, cpu, *extra]
    try:
        with read_only(fd) as source:
            done = subprocess.run(  # noqa: S603 - our own child; the file is only its stdin
                command, stdin=source, capture_output=True, timeout=timeout, check=False,
                close_fds=True, env=_ENV, cwd="/", start_new_session=True,
            )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None, f"{which}: no answer within {timeout:.0f} s"
    if done.returncode != 0:
        how = f"signal {-done.returncode}" if done.returncode < 0 else f"exit {done.returncode}"
        return None, f"{which}: the parser failed ({how})"
    try:
        return json.loads(done.stdout[:_OUTPUT_MAX]), ""
    except ValueError:
        return None, f"{which}: output was not a report"


def _exif_fields(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, list) or not value or not isinstance(value[0], dict):
        return None
    fields = {k: v for k, v in value[0].items() if k != "SourceFile"}
    return fields or None


def hash_descriptor(
    fd: int, tools: Toolkit, *, duration: float | None, every: float = 1.0
) -> list[FrameHash] | None:
    """PDQ hashes of the frames at each `every` seconds (vPDQ), decoded in the cell; None
    when PDQ is not installed or the file cannot be decoded. The time limit grows with the
    file's length: decoding a minute of 1080p takes seconds."""
    if tools.pyav is None or not tools.pdq:
        return None
    timeout = min(HASH_TIMEOUT_MAX, TIMEOUT + 3 * (duration or 0))
    report, _why = _run("pdq", fd, timeout, str(every))
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
