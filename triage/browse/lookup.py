"""Finding one submission by its id, forgiving case and Crockford typos."""

from __future__ import annotations

from sqlalchemy.orm import Session

from protocol.errors import ProtocolError
from protocol.ids import parse_submission_id
from triage.browse.listing import resolve_oblast
from triage.errors import not_found
from triage.workspace.models import Submission

__all__ = ["get_submission", "resolve_oblast"]


def get_submission(session: Session, ident: str) -> Submission:
    """The submission with this id. Raises TriageError when there is none."""
    try:
        canonical = parse_submission_id(ident)
    except ProtocolError:
        raise not_found("submission", ident) from None
    row = session.get(Submission, canonical)
    if row is None:
        raise not_found("submission", canonical)
    return row
