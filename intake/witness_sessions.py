"""Witness sessions kept on the server: the cookie holds a random token, the database its hash.

Nothing here imports Flask: the web adapter (`intake.web.sessions`) hands over the token from
the cookie and the time the request started, and every deadline is checked against that time,
so a POST admitted when it started is received and committed however long its upload takes.
The sweep (`intake.maintenance`) calls `purge_expired`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, update
from sqlalchemy.orm import Session

from intake.clock import minute_bucket
from intake.db import SessionFactory
from intake.models import WitnessSession

__all__ = [
    "ABSOLUTE_LIFETIME",
    "CONFIRMATION_LIFETIME",
    "IDLE_LIFETIME",
    "ActiveSession",
    "FormPost",
    "SessionPolicy",
    "close_session",
    "confirm_parent",
    "form_settled",
    "hold_for_form",
    "open_session",
    "purge_expired",
    "read_note",
    "resume",
    "store_note",
    "token_hash",
]

# An account session dies after 30 minutes without a request and 12 hours after the login,
# whichever comes first. 30 minutes is longer than reading replies and choosing what to add
# over a slow Tor circuit, and short enough that a browser left open on a shared or seized
# device is logged out by the time someone else picks it up in most cases. 12 hours bounds a
# stolen cookie that is kept busy: a witness returns with the codename at least once a day.
# A form is the exception: its POST is admitted for the form's CSRF lifetime (see
# SessionPolicy.form), since writing and uploading a follow-up can take most of a day; only
# the POST of the last form rendered, with that form's own one-time token (`FormPost`).
IDLE_LIFETIME = timedelta(minutes=30)
ABSOLUTE_LIFETIME = timedelta(hours=12)
# After the codename is typed again to confirm a consent change, a change to that testimony
# that failed (a refresh, no active key) may be sent again without it for this long; a change
# that commits clears the confirmation (form_settled), so the row does not keep which
# testimony changed consent, and the next change asks again.
CONFIRMATION_LIFETIME = timedelta(minutes=10)

_LABEL = b"intake.web/v1/witness-session\n"
_FORM_LABEL = b"intake.web/v1/held-form\n"


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


@dataclass(frozen=True)
class SessionPolicy:
    """The lifetimes of one site; `form` is the CSRF lifetime of its forms."""

    form: timedelta
    idle: timedelta = IDLE_LIFETIME
    absolute: timedelta = ABSOLUTE_LIFETIME
    confirmation: timedelta = CONFIRMATION_LIFETIME


@dataclass(frozen=True)
class FormPost:
    """A form's POST: the endpoint it goes to and the one-time token its page was given."""

    endpoint: str
    once: str

    def digest(self) -> bytes:
        """What the session row keeps of a rendered form: neither the token nor which form."""
        text = f"{self.endpoint}\n{self.once}".encode()
        return hashlib.sha256(_FORM_LABEL + text).digest()


@dataclass(frozen=True)
class ActiveSession:
    """A session admitted at the start of a request; `held` when only a rendered form's hold
    admitted it (the account session had ended): that POST alone, renewing nothing."""

    token: str
    witness_id: str
    confirmed_parent: str | None
    confirmed_until: int | None
    held: bool = False

    def confirmed_for(self, parent_id: str, now: datetime) -> bool:
        """Whether the codename was confirmed for `parent_id` less than 10 minutes ago."""
        return (
            self.confirmed_parent is not None
            and self.confirmed_until is not None
            and hmac.compare_digest(self.confirmed_parent, parent_id)
            and minute_bucket(now) < self.confirmed_until
        )


def token_hash(token: str) -> bytes:
    """What the database keeps of a session token: a hash is not a session."""
    return hashlib.sha256(_LABEL + token.encode("utf-8")).digest()


def open_session(
    sessions: SessionFactory,
    witness_id: str,
    policy: SessionPolicy,
    now: datetime,
    *,
    replacing: str | None = None,
) -> str:
    """A new session for `witness_id` after a codename login; returns the cookie's token.

    The session the browser held before (`replacing`), if any, is deleted: a login never
    keeps a token that existed before it.
    """
    token = secrets.token_urlsafe(32)
    minute = minute_bucket(now)
    absolute = minute + _minutes(policy.absolute)
    with sessions() as session:
        if replacing:
            _delete(session, replacing)
        session.add(
            WitnessSession(
                token_hash=token_hash(token),
                witness_id=witness_id,
                absolute_until=absolute,
                idle_until=min(minute + _minutes(policy.idle), absolute),
            )
        )
        session.commit()
    return token


def resume(
    sessions: SessionFactory,
    token: str,
    policy: SessionPolicy,
    now: datetime,
    *,
    form_post: FormPost | None = None,
) -> ActiveSession | None:
    """The session for `token` if the request that started at `now` is admitted, else None.

    Any page is admitted before the idle deadline, which each admitted page pushes back (never
    past the absolute one). After it, a form's POST (`form_post`) is admitted before the form
    deadline only if it is the last form rendered, to its own endpoint with its own one-time
    token: a copied cookie alone posts nothing. That admits the POST alone (`held`) and
    revives neither the account nor the hold.
    """
    if not token:
        return None
    minute = minute_bucket(now)
    with sessions() as session:
        row = session.get(WitnessSession, token_hash(token))
        if row is None:
            return None
        live = minute < row.idle_until
        if not (live or _held(row, form_post, minute)):
            return None
        if live:
            row.idle_until = min(minute + _minutes(policy.idle), row.absolute_until)
            session.commit()
        return ActiveSession(
            token=token,
            witness_id=row.witness_id,
            confirmed_parent=row.confirmed_parent,
            confirmed_until=row.confirmed_until,
            held=not live,
        )


def _held(row: WitnessSession, form_post: FormPost | None, minute: int) -> bool:
    return (
        form_post is not None
        and row.form_until is not None
        and row.form_hash is not None
        and minute < row.form_until
        and hmac.compare_digest(row.form_hash, form_post.digest())
    )


def hold_for_form(
    sessions: SessionFactory,
    token: str,
    policy: SessionPolicy,
    form: FormPost,
    *,
    started: datetime,
    rendered: datetime,
) -> None:
    """A form was rendered: admit its POST (`form`, and no other) until `rendered` plus the
    form's lifetime (its CSRF token is made at render time too). It replaces any form held
    before. Only for a request that started inside the absolute lifetime, so rendering forms
    cannot keep a session alive for ever; a form re-rendered after a long upload still gets
    its full lifetime. The caller never calls it for a POST only the hold admitted.
    """
    with sessions() as session:
        row = session.get(WitnessSession, token_hash(token))
        if row is not None and minute_bucket(started) < row.absolute_until:
            row.form_until = minute_bucket(rendered) + _minutes(policy.form)
            row.form_hash = form.digest()
            session.commit()


def form_settled(sessions: SessionFactory, token: str, form: FormPost) -> None:
    """The POST of `form` was committed: its hold ends (if it is still the form held), and a
    consent confirmation is forgotten, so the row no longer tells which testimony it was."""
    with sessions() as session:
        row = session.get(WitnessSession, token_hash(token))
        if row is None:
            return
        if row.form_hash is not None and hmac.compare_digest(row.form_hash, form.digest()):
            row.form_until = row.form_hash = None
        row.confirmed_parent = row.confirmed_until = None
        session.commit()


def confirm_parent(
    sessions: SessionFactory, token: str, parent_id: str, policy: SessionPolicy, now: datetime
) -> None:
    """Remember that the codename was typed again for `parent_id` (for policy.confirmation)."""
    with sessions() as session:
        row = session.get(WitnessSession, token_hash(token))
        if row is not None:
            row.confirmed_parent = parent_id
            row.confirmed_until = minute_bucket(now) + _minutes(policy.confirmation)
            session.commit()


def store_note(sessions: SessionFactory, token: str, sealed: bytes, until: datetime) -> bool:
    """Keep `sealed` (already sealed to the cookie's key) on the session until `until`.

    Returns False when the session row is gone (logged out, swept).
    """
    with sessions() as session:
        row = session.get(WitnessSession, token_hash(token))
        if row is None:
            return False
        row.sealed_note = sealed
        row.note_until = minute_bucket(until)
        session.commit()
        return True


def read_note(sessions: SessionFactory, token: str, now: datetime) -> bytes | None:
    """The session's sealed note if it is still live at `now`, else None.

    A note outlives the session's idle deadline on purpose: a receipt after an upload that
    took longer than 30 minutes must still be shown again on reload.
    """
    if not token:
        return None
    with sessions() as session:
        row = session.get(WitnessSession, token_hash(token))
        if row is None or row.sealed_note is None or row.note_until is None:
            return None
        return row.sealed_note if minute_bucket(now) < row.note_until else None


def _delete(session: Session, token: str) -> None:
    session.execute(delete(WitnessSession).where(WitnessSession.token_hash == token_hash(token)))


def close_session(sessions: SessionFactory, token: str) -> None:
    """Logout: the row is deleted, so the token opens nothing any more, anywhere."""
    if not token:
        return
    with sessions() as session:
        _delete(session, token)
        session.commit()


def purge_expired(session: Session, now: datetime) -> int:
    """Delete, in the caller's transaction, every session no request can be admitted to any
    more (past its idle deadline, any form's and any note's); returns how many. A note past
    its deadline is dropped from a session that lives on."""
    minute = minute_bucket(now)
    session.execute(
        update(WitnessSession)
        .where(WitnessSession.note_until <= minute)
        .values(sealed_note=None, note_until=None)
    )
    result = cast(
        CursorResult[Any],
        session.execute(
            delete(WitnessSession).where(
                WitnessSession.idle_until <= minute,
                or_(WitnessSession.form_until.is_(None), WitnessSession.form_until <= minute),
                WitnessSession.note_until.is_(None),
            )
        ),
    )
    return result.rowcount or 0
