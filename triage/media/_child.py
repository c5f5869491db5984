"""The child that reads one witness file (`python -m triage.media._child pyav|exiftool`).

The file is this process's standard input and nothing else is open but the pipe back; the cell
(triage.media._jail) is set before the first byte is read. It prints one JSON object; anything
else (a crash, a signal, no output) is "unreadable" to the parent (triage.media.probe).
"""

from __future__ import annotations

import json
import os
import sys
from fractions import Fraction
from typing import Any

from triage.media._jail import confine, no_network, seccomp_deny
from triage.media._landlock import exiftool_paths, restrict

# The demuxers a witness's camera, phone, recorder or messenger produces. Playlists (hls,
# concat, dash), image sequences and anything that names other files or URLs are left out:
# a file must be read as itself alone.
FORMATS = (
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,flv,asf,ogg,wav,mp3,aac,flac,amr,"
    "caf,w64,jpeg_pipe,png_pipe,webp_pipe,gif,tiff_pipe,bmp_pipe,heif"
)
# PyAV reads the input through its own I/O on the descriptor; any further open by a demuxer
# goes through FFmpeg's protocols, and none is allowed ("fd" names one no demuxer here asks for).
PROTOCOLS = "fd"
ADDRESS_SPACE = 1 << 30  # 1 GiB: headers and a few packets; a bomb fails rather than swaps
EXIFTOOL_TAGS = (
    "-Make", "-Model", "-Software", "-CreatorTool", "-Encoder", "-HandlerDescription",
    "-DateTimeOriginal", "-CreateDate", "-MediaCreateDate", "-OffsetTimeOriginal",
    "-GPSLatitude", "-GPSLongitude", "-GPSCoordinates", "-GPSPosition",
    "-XMP:GPSLatitude", "-XMP:GPSLongitude", "-AndroidMake", "-AndroidModel",
)  # fmt: skip


def preload_av() -> Any:
    """PyAV with every one of its modules loaded: it imports some only when a file needs them
    (av.subtitles.codeccontext for a subtitle track), and once the filter refuses opens such
    an import fails and the file would be called unreadable."""
    import importlib  # noqa: PLC0415
    import pkgutil  # noqa: PLC0415

    import av  # noqa: PLC0415

    for module in pkgutil.walk_packages(av.__path__, "av."):
        if module.name.rsplit(".", 1)[-1] not in _NOT_PRELOADED:
            importlib.import_module(module.name)
    return av


_NOT_PRELOADED = {"__main__", "datasets"}  # a command line; test downloads


def _shut(isolation: list[str], paths: dict[str, int], *, opens: bool) -> None:
    """The rest of the cell, before the first byte of the file is read: the Landlock ruleset
    (only `paths` may be opened: none for PyAV, loaded by now), then the seccomp filter."""
    isolation.extend(name for name in (restrict(paths),) if name)
    seccomp_deny(opens=opens)
    isolation.append("seccomp")


def _rate(value: Fraction | None) -> float | None:
    return float(value) if value else None


def _stream(stream: Any) -> dict[str, Any]:
    codec = stream.codec_context
    info: dict[str, Any] = {
        "type": stream.type,
        "codec": codec.name if codec is not None else None,
        "duration": float(stream.duration * stream.time_base)
        if stream.duration and stream.time_base
        else None,
        "metadata": dict(stream.metadata),
    }
    if stream.type == "video":
        info.update(width=codec.width, height=codec.height, rate=_rate(stream.average_rate))
    elif stream.type == "audio":
        info.update(channels=codec.channels, sample_rate=codec.sample_rate)
    return info


def _pyav(isolation: list[str]) -> dict[str, Any]:
    av = preload_av()  # before the filter shuts the door on opening files
    av.logging.set_level(None)
    _shut(isolation, {}, opens=True)
    source = os.fdopen(0, "rb", closefd=False)
    options = {"format_whitelist": FORMATS, "protocol_whitelist": PROTOCOLS}
    with av.open(source, "r", container_options=options, metadata_errors="ignore") as container:
        duration = container.duration / 1_000_000 if container.duration else None
        return {
            "tool": "pyav",
            "version": f"PyAV {av.__version__}, FFmpeg libavformat "
            + ".".join(str(n) for n in av.library_versions["libavformat"]),
            "format": container.format.name,
            "duration": duration,
            "metadata": dict(container.metadata),
            "streams": [_stream(s) for s in container.streams],
            "isolation": isolation,
        }


def _pdq(isolation: list[str], every: float, frames_max: int) -> dict[str, Any]:
    """vPDQ's sampling: one PDQ hash (with its quality) of the frame at each `every` seconds,
    `frames_max` at most."""
    av = preload_av()  # all loaded before the filter, as in _pyav
    import numpy  # noqa: PLC0415
    import pdqhash  # noqa: PLC0415

    av.logging.set_level(None)
    _shut(isolation, {}, opens=True)
    source = os.fdopen(0, "rb", closefd=False)
    options = {"format_whitelist": FORMATS, "protocol_whitelist": PROTOCOLS}
    frames: list[list[Any]] = []
    with av.open(source, "r", container_options=options) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        due = 0.0
        for frame in container.decode(stream):
            at = float(frame.time or 0.0)
            if at + 1e-6 < due:
                continue
            due = at + every
            bits, quality = pdqhash.compute(frame.to_ndarray(format="rgb24"))
            packed = numpy.packbits(bits.astype(numpy.uint8)).tobytes().hex()
            frames.append([round(at, 3), packed, int(quality)])
            if len(frames) >= frames_max:
                break
    return {"tool": "pdq", "version": f"pdqhash via PyAV {av.__version__}", "frames": frames}


def _exiftool(isolation: list[str], program: str) -> None:
    _shut(isolation, exiftool_paths(program), opens=False)  # Perl opens its modules
    # -config '' (first): no user config file is read; -n: numbers, not prose.
    args = [program, "-config", "", "-j", "-n", "-q", "-q", *EXIFTOOL_TAGS, "-"]
    os.execv(program, args)  # noqa: S606 - the path find_tools asked for its version


def main() -> None:
    which = sys.argv[1]
    # Decoding (for the hashes) holds frames and decoder threads: more room than the headers.
    confine(ADDRESS_SPACE * (3 if which == "pdq" else 1), int(sys.argv[2]))
    isolation = [name for name in (no_network(),) if name]
    if which == "exiftool":
        _exiftool(isolation, sys.argv[3])
    if which == "pdq":
        report = _pdq(isolation, float(sys.argv[3]), int(sys.argv[4]))
    else:
        report = _pyav(isolation)
    sys.stdout.write(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
