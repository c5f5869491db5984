"""Consent changes from a witness (withdraw, narrow), applied to that witness's submissions.

A change applies to the submissions the same witness (same reply key) made up to the moment
of the change; a testimony made after it carries its own, new consent. Follow-ups take their
parent's consent. Applying is recomputed from the original consent each time, so importing
the same changes twice, or in another order, gives the same result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.schema import Submission as SealedSubmission
from triage.workspace.lists import joined, split
from triage.workspace.models import Submission

__all__ = ["ConsentEffect", "recompute_consent"]

WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class ConsentEffect:
    submission_id: str
    change_id: str
    before: str
    after: str
    withdrawn: bool


def _changes(rows: list[Submission]) -> list[tuple[Submission, SealedSubmission]]:
    found = []
    for row in rows:
        if row.kind == "consent_change":
            found.append((row, SealedSubmission.from_json(row.document.encode("utf-8"))))
    return sorted(found, key=lambda pair: pair[0].received_at)


def _apply_one(
    row: Submission,
    base: str,
    changes: list[tuple[Submission, SealedSubmission]],
    since: datetime,
) -> ConsentEffect | None:
    consent, withdrawn_by = set(split(base)), None
    last_change = ""
    for change_row, change in changes:
        if change_row.received_at < since or change.consent_change is None:
            continue
        last_change = change_row.id
        if change.consent_change.action == "withdraw":
            withdrawn_by = change_row.id
        else:
            consent &= set(change.consent_change.recipients)
    before = f"{row.status}:{row.consent}"
    row.consent = joined(consent)
    if not last_change:
        # No change of the witness's applies: the row only takes its base consent (a follow-up,
        # its parent's), which is no news for the investigator.
        return None
    if withdrawn_by is not None:
        row.status = WITHDRAWN
    after = f"{row.status}:{row.consent}"
    if before == after:
        return None
    return ConsentEffect(row.id, withdrawn_by or last_change, before, after, bool(withdrawn_by))


def recompute_consent(session: Session, witnesses: Iterable[str]) -> list[ConsentEffect]:
    """Re-apply every known consent change of these witnesses. Returns what changed."""
    effects = []
    for witness in sorted(set(witnesses)):
        rows = list(
            session.scalars(select(Submission).where(Submission.witness_recipient == witness))
        )
        changes = _changes(rows)
        by_id = {row.id: row for row in rows}
        for row in rows:
            if row.kind == "consent_change":
                continue
            base, since = row.consent_original, row.received_at
            if row.kind == "follow_up" and row.parent_id in by_id:
                # A follow-up belongs to its testimony: every change since the testimony
                # applies to it, including one made before the follow-up was sent.
                parent = by_id[row.parent_id]
                base, since = parent.consent_original, parent.received_at
                row.consent_original = base
            effect = _apply_one(row, base, changes, since)
            if effect is not None:
                effects.append(effect)
    return effects
