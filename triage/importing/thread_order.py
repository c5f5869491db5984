"""Threads that arrive out of order: what a witness sent later (follow-ups, consent changes)
imported before the testimony it adds to, said once at each end.

Exports are cut by time and investigators import them in any order, so a follow-up can be
here days before its testimony. Without its testimony a follow-up has no consent of its own
to go by and its thread cannot be shown; once the testimony comes, the thread and the consent
(a change imported earlier now applies to it; follow-ups take its consent) are complete, and
an investigator importing hundreds of submissions would not notice either from the counts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from triage.importing.consent import ConsentEffect
from triage.workspace.lists import split
from triage.workspace.models import Submission

__all__ = ["thread_notes"]

# Bound parameters per query: SQLite's limit is far above, but one IN list stays small.
_CHUNK = 500
# As the thread in `triage show` names them (triage.browse.thread).
_KINDS = {"follow_up": "follow-up", "consent_change": "consent change"}


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _rows(
    session: Session, column: InstrumentedAttribute[Any], ids: Sequence[str]
) -> list[Submission]:
    found: list[Submission] = []
    for chunk in _chunks(ids):
        found += session.scalars(select(Submission).where(column.in_(chunk)))
    return found


def _orphans(session: Session, new: list[Submission]) -> list[str]:
    """A warning for each new submission whose testimony is not in the workspace."""
    parents = sorted({row.parent_id for row in new if row.parent_id is not None})
    here = {row.id for row in _rows(session, Submission.id, parents)}
    return [
        f"{row.id}: adds to testimony {row.parent_id}, which is not in this workspace yet: its "
        f"thread and consent are incomplete until {row.parent_id} is imported"
        for row in new
        if row.parent_id is not None and row.parent_id not in here
    ]


def _named(child: Submission, root: Submission) -> str:
    # The reply-key check at import (parent_reply_key) could not run without the testimony.
    sender = (
        f" from another reply key than {root.id}"
        if child.witness_recipient != root.witness_recipient
        else ""
    )
    return f"{child.id} {_KINDS.get(child.kind, child.kind)}{sender}"


def _consent(root: Submission, effects: dict[str, ConsentEffect]) -> str:
    effect = effects.get(root.id)
    if effect is not None and effect.withdrawn:
        return f"withdrawn (by {effect.change_id})"
    now = ", ".join(split(root.consent)) or "none"
    return f"{now} (narrowed by {effect.change_id})" if effect is not None else now


def _completed(
    root: Submission, earlier: list[Submission], effects: dict[str, ConsentEffect]
) -> str:
    named = ", ".join(_named(child, root) for child in earlier)
    return (
        f"{root.id}: {len(earlier)} later submission(s) of this testimony were imported before "
        f"it and now join its thread: {named}; the thread's consent is now "
        f"{_consent(root, effects)} ('triage show {root.id}')"
    )


def thread_notes(
    session: Session, new_ids: Sequence[str], effects: Sequence[ConsentEffect]
) -> tuple[list[str], list[str]]:
    """After the import's rows and consent are in `session`: warnings for new submissions whose
    testimony is missing, and a note for each new testimony that submissions imported earlier
    add to, naming them and the thread's consent now (`effects`: this import's changes)."""
    new = _rows(session, Submission.id, list(new_ids))
    fresh = {row.id for row in new}
    testimonies = {row.id: row for row in new if row.kind == "testimony"}
    earlier: dict[str, list[Submission]] = {}
    for child in _rows(session, Submission.parent_id, sorted(testimonies)):
        if child.id not in fresh:  # sent in the same bundle: in order, nothing to say
            earlier.setdefault(child.parent_id or "", []).append(child)
    by_id = {effect.submission_id: effect for effect in effects}
    notes = [
        _completed(testimonies[root], sorted(kids, key=lambda c: (c.received_at, c.id)), by_id)
        for root, kids in sorted(earlier.items())
    ]
    return _orphans(session, new), notes
