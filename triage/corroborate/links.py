"""Corroboration: which submissions are related to one, and why. Suggestions, never merges.

Four kinds, kept apart because they weigh differently for a prosecutor:
- the same file (same SHA-256): shared provenance, one source re-shared, NOT independent;
- the same picture or video re-encoded (vPDQ, corroborate.media_links): shared provenance too;
- the same witness (same reply key): one source speaking twice, NOT independent;
- candidates: overlapping date windows, the same oblast, shared unit or call-sign tokens
  (numbers and names matched across Ukrainian, Russian and English spellings); at least two of
  the three must hold. These may be independent accounts of one event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from triage.corroborate.media_links import describe_match, similar_to
from triage.media.similar import frames_from_json
from triage.text.translit import GENERIC_WORDS
from triage.workspace.lists import split
from triage.workspace.models import VERIFIED, Attachment, MediaHash, Submission

WITHDRAWN = "withdrawn"

__all__ = ["Link", "find_links", "withdrawn_ids"]

SHARED_FILE = "shared-file"
SAME_MEDIA = "same-media-re-encoded"
SAME_STILL = "same-still-picture"  # shown, but not one source: see media_links.describe_match
SAME_WITNESS = "same-witness"
CANDIDATE = "candidate"


@dataclass
class Link:
    submission_id: str
    kinds: set[str] = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)
    score: int = 0

    @property
    def independent(self) -> bool:
        """Whether this could be an independent source (not a re-shared file, not the same
        witness)."""
        return not self.kinds & {SHARED_FILE, SAME_MEDIA, SAME_WITNESS}


def _overlap(a: tuple[date | None, date | None], b: tuple[date | None, date | None]) -> bool:
    if None in a or None in b:
        return False
    return a[0] <= b[1] and b[0] <= a[1]  # type: ignore[operator]


def _shared_files(session: Session, row: Submission, links: dict[str, Link]) -> None:
    # Only files opened here and found to hash as their submission says: a hash nobody could
    # check (a file that did not open, or did not match) is a claim, and a hostile client could
    # claim another witness's video to be linked with it (found by review).
    mine = {a.plaintext_sha256: a for a in row.files if a.state == VERIFIED}
    if not mine:
        return
    query = select(Attachment.submission_id, Attachment.plaintext_sha256).where(
        Attachment.plaintext_sha256.in_(mine),
        Attachment.submission_id != row.id,
        Attachment.state == VERIFIED,
    )
    for other, sha in session.execute(query):
        link = links.setdefault(other, Link(other))
        link.kinds.add(SHARED_FILE)
        link.reasons.append(f"same file sha256 {sha[:16]}… (shared provenance, not independent)")
        link.score += 10


def _same_media(session: Session, row: Submission, links: dict[str, Link]) -> None:
    hashed = session.scalars(select(MediaHash).where(MediaHash.submission_id == row.id))
    exact = frozenset(a.plaintext_sha256 for a in row.files)
    for mine in hashed:
        frames = frames_from_json(mine.frames)
        for match in similar_to(session, frames, exclude_submission=row.id, exclude_sha256=exact):
            link = links.setdefault(match.submission_id, Link(match.submission_id))
            link.kinds.add(SAME_STILL if match.similarity.static else SAME_MEDIA)
            link.reasons.append(describe_match(match, mine.blob_name))
            link.score += 2 if match.similarity.static else 9


def _same_witness(session: Session, row: Submission, links: dict[str, Link]) -> None:
    query = select(Submission.id).where(
        Submission.witness_recipient == row.witness_recipient,
        Submission.id != row.id,
        Submission.kind != "consent_change",
    )
    for other in session.scalars(query):
        link = links.setdefault(other, Link(other))
        link.kinds.add(SAME_WITNESS)
        link.reasons.append("same witness (same reply key): not an independent source")
        link.score += 10


def _candidates(session: Session, row: Submission, links: dict[str, Link]) -> None:
    mine = set(split(row.unit_tokens)) - GENERIC_WORDS
    window = (row.event_from, row.event_to)
    near = [Submission.oblast == row.oblast] if row.oblast else []
    if row.event_from and row.event_to:
        near.append(
            and_(Submission.event_from <= row.event_to, Submission.event_to >= row.event_from)
        )
    if not near:
        return
    columns = (Submission.id, Submission.oblast, Submission.event_from, Submission.event_to)
    query = select(*columns, Submission.unit_tokens).where(
        or_(*near), Submission.id != row.id, Submission.kind != "consent_change"
    )
    for other, oblast, start, end, unit_tokens in session.execute(query):
        reasons = []
        if row.oblast and oblast == row.oblast:
            reasons.append(f"same oblast {oblast}")
        if _overlap(window, (start, end)):
            reasons.append(f"overlapping dates ({start}…{end})")
        shared = sorted(mine & set(split(unit_tokens)))
        if shared:
            reasons.append(f"shared unit/call-sign tokens: {', '.join(shared)}")
        if len(reasons) >= 2:
            link = links.setdefault(other, Link(other))
            link.kinds.add(CANDIDATE)
            link.reasons.extend(reasons)
            link.score += len(reasons) + len(shared)


def find_links(session: Session, row: Submission) -> list[Link]:
    """Related submissions, strongest first."""
    links: dict[str, Link] = {}
    _shared_files(session, row, links)
    _same_media(session, row, links)
    _same_witness(session, row, links)
    _candidates(session, row, links)
    return sorted(links.values(), key=lambda link: (-link.score, link.submission_id))


def withdrawn_ids(session: Session, idents: Iterable[str]) -> set[str]:
    """Which of these submissions the witness withdrew: never evidence, however well they match."""
    wanted = list(idents)
    if not wanted:
        return set()
    query = select(Submission.id).where(Submission.id.in_(wanted), Submission.status == WITHDRAWN)
    return set(session.scalars(query))
