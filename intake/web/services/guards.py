"""Checks that need no request body: one-time form tokens and the codename attempt budget.

Both live in the database, so every gunicorn worker (and every host) sees the same state.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.clock import hour_bucket
from intake.db import SessionFactory
from intake.models import AttemptBudget, FormToken

__all__ = [
    "FORM_TOKEN_TTL_HOURS",
    "new_form_token",
    "form_token_hash",
    "form_token_used",
    "mark_form_token_used",
    "take_attempt",
]

FORM_TOKEN_TTL_HOURS = 48
"""A used token is remembered two days: a refresh after that finds a new, empty form anyway."""

_LABEL = b"intake.web/v1/form-token\n"


def new_form_token() -> str:
    """A fresh one-time token for a rendered form (it travels in the form's action URL)."""
    return secrets.token_urlsafe(24)


def form_token_hash(token: str) -> bytes:
    """What the database keeps of a token."""
    return hashlib.sha256(_LABEL + token.encode("utf-8")).digest()


def form_token_used(sessions: SessionFactory, token: str) -> bool:
    """Whether a submission was already made with this form (a refresh or a double click)."""
    with sessions() as session:
        row = session.get(FormToken, form_token_hash(token))
        return row is not None and row.used


def mark_form_token_used(session: Session, token: str) -> None:
    """Record the token in the submission's own transaction.

    The primary key makes the second of two racing submissions fail at commit with an
    IntegrityError, which the caller turns into the "already received" page.
    """
    session.add(
        FormToken(
            token_hash=form_token_hash(token),
            used=True,
            expires_hour=hour_bucket() + FORM_TOKEN_TTL_HOURS,
        )
    )


def take_attempt(sessions: SessionFactory, per_hour: int) -> bool:
    """Count one codename derivation in this clock hour; False when the budget is spent.

    An UPDATE guarded by `count < limit` is atomic on SQLite and PostgreSQL; the first attempt
    of an hour inserts the row, and a racing insert falls back to the update.
    """
    hour = hour_bucket()
    for _ in range(2):
        with sessions() as session:
            result = session.execute(
                update(AttemptBudget)
                .where(AttemptBudget.hour == hour, AttemptBudget.count < per_hour)
                .values(count=AttemptBudget.count + 1)
            )
            if getattr(result, "rowcount", 0) == 1:
                session.commit()
                return True
            if session.scalar(select(AttemptBudget.hour).where(AttemptBudget.hour == hour)):
                return False
            session.add(AttemptBudget(hour=hour, count=1))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                continue
            return True
    return False
