"""Consent changes from a witness (withdraw, narrow), applied to that witness's submissions.

The rule itself is protocol.consent's, shared with the server's account page. A change
applies to the submissions the same witness (same reply key) made up to the moment of the
change; a testimony made after it carries its own, new consent. Follow-ups take their
parent's consent. Applying is recomputed from the original consent each time, so importing
the same changes twice, or in another order, gives the same result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.consent import Effective, Sent, effective_consent
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


def _sent(rows: list[Submission]) -> list[Sent]:
    """The rows as the shared rule (protocol.consent) reads them; a change that does not
    parse as one is left out, as if it were not there."""
    found = []
    for row in rows:
        change = None
        if row.kind == "consent_change":
            change = SealedSubmission.from_json(row.document.encode("utf-8")).consent_change
            if change is None:
                continue
        found.append(
            Sent(row.id, row.received_at, tuple(split(row.consent_original)), row.parent_id, change)
        )
    return found


def _apply_one(row: Submission, effective: Effective) -> ConsentEffect | None:
    before = f"{row.status}:{row.consent}"
    row.consent = joined(effective.recipients)
    if not effective.applied:
        # No change of the witness's applies: the row only takes its base consent (a follow-up,
        # its parent's), which is no news for the investigator.
        return None
    if effective.withdrawn_by is not None:
        row.status = WITHDRAWN
    after = f"{row.status}:{row.consent}"
    if before == after:
        return None
    change_id = effective.withdrawn_by or effective.applied[-1]
    return ConsentEffect(row.id, change_id, before, after, bool(effective.withdrawn_by))


def recompute_consent(session: Session, witnesses: Iterable[str]) -> list[ConsentEffect]:
    """Re-apply every known consent change of these witnesses. Returns what changed."""
    effects = []
    for witness in sorted(set(witnesses)):
        rows = list(
            session.scalars(select(Submission).where(Submission.witness_recipient == witness))
        )
        resolved = effective_consent(_sent(rows))
        for row in rows:
            if row.kind == "consent_change":
                continue
            effective = resolved[row.id]
            # A follow-up's original consent is its testimony's, once that is here too.
            row.consent_original = joined(effective.base)
            effect = _apply_one(row, effective)
            if effect is not None:
                effects.append(effect)
    return effects
