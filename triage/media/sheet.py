"""Contact sheets: one PNG of key frames per video, drawn in the cell (triage.media._sheet).

For a look at a file from an unknown source without playing it: the investigator's viewer
opens a PNG that FFmpeg's encoder wrote from decoded pixels, never the witness's bytes.
"""

from __future__ import annotations

import sys

from triage.media.probe import TIMEOUT, Toolkit, run_cell

__all__ = ["draw_sheet"]

_PNG = b"\x89PNG\r\n\x1a\n"
_SHEET_MAX = 64 << 20  # nine 320-pixel frames are well under a megabyte


def draw_sheet(fd: int, tools: Toolkit, *, duration: float | None) -> bytes | None:
    """The PNG of the video open at `fd`, or None when it cannot be drawn (or PyAV and numpy
    are missing); whatever goes wrong in the child, nothing more happens."""
    if tools.pyav is None or not tools.pdq:
        return None
    timeout = TIMEOUT + 3 * (duration or 0)
    command = [sys.executable, "-I", "-m", "triage.media._sheet", str(int(timeout) + 1),
               str(duration or 0)]  # fmt: skip
    png, _why = run_cell(command, fd, timeout, _SHEET_MAX)
    if png is None or not png.startswith(_PNG):
        return None
    return png
