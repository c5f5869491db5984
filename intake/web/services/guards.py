"""Checks that need no request body: one-time form tokens.

They live in the database, so every gunicorn worker (and every host) sees the same state.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.orm import Session

from intake.clock import hour_bucket
from intake.db import SessionFactory
from intake.models import FormToken

__all__ = [
    "FORM_TOKEN_TTL_HOURS",
    "new_form_token",
    "form_token_hash",
    "form_token_used",
    "mark_form_token_used",
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
