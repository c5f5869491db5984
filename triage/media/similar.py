"""The same picture or video, re-encoded: vPDQ's matching over sampled PDQ frame hashes.

vPDQ (Meta's ThreatExchange, published with PDQ): sample a frame a second, hash each with PDQ,
drop frames whose PDQ quality is under 50 (flat or near-blank frames match everything), call
two frames the same when their 256-bit hashes differ in at most 31 bits, and report the share
of one file's frames found in the other, both ways. We call two files the same picture or video
when either share reaches 80 % and the other 30 % (a trimmed copy is all found in the original,
not the other way round); the shares and the matched time ranges are shown beside the verdict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FRAMES_MAX", "FrameHash", "Similarity", "compare", "frames_from_json", "frames_to_json"]

QUALITY_MIN = 50
DISTANCE_MAX = 31
SHARE_ONE_WAY = 0.8
SHARE_OTHER_WAY = 0.3
# Hashed frames per file: half an hour at one a second. A longer file is sampled more sparsely
# (comparing two files costs the product of their frame counts: 100,000 frames each would
# take `triage links` hours).
FRAMES_MAX = 1800
_GAP = 1.5  # seconds: sampled frames closer than this belong to one matched range


@dataclass(frozen=True)
class FrameHash:
    at: float  # seconds into the file
    bits: int  # the 256-bit PDQ hash
    quality: int


@dataclass(frozen=True)
class Similarity:
    """How much of `query` is found in `other` (and back), and where in `query`."""

    query_share: float
    other_share: float
    ranges: tuple[tuple[float, float], ...]
    # The match rests on one still picture (a title card, colour bars, a photo in a video):
    # unrelated videos can share one, so it is not called the same video.
    static: bool = False

    @property
    def same(self) -> bool:
        high, low = max(self.query_share, self.other_share), min(self.query_share, self.other_share)
        return high >= SHARE_ONE_WAY and low >= SHARE_OTHER_WAY


def frames_to_json(frames: Sequence[FrameHash]) -> str:
    return json.dumps([[f.at, f"{f.bits:064x}", f.quality] for f in frames])


def frames_from_json(text: str) -> list[FrameHash]:
    """Frames from the child's or the database's JSON; malformed entries are dropped."""
    found = []
    for item in json.loads(text):
        try:
            at, hexbits, quality = item
            found.append(FrameHash(float(at), int(str(hexbits), 16), int(quality)))
        except (TypeError, ValueError):
            continue
    return found


def _good(frames: Sequence[FrameHash]) -> list[FrameHash]:
    return [f for f in frames if f.quality >= QUALITY_MIN]


def _matched(query: Sequence[FrameHash], other: Sequence[FrameHash]) -> list[FrameHash]:
    return [q for q in query if any((q.bits ^ o.bits).bit_count() <= DISTANCE_MAX for o in other)]


def _ranges(frames: Sequence[FrameHash]) -> tuple[tuple[float, float], ...]:
    ranges: list[list[float]] = []
    for frame in sorted(frames, key=lambda f: f.at):
        if ranges and frame.at - ranges[-1][1] <= _GAP:
            ranges[-1][1] = frame.at
        else:
            ranges.append([frame.at, frame.at])
    return tuple((start, end) for start, end in ranges)


def compare(query: Sequence[FrameHash], other: Sequence[FrameHash]) -> Similarity | None:
    """vPDQ's comparison; None when either file has no frame of usable quality."""
    mine, theirs = _good(query), _good(other)
    if not mine or not theirs:
        return None
    found_here, found_there = _matched(mine, theirs), _matched(theirs, mine)
    static = max(len(mine), len(theirs)) > 1 and _one_picture([*found_here, *found_there])
    return Similarity(
        len(found_here) / len(mine), len(found_there) / len(theirs), _ranges(found_here), static
    )


def _one_picture(frames: Sequence[FrameHash]) -> bool:
    """Whether every frame is the first one's picture (within the match distance)."""
    return all((f.bits ^ frames[0].bits).bit_count() <= DISTANCE_MAX for f in frames)
