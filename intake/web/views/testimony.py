"""The testimony form: show it, receive it, answer with the receipt (shown once, never stored)."""

from __future__ import annotations

from flask import Blueprint, Response, request
from wtforms import Form

from intake.http_errors import NotAcceptingSubmissions
from intake.web.forms import TestimonyForm
from intake.web.pages import DRAFT_ARG, ONCE_ARG, action_url, page
from intake.web.receiving import refuse_before_body
from intake.web.services.codename import KdfBusyError
from intake.web.services.context import WebContext
from intake.web.services.drafts import Draft
from intake.web.services.guards import new_form_token
from intake.web.services.submit import Receipt
from intake.web.services.testimony import FormRejected, receive_testimony
from intake.web.views._sealing import receive_sealed

__all__ = ["register"]


def form_page(ctx: WebContext, form: Form, outcome: FormRejected | None = None) -> Response:
    """The form, fresh or sent back with its errors and the files kept so far."""
    draft: Draft | None = outcome.draft if outcome else None
    action = action_url(
        "web.submit_testimony",
        **{ONCE_ARG: request.args.get(ONCE_ARG) or new_form_token()},
        **{DRAFT_ARG: draft.token if draft else None},
    )
    return page(
        "testimony.html",
        422 if outcome else 200,
        form=form,
        action=action,
        kept=outcome.kept if outcome else None,
        form_errors=outcome.problems if outcome else (),
        max_files=ctx.limits.max_files,
    )


def answer(ctx: WebContext, outcome: Receipt | FormRejected) -> Response:
    """Render what the service decided."""
    if isinstance(outcome, Receipt):
        return page("receipt.html", one_time=True, receipt=outcome)
    return form_page(ctx, outcome.form, outcome)


def register(bp: Blueprint, ctx: WebContext) -> None:
    """Add the testimony routes to `bp`."""

    @bp.get("/testimony")
    def testimony() -> Response:
        if not ctx.keyring.has_active_key():
            raise NotAcceptingSubmissions()
        return form_page(ctx, TestimonyForm())

    @bp.post("/testimony")
    def submit_testimony() -> Response:
        refusal = refuse_before_body(ctx)
        if refusal is not None:
            return refusal
        try:
            return receive_sealed(
                ctx, lambda received: answer(ctx, receive_testimony(ctx, received))
            )
        except KdfBusyError:
            return page("busy.html", 503)
