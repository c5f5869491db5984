"""A file's own metadata as lines for people (`triage show`, the case bundle's text)."""

from __future__ import annotations

from triage.media.checks import Flag
from triage.media.facts import READ, MediaFacts
from triage.text.safe import neutralise_line

__all__ = ["describe"]


def _technical(facts: MediaFacts) -> list[str]:
    lines = []
    if facts.container:
        length = f", {facts.duration:.1f} s" if facts.duration is not None else ""
        lines.append(f"container: {facts.container}{length}")
    if facts.video_codec:
        size = f" {facts.width}x{facts.height}" if facts.width and facts.height else ""
        rate = f" {facts.frame_rate:.2f} fps" if facts.frame_rate else ""
        lines.append(f"video: {facts.video_codec}{size}{rate}")
    if facts.audio_codec:
        channels = f", {facts.audio_channels} channel(s)" if facts.audio_channels else ""
        seconds = f", {facts.audio_duration:.1f} s" if facts.audio_duration is not None else ""
        lines.append(f"audio: {facts.audio_codec}{channels}{seconds}")
    return lines


def describe(facts: MediaFacts, flags: list[Flag]) -> list[str]:
    """The facts, then every flag as a line starting with "CONTRADICTION" (or "CHECK" for
    what is only worth a look). Each
    line is one line, whatever a field stored before facts were made single-line held."""
    return [neutralise_line(line) for line in _lines(facts, flags)]


def _lines(facts: MediaFacts, flags: list[Flag]) -> list[str]:
    if facts.state != READ:
        return [f"media: unreadable ({facts.reason}); nothing is shown of it"]
    lines = _technical(facts)
    if facts.recorded_at:
        zone = "" if facts.zone_known() else " (no time zone in the file)"
        lines.append(f"recorded: {facts.recorded_at}{zone} from {facts.recorded_source}")
    if facts.has_gps:
        lines.append(f"GPS: {facts.latitude:.5f}, {facts.longitude:.5f} from {facts.gps_source}")
    device = " ".join(part for part in (facts.make, facts.model) if part)
    if device:
        lines.append(f"device: {device}")
    if facts.software:
        lines.append(f"written by: {facts.software}")
    lines.append(f"read with: {'; '.join(facts.tools)}")
    lines += [f"{flag.heading}: {flag.text}" for flag in flags]
    return lines
