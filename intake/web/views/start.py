"""Codename first: issue it, have two of its words typed back, then open the testimony form;
and the receipt, shown again from the session's sealed note after a reload."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, session, url_for
from flask_babel import gettext as _

from intake.http_errors import NotAcceptingSubmissions
from intake.web.forms import ConfirmCodenameForm, StartForm
from intake.web.i18n import current_language
from intake.web.notes import read_note, write_note
from intake.web.pages import action_url, is_redraw, page, relang
from intake.web.receiving import BodyFailedError, parse_body, refuse_before_body
from intake.web.services.codename import KdfBusyError
from intake.web.services.context import WebContext
from intake.web.services.start import (
    issue_codename,
    pending_witness,
    pick_positions,
    words_match,
)
from intake.web.sessions import current_session, log_in
from intake.witness_sessions import ActiveSession

__all__ = ["CONFIRMED_KEY", "confirmed_witness", "register"]

CONFIRMED_KEY = "cw"
"""Set in the signed cookie once this session's codename was typed back (or logged in with).

A login or a new codename clears the cookie (intake.web.sessions.log_in), so the flag always
belongs to the session token beside it; the cookie never names the witness."""


def confirmed_witness(
    ctx: WebContext, *, form_post: bool = False, for_form: str | None = None
) -> ActiveSession | None:
    """The session of a pending witness whose codename was typed back, or None."""
    active = current_session(ctx, form_post=form_post, for_form=for_form)
    if active is None or session.get(CONFIRMED_KEY) is not True:
        return None
    return active if pending_witness(ctx, active.witness_id) else None


def _see_other(endpoint: str) -> Response:
    return redirect(url_for(endpoint), 303)  # type: ignore[return-value]


def _codename_page(
    note: dict[str, Any], form: ConfirmCodenameForm, status: int = 200, *, redrawn: bool = False
) -> Response:
    """The codename and its two words to type back; empty boxes unless a language button's
    redraw (`redrawn`) posted them: kept as on the return page (intake.web.views.witness), by
    the POST round trip alone, never in a URL, the cookie or a log."""
    if not redrawn:
        form.word1.data = form.word2.data = ""  # words sent to confirm are never echoed back
    return page(
        "codename.html",
        status,
        one_time=True,
        form=form,
        codename=note["codename"],
        positions=note["positions"],
        action=action_url("web.confirm_codename"),
        **relang("confirm-form", "web.confirm_codename"),
    )


def _confirm(ctx: WebContext) -> Response:
    note = read_note(ctx)
    active = current_session(ctx, form_post=True)
    if note is None or active is None or "positions" not in note:
        return page("expired.html", 400)
    try:
        formdata, _files = parse_body()
    except BodyFailedError:
        return page("limit.html", 413, limit="body", kept=None)
    form = ConfirmCodenameForm(formdata)
    if is_redraw():  # a language button: the same page, nothing confirmed
        return _codename_page(note, form, redrawn=True)
    valid = form.validate()
    for field in (form.word1, form.word2):
        # InputRequired lets spaces through; a word of only spaces is no word (issue 18).
        if not field.errors and not (field.data or "").strip():
            field.errors = [_("Please type this word of your codename.")]
            valid = False
    if not valid:
        return _codename_page(note, form, 422)
    typed = [form.word1.data or "", form.word2.data or ""]
    if not words_match(note["codename"], note["positions"], typed, ctx.codenames.repair):
        form.word1.errors = [_("These are not the words asked for. Please look again.")]
        return _codename_page(note, form, 422)
    session[CONFIRMED_KEY] = True
    return _see_other("web.testimony")


def _issue(ctx: WebContext) -> Response:
    try:
        formdata, _files = parse_body()
    except BodyFailedError:
        return page("limit.html", 413, limit="body", kept=None)
    if is_redraw():
        # The start page's language links are plain links, so only a client of its own sends
        # this; it gets the page again and nothing derived, like every view given the key.
        return _start_page(ctx)
    if StartForm(formdata).website.data:
        # A bot filled the trap: a codename like any other, but nothing derived, created or
        # put in the cookie, so its confirmation finds no session and nothing is ever kept.
        codename = ctx.codenames.new(current_language())
        decoy = {"codename": codename, "positions": pick_positions(codename)}
        return _codename_page(decoy, ConfirmCodenameForm())
    try:
        started = issue_codename(ctx, current_language())
    except KdfBusyError:
        return page("busy.html", 503)
    log_in(ctx, started.witness_id)
    note = {"codename": started.codename, "positions": pick_positions(started.codename)}
    write_note(ctx, note)
    # Post/redirect/get: a reload (or Tor Browser's "Resend") of the codename page then shows
    # the same codename again from the note, instead of an "expired" page and a lost codename
    # (found by review). The decoy above answers at once: it has no session to redirect into.
    return _see_other("web.show_codename")


def _start_page(ctx: WebContext) -> Response:
    if not ctx.keyring.has_active_key():
        raise NotAcceptingSubmissions()
    return page(
        "start.html",
        form=StartForm(),
        action=action_url("web.issue_codename"),
        max_request_bytes=ctx.limits.max_request_bytes,
    )


def register(bp: Blueprint, ctx: WebContext) -> None:
    """Add the codename and receipt routes to `bp`."""

    @bp.get("/start")
    def start() -> Response:
        return _start_page(ctx)

    @bp.post("/start", endpoint="issue_codename")
    def issue_codename_post() -> Response:
        return refuse_before_body(ctx, one_time=False) or _issue(ctx)

    @bp.get("/start/codename")
    def show_codename() -> Response:
        note = read_note(ctx)
        if note is None or "positions" not in note or "codename" not in note:
            return page("expired.html", 400)
        return _codename_page(note, ConfirmCodenameForm())

    @bp.post("/start/confirm")
    def confirm_codename() -> Response:
        return refuse_before_body(ctx, one_time=False) or _confirm(ctx)

    @bp.get("/receipt")
    def receipt() -> Response:
        note = read_note(ctx)
        if note is None or "receipt" not in note:
            return page("receipt_gone.html", 404)
        return page("receipt.html", one_time=True, receipt=note["receipt"], kind="testimony")
