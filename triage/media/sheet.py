"""Contact sheets: one PNG of key frames per video, drawn in the cell (triage.media._sheet).

For a look at a file from an unknown source without playing it: the investigator's viewer
opens a PNG that FFmpeg's encoder wrote from decoded pixels, never the witness's bytes.
"""

from __future__ import annotations

import subprocess
import sys

from triage.media.probe import TIMEOUT, Toolkit, read_only

__all__ = ["draw_sheet"]

_PNG = b"\x89PNG\r\n\x1a\n"
_SHEET_MAX = 64 << 20  # nine 320-pixel frames are well under a megabyte
_ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": "/nonexistent"}


def draw_sheet(fd: int, tools: Toolkit, *, duration: float | None) -> bytes | None:
    """The PNG of the video open at `fd`, or None when it cannot be drawn (or PyAV and numpy
    are missing); whatever goes wrong in the child, nothing more happens."""
    if tools.pyav is None or not tools.pdq:
        return None
    timeout = TIMEOUT + 3 * (duration or 0)
    command = [sys.executable, "-I", "-m", "triage.media._sheet", str(int(timeout) + 1),
               str(duration or 0)]  # fmt: skip
    try:
        with read_only(fd) as source:
            done = subprocess.run(  # noqa: S603 - our own child; the file is only its stdin
                command, stdin=source, capture_output=True, timeout=timeout, check=False,
                close_fds=True, env=_ENV, cwd="/", start_new_session=True,
            )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None
    png = done.stdout
    if done.returncode != 0 or not png.startswith(_PNG) or len(png) > _SHEET_MAX:
        return None
    return png
