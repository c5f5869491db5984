"""The child that draws one contact sheet (`python -m triage.media._sheet CPU DURATION`).

Same cell as triage.media._child; the file is standard input, the PNG goes to standard output.
Nine frames spread over the video, each scaled to 320 pixels wide, in rows of three; the PNG
is encoded by FFmpeg's own encoder, so no image library is needed.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

from triage.media._child import ADDRESS_SPACE, FORMATS, PROTOCOLS, preload_av
from triage.media._jail import confine, no_network, seccomp_deny

FRAMES = 9
COLUMNS = 3
WIDTH = 320


def _frames(container: Any, duration: float) -> list[Any]:
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    due = [duration * (i + 0.5) / FRAMES for i in range(FRAMES)] if duration > 0 else [0.0]
    picked: list[Any] = []
    for frame in container.decode(stream):
        if len(picked) < len(due) and float(frame.time or 0.0) + 1e-6 >= due[len(picked)]:
            height = max(2, round(WIDTH * frame.height / max(frame.width, 1) / 2) * 2)
            picked.append(frame.reformat(width=WIDTH, height=height, format="rgb24").to_ndarray())
        if len(picked) == len(due):
            break
    return picked


def main() -> None:
    confine(ADDRESS_SPACE * 3, int(sys.argv[1]))
    no_network()
    av = preload_av()  # loaded before the filter shuts the door on opening files
    import numpy  # noqa: PLC0415

    av.logging.set_level(None)
    seccomp_deny(opens=True)
    options = {"format_whitelist": FORMATS, "protocol_whitelist": PROTOCOLS}
    with av.open(os.fdopen(0, "rb", closefd=False), "r", container_options=options) as box:
        tiles = _frames(box, float(sys.argv[2]))
    height = tiles[0].shape[0]
    rows = math.ceil(len(tiles) / COLUMNS)
    canvas = numpy.zeros((rows * height, COLUMNS * WIDTH, 3), dtype=numpy.uint8)
    for n, tile in enumerate(tiles):
        row, col = divmod(n, COLUMNS)
        canvas[row * height : (row + 1) * height, col * WIDTH : (col + 1) * WIDTH] = tile[:height]
    encoder = av.CodecContext.create("png", "w")
    encoder.width, encoder.height, encoder.pix_fmt = canvas.shape[1], canvas.shape[0], "rgb24"
    packets = encoder.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24"))
    sys.stdout.buffer.write(b"".join(bytes(p) for p in packets))


if __name__ == "__main__":
    main()
