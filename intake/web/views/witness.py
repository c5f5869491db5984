"""A returning witness: log in with the codename, see the account, log out."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, session, url_for
from flask_babel import gettext as _

from intake.context import allow_without_active_key
from intake.web.choices import LABELS
from intake.web.forms import LoginForm
from intake.web.pages import action_url, is_redraw, page, relang
from intake.web.receiving import BodyFailedError, parse_body, refuse_before_body
from intake.web.services.codename import KdfBusyError
from intake.web.services.context import WebContext
from intake.web.services.drafts import reseal_draft
from intake.web.services.records import RECORD_DAYS_AFTER_PURGE
from intake.web.services.witness import (
    Account,
    account_of,
    codename_is_blank,
    login,
)
from intake.web.sessions import current_session, log_in, log_out
from intake.web.views._sealing import draft_key
from intake.web.views.start import CONFIRMED_KEY
from intake.witness_sessions import ActiveSession

__all__ = ["register", "signed_in"]

# Tor Browser forgets cookies with "New Identity"; this asks any browser to do the same.
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


def account_page(account: Account, *, opened: bool) -> Response:
    """The account; opened (only in the login response) with replies and receipt records."""
    return page(
        "account.html",
        one_time=opened,
        account=account,
        opened=opened,
        record_days=RECORD_DAYS_AFTER_PURGE,
        recipient_labels=LABELS["recipient_class"],
    )


def login_page(
    form: LoginForm, status: int = 200, *, unknown: bool = False, redrawn: bool = False
) -> Response:
    """The return page; the codename field is empty unless this is a language button's redraw.

    A codename sent to log in is never echoed back, right or wrong. One a language button
    posted back is (`redrawn`): a frightened witness who has typed eight words on a phone, then
    taps their language, expects the words to be still there, not to type them again. It is
    kept only by that POST round trip: the words come from this request's body and go into
    this response's field (sent `Cache-Control: no-store`, like every page), never into a URL,
    a redirect, the session cookie or a log line, and nothing is derived from them.
    """
    if not redrawn:
        form.codename.data = ""
    return page(
        "login.html",
        status,
        form=form,
        action=action_url("web.login_post"),
        unknown=unknown,
        **relang("login-form", "web.login_post"),
    )


def _parsed_login_form() -> LoginForm | None:
    """The login form from the body, or None when the body could not be read."""
    try:
        formdata, _files = parse_body()
    except BodyFailedError:
        return None
    return LoginForm(formdata)


def signed_in(ctx: WebContext, *, form_post: bool = False) -> tuple[ActiveSession, Account] | None:
    """The session admitted when this request started and its account, or None."""
    active = current_session(ctx, form_post=form_post)
    if active is None:
        return None
    account = account_of(ctx, active.witness_id)
    return None if account is None else (active, account)


def _log_in(ctx: WebContext, codename: str) -> Response:
    """Derive once, and answer with the account and its opened replies, or the same refusal
    for every unknown codename."""
    try:
        account = login(ctx, codename)
    except KdfBusyError:
        return page("busy.html", 503)
    if account is None:
        return login_page(LoginForm(), 403, unknown=True)
    log_in(ctx, account.witness_id)
    if account.opener is not None:  # what arrived before a cut, readable in this session too
        reseal_draft(
            ctx.sessions, account.witness_id, account.opener, draft_key(account.witness_id)
        )
    # The codename was just typed: a witness who has not sent a testimony yet goes on to it.
    session[CONFIRMED_KEY] = True
    return account_page(account, opened=True)


def register(bp: Blueprint, ctx: WebContext) -> None:
    """Add the login, account and logout routes to `bp`."""

    @bp.get("/return")
    def login_form() -> Response:
        return login_page(LoginForm())

    @bp.post("/return")
    @allow_without_active_key
    def login_post() -> Response:
        refusal = refuse_before_body(ctx, one_time=False)
        if refusal is not None:
            return refusal
        form = _parsed_login_form()
        if form is None:
            return page("limit.html", 413, limit="body", kept=None)
        if is_redraw():  # a language button: show it again, log nobody in
            return login_page(form, redrawn=True)
        if not form.validate():
            return login_page(form, 422)
        if codename_is_blank(form.codename.data or ""):
            # Spaces only: InputRequired lets them through, so the message is given here.
            form.codename.errors = [_("Please type your codename.")]
            return login_page(form, 422)
        return _log_in(ctx, form.codename.data or "")

    @bp.get("/account")
    def account() -> Response:
        found = signed_in(ctx)
        if found is None:
            return redirect(url_for("web.login_form"))  # type: ignore[return-value]
        return account_page(found[1], opened=False)

    @bp.post("/logout")
    @allow_without_active_key
    def logout() -> Response:
        # No CSRF check: a forged logout costs a witness nothing (SameSite=Strict anyway), and
        # a witness whose session expired must still be able to leave cleanly. The row is
        # deleted, so a copy of the cookie taken earlier opens nothing either.
        log_out(ctx)
        response = page("logged_out.html")
        response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response
