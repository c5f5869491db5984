"""Links by content: the same picture or video, re-encoded (vPDQ over stored PDQ hashes).

A re-encoded copy (a messenger's, a lower bitrate, scaled, trimmed, a logo added) has another
SHA-256, so only its pictures can tie it to the original. Like the same file, it is shared
provenance: one source re-shared, not an independent account.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.errors import refused, usage
from triage.media.facts import READ
from triage.media.probe import find_tools, hash_descriptor, probe_descriptor
from triage.media.similar import FrameHash, Similarity, compare, frames_from_json
from triage.workspace.context import WorkContext
from triage.workspace.models import MediaHash

__all__ = ["MediaMatch", "describe_match", "search_file", "similar_to"]


@dataclass(frozen=True)
class MediaMatch:
    submission_id: str
    blob_name: str
    plaintext_sha256: str
    similarity: Similarity


def similar_to(
    session: Session, frames: list[FrameHash], *, exclude_submission: str | None = None,
    exclude_sha256: frozenset[str] = frozenset(),
) -> list[MediaMatch]:  # fmt: skip
    """Every stored file that is the same picture or video as `frames`, best first; files
    with a SHA-256 in `exclude_sha256` (exact copies, shown elsewhere) are left out."""
    found = []
    query = select(MediaHash)
    if exclude_submission is not None:
        query = query.where(MediaHash.submission_id != exclude_submission)
    for row in session.scalars(query):
        if row.plaintext_sha256 in exclude_sha256:
            continue
        similarity = compare(frames, frames_from_json(row.frames))
        if similarity is not None and similarity.same:
            found.append(MediaMatch(row.submission_id, row.blob_name, row.plaintext_sha256,
                                    similarity))  # fmt: skip
    return sorted(found, key=lambda m: (-m.similarity.query_share, m.submission_id))


def describe_match(match: MediaMatch, mine: str | None = None) -> str:
    s = match.similarity
    spans = ", ".join(f"{a:.0f}-{b:.0f} s" for a, b in s.ranges) or "-"
    which = f"file {mine[:8]} ~ " if mine else ""
    shares = f"{s.query_share:.0%} of frames found there, {s.other_share:.0%} back"
    if s.static:
        return (
            f"same picture only (static): {which}file {match.blob_name[:8]} ({shares}; "
            f"matched at {spans}); every matched frame is one still picture (a title card, "
            "colour bars, a photo), which unrelated videos can share: not taken as one source"
        )
    return (
        f"same picture/video, re-encoded: {which}file {match.blob_name[:8]} "
        f"({shares}; matched at {spans}) (shared provenance, not independent)"
    )


def search_file(ctx: WorkContext, path: Path) -> tuple[str, list[MediaMatch]]:
    """The SHA-256 of a file the investigator holds from elsewhere and the stored files that
    are the same picture or video. It is hashed in the cell like a witness's file (it is no
    safer); only read. Raises TriageError when it cannot be decoded or PDQ is missing."""
    tools = find_tools()
    if tools.pyav is None or not tools.pdq:
        raise usage("PyAV and pdqhash are needed", "pip install 'testimony-intake[media]'")
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        digest = _sha256_fd(fd)
        facts = probe_descriptor(fd, tools)
        frames = (
            hash_descriptor(fd, tools, duration=facts.duration) if facts.state == READ else None
        )
    finally:
        os.close(fd)
    if not frames:
        raise refused(f"{path} could not be decoded as a picture or video", facts.reason or "")
    with ctx.session() as session:
        found = similar_to(session, frames)
    details = {"matches": [m.blob_name for m in found]}
    ctx.record("media_searched", "file", digest[:16], object_sha256=digest, details=details)
    return digest, found


def _sha256_fd(fd: int) -> str:
    digest = hashlib.sha256()
    while chunk := os.read(fd, 1 << 20):
        digest.update(chunk)
    return digest.hexdigest()
