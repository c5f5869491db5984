"""Consent changes from a witness (withdraw, narrow), applied to that witness's submissions.

A change applies to the submissions the same witness (same reply key) made up to the moment
of the change; a testimony made after it carries its own, new consent. Follow-ups take their
parent's consent. Applying is recomputed from the original consent each time, so importing
the same changes twice, or in another order, gives the same result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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
    row: Submission, base: str, changes: list[tuple[Submission, SealedSubmission]]
) -> ConsentEffect | None:
    consent, withdrawn_by = set(split(base)), None
    last_change = ""
    for change_row, change in changes:
        if change_row.received_at < row.received_at or change.consent_change is None:
            continue
        last_change = change_row.id
        if change.consent_change.action == "withdraw":
            withdrawn_by = change_row.id
        else:
            consent &= set(change.consent_change.recipients)
    before = f"{row.status}:{row.consent}"
    row.consent = joined(consent)
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
            base = row.consent_original
            if row.kind == "follow_up" and row.parent_id in by_id:
                base = by_id[row.parent_id].consent_original
                row.consent_original = base
            effect = _apply_one(row, base, changes)
            if effect is not None:
                effects.append(effect)
    return effects
