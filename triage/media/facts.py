"""What a file says about itself, from the tools' raw output: one frozen MediaFacts per file.

The raw output is the parser children's JSON (triage.media._child); it is untrusted text from a
hostile file, so every field is checked for type and range here and anything odd is dropped.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from triage.text.safe import neutralise_line

__all__ = ["READ", "UNREADABLE", "MediaFacts", "from_tools", "parse_iso6709", "unreadable"]

READ = "read"
UNREADABLE = "unreadable"
_ISO6709 = re.compile(r"([+-]\d{1,2}(?:\.\d+)?)([+-]\d{1,3}(?:\.\d+)?)")
_EXIF_TIME = re.compile(r"(\d{4}):(\d\d):(\d\d) (\d\d):(\d\d):(\d\d)")
_TEXT_MAX = 200


@dataclass(frozen=True)
class MediaFacts:
    """One file's technical metadata, or `state` "unreadable" with the reason."""

    state: str
    reason: str = ""
    container: str | None = None
    duration: float | None = None
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    audio_codec: str | None = None
    audio_channels: int | None = None
    audio_duration: float | None = None
    recorded_at: str | None = None  # ISO 8601; with an offset when the file gave one
    recorded_source: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    gps_source: str | None = None
    make: str | None = None
    model: str | None = None
    software: str | None = None
    tools: tuple[str, ...] = ()
    isolation: tuple[str, ...] = ()

    @property
    def has_gps(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def recorded(self) -> datetime | None:
        """The recording time as UTC; a time without an offset is taken as UTC (see checks)."""
        return None if self.recorded_at is None else _utc(self.recorded_at)

    def zone_known(self) -> bool:
        return (
            self.recorded_at is not None
            and self.recorded_at[-6] in "+-"
            or bool(self.recorded_at and self.recorded_at.endswith("Z"))
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> MediaFacts:
        doc = json.loads(text)
        doc["tools"], doc["isolation"] = tuple(doc["tools"]), tuple(doc["isolation"])
        return cls(**doc)


def unreadable(reason: str, tools: tuple[str, ...] = ()) -> MediaFacts:
    return MediaFacts(UNREADABLE, reason=reason, tools=tools)


def _utc(text: str) -> datetime | None:
    """ISO text as UTC; None when it is not a time or falls outside what a datetime holds
    once moved to UTC (9999-12-31T23:59:59-12:00 is year 10000 there)."""
    try:
        when = datetime.fromisoformat(text)
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _text(value: Any) -> str | None:
    """One line of text: a newline in a file's field must not start a line of our own, and
    controls (C0, C1) and direction overrides must not reach a terminal or a bundle."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = neutralise_line(value)
    return value[:_TEXT_MAX] if value else None


def _number(value: Any, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and low <= number <= high else None


def _position(lat: Any, lon: Any) -> tuple[float, float] | None:
    la, lo = _number(lat, -90, 90), _number(lon, -180, 180)
    if la is None or lo is None or (la == 0 and lo == 0):  # 0,0 is a blank, not a place
        return None
    return la, lo


def parse_iso6709(text: Any) -> tuple[float, float] | None:
    """QuickTime's ISO 6709 location ("+50.4501+030.5234+150.0/") as degrees."""
    match = _ISO6709.match(text) if isinstance(text, str) else None
    return _position(float(match[1]), float(match[2])) if match else None


def _time(value: Any) -> str | None:
    """An ISO 8601 or EXIF ("2024:03:01 10:00:00") time as ISO text, else None."""
    text = _text(value)
    if text is None:
        return None
    exif = _EXIF_TIME.match(text)
    if exif:
        text = f"{exif[1]}-{exif[2]}-{exif[3]}T{exif[4]}:{exif[5]}:{exif[6]}{text[19:].strip()}"
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.year < 1990:  # 1904/1970 epochs: a camera that never set its clock
        return None
    text = when.isoformat(timespec="seconds")
    return text if _utc(text) is not None else None


def _first(*pairs: tuple[str, Any]) -> tuple[str | None, str | None]:
    for source, value in pairs:
        if value is not None:
            return source, value
    return None, None


def _streams(av: dict[str, Any], kind: str) -> dict[str, Any]:
    streams = av.get("streams") if isinstance(av.get("streams"), list) else []
    found = [s for s in streams or [] if isinstance(s, dict) and s.get("type") == kind]
    return found[0] if found else {}


def _technical(av: dict[str, Any]) -> dict[str, Any]:
    video, audio = _streams(av, "video"), _streams(av, "audio")
    has_audio = bool(audio)
    return {
        "container": _text(av.get("format")),
        "duration": _number(av.get("duration"), 0, 1e7),
        "video_codec": _text(video.get("codec")),
        "width": int(w) if (w := _number(video.get("width"), 1, 1e5)) else None,
        "height": int(h) if (h := _number(video.get("height"), 1, 1e5)) else None,
        "frame_rate": _number(video.get("rate"), 0.01, 1e4),
        "audio_codec": _text(audio.get("codec")) if has_audio else None,
        "audio_channels": int(c) if (c := _number(audio.get("channels"), 1, 256)) else None,
        "audio_duration": _number(audio.get("duration"), 0, 1e7),
    }


def _described(meta: dict[str, Any], exif: dict[str, Any]) -> dict[str, Any]:
    local = exif.get("OffsetTimeOriginal")
    exif_time = (
        f"{exif['DateTimeOriginal']}{local}"
        if local and exif.get("DateTimeOriginal")
        else exif.get("DateTimeOriginal")
    )
    when_source, when = _first(
        ("EXIF DateTimeOriginal", _time(exif_time)),
        ("QuickTime creationdate", _time(meta.get("com.apple.quicktime.creationdate"))),
        ("container creation_time", _time(meta.get("creation_time"))),
        ("ExifTool CreateDate", _time(exif.get("CreateDate"))),
    )
    # The container's own location atom first (a video), then what ExifTool finds in EXIF or
    # XMP (a photo) or in QuickTime's keys PyAV does not show.
    gps_source, gps = _first(
        ("QuickTime ISO 6709", parse_iso6709(meta.get("com.apple.quicktime.location.ISO6709"))),
        ("QuickTime ISO 6709", parse_iso6709(meta.get("location"))),
        ("EXIF/XMP GPS", _position(exif.get("GPSLatitude"), exif.get("GPSLongitude"))),
        ("QuickTime GPSCoordinates", parse_iso6709(_signed(exif.get("GPSCoordinates")))),
    )
    return {
        "recorded_at": when,
        "recorded_source": when_source,
        "latitude": gps[0] if gps else None,
        "longitude": gps[1] if gps else None,
        "gps_source": gps_source,
        "make": _pick(meta, exif, "com.apple.quicktime.make", "make", "Make", "AndroidMake"),
        "model": _pick(meta, exif, "com.apple.quicktime.model", "model", "Model", "AndroidModel"),
        "software": _pick(
            meta,
            exif,
            "com.apple.quicktime.software",
            "software",
            "Software",
            "CreatorTool",
            "encoder",
            "Encoder",
        ),  # fmt: skip
    }


def _signed(text: Any) -> str | None:
    """ExifTool's "-n" GPSCoordinates ("44.6 33.5 10") as ISO 6709 text."""
    parts = text.split() if isinstance(text, str) else []
    if len(parts) < 2:
        return None
    return "".join(p if p.startswith(("+", "-")) else f"+{p}" for p in parts[:2])


def _pick(meta: dict[str, Any], exif: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = _text(meta.get(key)) or _text(exif.get(key))
        if value:
            return value
    return None


def from_tools(av: dict[str, Any] | None, exif: dict[str, Any] | None) -> MediaFacts:
    """Merge PyAV's and ExifTool's output; unreadable when neither could read the file."""
    tools = tuple(
        t for t in (_text((av or {}).get("version")), _text((exif or {}).get("version"))) if t
    )
    isolation = tuple(str(i) for i in (av or exif or {}).get("isolation", ()))
    if av is None and not exif:
        return unreadable("no tool could read it", tools)
    av = av or {}
    meta = av.get("metadata") if isinstance(av.get("metadata"), dict) else {}
    exif_fields = (exif or {}).get("fields") or {}
    return MediaFacts(
        READ, **_technical(av), **_described(meta or {}, exif_fields), tools=tools,
        isolation=isolation,
    )  # fmt: skip
