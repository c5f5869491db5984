"""The testimony form: reached after the codename step, received, answered with a 303 to the
receipt (which the session's sealed note shows again on reload)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, redirect, request, url_for
from werkzeug.datastructures import MultiDict
from wtforms import Form

from intake.http_errors import NotAcceptingSubmissions
from intake.partstore import PART_SIZE
from intake.security_headers import allow_own_scripts
from intake.web.forms import TestimonyForm
from intake.web.notes import read_note, write_note
from intake.web.pages import ONCE_ARG, action_url, is_redraw, page, relang
from intake.web.receiving import redraw_formdata, refuse_before_body
from intake.web.services.context import WebContext
from intake.web.services.drafts import load_draft
from intake.web.services.guards import new_form_token
from intake.web.services.submit import Receipt
from intake.web.services.testimony import (
    FollowUpTarget,
    FormRejected,
    Received,
    receive_testimony,
)
from intake.web.services.witness import account_of
from intake.web.sessions import form_settled, hold_for_form
from intake.web.views._sealing import draft_key, receive_sealed
from intake.web.views.start import confirmed_witness
from intake.witness_sessions import ActiveSession

__all__ = ["register"]


def form_page(
    ctx: WebContext,
    active: ActiveSession,
    form: Form | None,
    outcome: FormRejected | None = None,
    *,
    answers: MultiDict[str, str] | None = None,
) -> Response:
    """The form, fresh or sent back with its errors; either way with what the draft holds.

    A GET after a cut (this session, or a later login with the codename) opens the witness's
    draft with the session's key: the answers fill the form again, the files are listed and
    need not be sent again. `answers` (posted back by a language button) replace the draft's.
    """
    # The POST of this form is admitted for the form's CSRF lifetime: an upload can take hours.
    once = request.args.get(ONCE_ARG) or new_form_token()
    hold_for_form(ctx, active, "web.submit_testimony", once)
    kept = outcome.kept if outcome else None
    if form is None:
        draft = load_draft(ctx.sessions, draft_key(active.witness_id))
        if answers is None and draft and draft.answers:
            answers = MultiDict(draft.answers)
        form = TestimonyForm(answers)
        kept = draft.summary() if draft else None
    action = action_url("web.submit_testimony", **{ONCE_ARG: once})
    # The sealing script (issue 16) seals in the browser to the keys active now; the server
    # checks each sealed part against the keys active when it arrives.
    recipients = [str(r) for r in ctx.keyring.active_recipients()]
    allow_own_scripts()
    return page(
        "testimony.html",
        422 if outcome else 200,
        form=form,
        action=action,
        kept=kept,
        form_errors=outcome.problems if outcome else (),
        max_files=ctx.limits.max_files,
        max_request_bytes=ctx.limits.max_request_bytes,
        seal_recipients=json.dumps(recipients),
        parts_url=action_url("web.start_parts", **{ONCE_ARG: once}),
        part_size=PART_SIZE,
        **relang("testimony-form", "web.submit_testimony", once, files=True),
    )


def _receipt(ctx: WebContext, receipt: Receipt) -> Response:
    """Seal the receipt into the session's note and send the browser to it (303)."""
    earlier = read_note(ctx) or {}
    files = [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in receipt.files]
    note = {
        "codename": earlier.get("codename"),
        "receipt": {
            "reference": receipt.reference,
            "files": files,
            "codename": earlier.get("codename"),
            "support_info": receipt.support_info,
        },
    }
    if not write_note(ctx, note):  # pragma: no cover - the session row went mid-request
        return page("receipt.html", one_time=True, receipt=receipt)
    return redirect(url_for("web.receipt"), 303)  # type: ignore[return-value]


def register(bp: Blueprint, ctx: WebContext) -> None:
    """Add the testimony routes to `bp`."""

    @bp.get("/testimony")
    def testimony() -> Response:
        if not ctx.keyring.has_active_key():
            raise NotAcceptingSubmissions()
        active = confirmed_witness(ctx)
        if active is None:
            return redirect(url_for("web.start"), 303)  # type: ignore[return-value]
        return form_page(ctx, active, None)

    @bp.post("/testimony")
    def submit_testimony() -> Response:
        refusal = refuse_before_body(ctx)
        active = confirmed_witness(ctx, form_post=True)
        if refusal is not None or active is None:
            return refusal or page("expired.html", 400)
        account = account_of(ctx, active.witness_id)
        if account is None:
            return page("expired.html", 400)
        if is_redraw():
            return form_page(ctx, active, None, answers=redraw_formdata())
        target = FollowUpTarget(account.witness_id, account.reply_recipient, ())

        def answer(received: Received) -> Response:
            outcome = receive_testimony(ctx, received, target)
            if isinstance(outcome, Receipt):
                form_settled(ctx, active)
                return _receipt(ctx, outcome)
            return form_page(ctx, active, outcome.form, outcome)

        return receive_sealed(ctx, draft_key(active.witness_id), "web.testimony", answer)
