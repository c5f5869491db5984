"""Test media made with FFmpeg (and ExifTool for a photo's EXIF), with chosen metadata."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Meta:
    when: str | None = "2024-03-01T10:00:00Z"
    lat: float | None = 44.6167  # Sevastopol
    lon: float | None = 33.5254
    make: str | None = "Apple"
    model: str | None = "iPhone 12"
    software: str | None = None


def _iso6709(lat: float, lon: float) -> str:
    return f"{lat:+08.4f}{lon:+09.4f}/"


def clip(path: Path, meta: Meta = Meta(), *, seconds: float = 2, size: str = "320x240") -> Path:
    """A camera-like clip: moving test pattern with noise, a tone, and the metadata asked."""
    tags: list[str] = []
    if meta.when:
        tags += ["-metadata", f"creation_time={meta.when}"]
    if meta.lat is not None and meta.lon is not None:
        tags += ["-metadata", f"location={_iso6709(meta.lat, meta.lon)}"]
    for key, value in (("make", meta.make), ("model", meta.model), ("software", meta.software)):
        if value:
            tags += ["-metadata", f"{key}={value}"]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25,noise=alls=20:allf=t",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
         "-ac", "2", "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", *tags, "-movflags", "use_metadata_tags", str(path)],
        check=True,
    )  # fmt: skip
    return path


def photo(path: Path, *, lat: float, lon: float, when: str, make: str = "Canon") -> Path:
    """A JPEG with EXIF time, GPS and camera written by ExifTool."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x120",
         "-frames:v", "1", str(path)],
        check=True,
    )  # fmt: skip
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original", f"-DateTimeOriginal={when}",
         f"-GPSLatitude={abs(lat)}", f"-GPSLatitudeRef={'N' if lat >= 0 else 'S'}",
         f"-GPSLongitude={abs(lon)}", f"-GPSLongitudeRef={'E' if lon >= 0 else 'W'}",
         f"-Make={make}", "-Model=EOS 5D", "-Software=Adobe Photoshop 25.0", str(path)],
        check=True,
    )  # fmt: skip
    return path


# Copies of one camera-like clip as they travel (a messenger's re-encoding, a channel's
# watermark, a cut), and clips of other content: the vPDQ set of tests and bench/.
DERIVED = {
    "low-bitrate": ["-b:v", "60k"],
    "scaled": ["-vf", "scale=iw/2:ih/2"],
    "trimmed": ["-ss", "2", "-t", "3"],
    "logo": ["-vf", "drawtext=text=CHANNEL:x=w-tw-8:y=8:fontsize=20:fontcolor=white@0.8"],
}
LIMITS = {"crop-5%": ["-vf", "crop=iw*0.95:ih*0.95:0:0"]}  # PDQ is not crop-robust
UNRELATED = {
    "cellauto": "cellauto=size={size}:rate=25:rule=30,format=yuv420p",
    "life": "life=size={size}:rate=25:mold=10:ratio=0.3,format=yuv420p",
    "bars": "testsrc=size={size}:rate=25,hue=h=90",
}


def camera(path: Path, *, seconds: float = 6, size: str = "320x180") -> Path:
    """Moving pattern with per-frame noise: what a phone's sensor gives, roughly."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi",
         "-i", f"testsrc2=size={size}:rate=25,noise=alls=12:allf=t", "-t", str(seconds),
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", str(path)],
        check=True,
    )  # fmt: skip
    return path


def derive(source: Path, path: Path, args: list[str]) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(source), *args,
         "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
    )  # fmt: skip
    return path


def unrelated(path: Path, source: str, *, seconds: float = 6, size: str = "320x180") -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source.format(size=size),
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", str(path)],
        check=True,
    )  # fmt: skip
    return path
