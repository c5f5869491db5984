"""A logged-in witness adds to a testimony (consent changes: `consent.py`)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, request, url_for
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectChoice

from intake.http_errors import NotAcceptingSubmissions
from intake.web.choices import plain
from intake.web.forms import FollowUpForm
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
    receive_follow_up,
)
from intake.web.services.witness import Account, ReplyRef, reply_of
from intake.web.sessions import form_settled, hold_for_form
from intake.web.views._sealing import draft_key, receive_sealed
from intake.web.views.witness import signed_in
from intake.witness_sessions import ActiveSession

__all__ = ["choices_of", "register"]

# The reply a follow-up answers: `/account/add?reply=R-…` ("Answer this reply").
REPLY_ARG = "reply"


def choices_of(account: Account) -> list[SelectChoice]:
    """The witness's own testimonies, for a form's "which submission" question."""
    return plain(account.parents)


def follow_up_page(
    ctx: WebContext,
    signed: tuple[ActiveSession, Account],
    form: Form | None,
    outcome: FormRejected | None = None,
    *,
    answers: MultiDict[str, str] | None = None,
) -> Response:
    """The form, fresh (filled from the witness's draft, if any, or from the `answers` a
    language button posted back) or sent back with errors."""
    active, account = signed
    # The page is a form: its POST (and no other) stays admitted for the form's CSRF lifetime.
    once = request.args.get(ONCE_ARG) or new_form_token()
    hold_for_form(ctx, active, "web.follow_up_post", once)
    kept = outcome.kept if outcome else None
    if form is None:
        draft = load_draft(ctx.sessions, draft_key(active.witness_id))
        if answers is None and draft and draft.answers:
            answers = MultiDict(draft.answers)
        form = FollowUpForm(answers)
        kept = draft.summary() if draft else None
    form.parent.choices = choices_of(account)
    answering = reply_of(account, form.in_reply_to.data or "")
    action = action_url("web.follow_up_post", **{ONCE_ARG: once})
    return page(
        "follow_up.html",
        422 if outcome else 200,
        form=form,
        account=account,
        action=action,
        answering=answering,
        kept=kept,
        form_errors=outcome.problems if outcome else (),
        **relang("follow-up-form", "web.follow_up_post", once, files=True),
    )


def _answering(ctx: WebContext, active: ActiveSession, ref: ReplyRef) -> MultiDict[str, str]:
    """The witness's draft answers (if any), set to answer `ref` and add to its testimony."""
    draft = load_draft(ctx.sessions, draft_key(active.witness_id))
    answers = MultiDict(draft.answers if draft and draft.answers else {})
    answers["in_reply_to"] = ref.reply_id
    if ref.parent is not None:
        answers["parent"] = ref.parent
    return answers


def register(bp: Blueprint, ctx: WebContext) -> None:
    """Add the follow-up routes to `bp`."""

    @bp.get("/account/add")
    def follow_up() -> Response:
        signed = signed_in(ctx)
        if signed is None:
            return redirect(url_for("web.login_form"))  # type: ignore[return-value]
        if not ctx.keyring.has_active_key():
            raise NotAcceptingSubmissions()
        reply_id = request.args.get(REPLY_ARG)
        if reply_id is None:
            return follow_up_page(ctx, signed, None)
        ref = reply_of(signed[1], reply_id)
        if ref is None:  # only a reply sent to this witness can be answered
            abort(404)
        return follow_up_page(ctx, signed, None, answers=_answering(ctx, signed[0], ref))

    @bp.post("/account/add")
    def follow_up_post() -> Response:
        refusal = refuse_before_body(ctx)
        signed = signed_in(ctx, form_post=True)
        if refusal is not None or signed is None:
            return refusal or page("expired.html", 400)
        account = signed[1]
        if is_redraw():
            return follow_up_page(ctx, signed, None, answers=redraw_formdata())
        replies = {ref.reply_id: ref.parent for ref in account.reply_refs}
        target = FollowUpTarget(
            account.witness_id, account.reply_recipient, account.parents, replies
        )

        def answer(received: Received) -> Response:
            outcome = receive_follow_up(ctx, received, target)
            if isinstance(outcome, Receipt):
                form_settled(ctx, signed[0])
                return page("receipt.html", one_time=True, receipt=outcome, kind="follow_up")
            return follow_up_page(ctx, signed, outcome.form, outcome)

        key = draft_key(account.witness_id)
        return receive_sealed(ctx, key, "web.follow_up", answer)
