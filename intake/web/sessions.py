"""The web side of witness sessions: the token in Flask's cookie, the rules in the service.

Flask's signed cookie carries only a random token (besides the language and the CSRF secret);
`intake.witness_sessions` keeps its hash and every deadline. Signing is no longer what
makes a session: whoever holds the secret key can sign a cookie, but only a token issued at a
login finds a row.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

from flask import Flask, current_app, g, request, session

from intake import witness_sessions as service
from intake.clock import utc_now
from intake.web.i18n import SESSION_KEY as LANG_KEY
from intake.web.pages import ONCE_ARG
from intake.web.services.context import WebContext
from intake.witness_sessions import ActiveSession, FormPost, SessionPolicy

__all__ = [
    "NOTE_KEY",
    "TOKEN_KEY",
    "confirm_parent",
    "current_session",
    "form_settled",
    "hold_for_form",
    "init_sessions",
    "log_in",
    "log_out",
    "request_started",
]

TOKEN_KEY = "sid"  # noqa: S105 (a cookie key name, not a secret)
"""The cookie's session token; the cookie holds no witness id."""

NOTE_KEY = "nk"
"""The cookie's key for the session's sealed note (intake.web.notes); the server never keeps it."""

_STARTED = "intake_request_started"


def _record_start() -> None:
    setattr(g, _STARTED, utc_now())


def request_started() -> datetime:
    """When this request started: every session deadline is checked against it."""
    started = getattr(g, _STARTED, None)
    return started if isinstance(started, datetime) else utc_now()


def _policy() -> SessionPolicy:
    # A form's POST is admitted exactly as long as its CSRF token is (intake.web.init_web).
    return SessionPolicy(form=timedelta(seconds=current_app.config["WTF_CSRF_TIME_LIMIT"]))


def _token() -> str:
    token = session.get(TOKEN_KEY)
    return token if isinstance(token, str) else ""


def _fresh_cookie() -> None:
    """Clear the cookie's contents; only the language choice survives."""
    language = session.get(LANG_KEY)
    session.clear()
    if language is not None:
        session[LANG_KEY] = language


def _this_post(endpoint: str | None = None) -> FormPost:
    return FormPost(endpoint or request.endpoint or "", request.args.get(ONCE_ARG, ""))


def current_session(
    ctx: WebContext, *, form_post: bool = False, for_form: str | None = None
) -> ActiveSession | None:
    """The witness session admitted when this request started, or None; `form_post` lets a
    held form admit this POST (its endpoint and its `once` token must be the form's).
    `for_form` names the form's endpoint when this request is the form's helper (the parts of
    a file its script sends), which the form's hold admits as it admits the form's POST."""
    form = _this_post(for_form) if form_post else None
    return service.resume(ctx.sessions, _token(), _policy(), request_started(), form_post=form)


def log_in(ctx: WebContext, witness_id: str) -> None:
    """A fresh session after a codename login (the browser's old one, if any, is deleted)."""
    token = service.open_session(
        ctx.sessions, witness_id, _policy(), request_started(), replacing=_token() or None
    )
    _fresh_cookie()
    session[TOKEN_KEY] = token
    session[NOTE_KEY] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
    # Permanent only so that the CSRF secret in the same cookie outlives a long form; the
    # session's own lifetime is decided on the server.
    session.permanent = True


def log_out(ctx: WebContext) -> None:
    """Delete the session's row and clear the cookie."""
    service.close_session(ctx.sessions, _token())
    _fresh_cookie()


def hold_for_form(ctx: WebContext, active: ActiveSession, endpoint: str, once: str) -> None:
    """A form posting to `endpoint` with token `once` is being rendered: admit that POST, and
    no other, for the CSRF lifetime. A page answering a POST only the hold admitted renews
    nothing: it can show the same form again, never gain time."""
    if active.held:
        return
    service.hold_for_form(
        ctx.sessions,
        active.token,
        _policy(),
        FormPost(endpoint, once),
        started=request_started(),
        rendered=utc_now(),
    )


def form_settled(ctx: WebContext, active: ActiveSession) -> None:
    """This request's form was committed: its hold and any consent confirmation end."""
    service.form_settled(ctx.sessions, active.token, _this_post())


def confirm_parent(ctx: WebContext, active: ActiveSession, parent_id: str) -> None:
    """The codename was just typed again for `parent_id`."""
    service.confirm_parent(ctx.sessions, active.token, parent_id, _policy(), request_started())


def init_sessions(app: Flask) -> None:
    """Record when each request starts, before anything reads its body."""
    # Registered before the blueprint's hooks and views, so the time is taken first.
    app.before_request(_record_start)
