"""Contradictions between a file's own metadata and the testimony: flagged, never hidden."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from triage.media.facts import MediaFacts
from triage.media.places import outside_named

__all__ = ["EDITORS", "Flag", "contradictions"]

# A testimony gives a date, a file's clock often no zone (or the phone's, or UTC): any time
# zone on Earth is within 14 hours of UTC, so nothing inside that margin is called a conflict.
ZONE_MARGIN = timedelta(hours=14)
# Editing software, as it writes its own name (Software, CreatorTool, encoder). A messenger or
# FFmpeg re-encoding is shown as the software but is not an edit.
EDITORS = re.compile(
    r"(?i)\b(adobe|photoshop|lightroom|premiere|after effects|final cut|imovie|davinci|"
    r"resolve|capcut|inshot|kinemaster|filmora|vn video|shotcut|kdenlive|openshot|gimp|"
    r"snapseed|picsart|vsco|canva|movavi|vegas)\b"
)


@dataclass(frozen=True)
class Flag:
    kind: str  # time | place | editor
    text: str
    certain: bool = True  # False: worth a look, not a contradiction (the place check)

    @property
    def heading(self) -> str:
        return f"{'CONTRADICTION' if self.certain else 'CHECK'} ({self.kind})"


def _time_flag(facts: MediaFacts, start: date | None, end: date | None) -> Flag | None:
    recorded = facts.recorded()
    if recorded is None or start is None:
        return None
    first = datetime.combine(start, time(), UTC) - ZONE_MARGIN
    last = datetime.combine(end or start, time(), UTC) + timedelta(days=1) + ZONE_MARGIN
    if first <= recorded <= last:
        return None
    dates = start.isoformat() if end in (None, start) else f"{start}..{end}"
    return Flag(
        "time",
        f"recorded {facts.recorded_at} ({facts.recorded_source}), outside the testimony's "
        f"dates {dates} even allowing 14 h for time zones; the time may be the re-encoding's, "
        "not the recording's",
    )


def _place_flag(facts: MediaFacts, oblast: str | None) -> Flag | None:
    if facts.latitude is None or facts.longitude is None or oblast is None:
        return None
    found = outside_named(facts.latitude, facts.longitude, oblast)
    if found is None:
        return None
    return Flag(
        "place",
        f"GPS {facts.latitude:.5f}, {facts.longitude:.5f} ({facts.gps_source}) is possibly "
        f"outside the oblast named ({oblast}): its nearest towns are in "
        f"{', '.join(sorted(found))}. The check knows towns, not boundaries: about 1 town in "
        "200 is placed outside its own oblast this way",
        certain=False,
    )


def contradictions(
    facts: MediaFacts, *, event_from: date | None, event_to: date | None, oblast: str | None
) -> list[Flag]:
    """What in `facts` contradicts the testimony's dates and oblast, or says it was edited."""
    flags = [_time_flag(facts, event_from, event_to), _place_flag(facts, oblast)]
    if facts.software and EDITORS.search(facts.software):
        flags.append(Flag("editor", f"last written by an editor: {facts.software}"))
    return [flag for flag in flags if flag is not None]
