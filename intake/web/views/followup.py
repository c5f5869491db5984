"""A logged-in witness adds to a testimony, or withdraws or narrows their consent."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, session, url_for
from wtforms import Form, SelectChoice

from intake.http_errors import NotAcceptingSubmissions
from intake.web.choices import plain
from intake.web.forms import ConsentForm, FollowUpForm
from intake.web.i18n import current_language
from intake.web.pages import DRAFT_ARG, ONCE_ARG, action_url, page
from intake.web.receiving import BodyFailedError, parse_body, refuse_before_body
from intake.web.services.context import WebContext
from intake.web.services.guards import new_form_token
from intake.web.services.submit import AlreadyReceivedError, NoActiveKeyError, Receipt
from intake.web.services.testimony import (
    FollowUpTarget,
    FormRejected,
    Received,
    receive_follow_up,
)
from intake.web.services.witness import Account, account_of, change_consent, consent_change_of
from intake.web.views._sealing import receive_sealed
from intake.web.views.witness import WITNESS_KEY

__all__ = ["register"]


def _choices(account: Account) -> list[SelectChoice]:
    return plain(account.parents)


def follow_up_page(account: Account, form: Form, outcome: FormRejected | None = None) -> Response:
    draft = outcome.draft if outcome else None
    action = action_url(
        "web.follow_up_post",
        **{ONCE_ARG: request.args.get(ONCE_ARG) or new_form_token()},
        **{DRAFT_ARG: draft.token if draft else None},
    )
    return page(
        "follow_up.html",
        422 if outcome else 200,
        form=form,
        account=account,
        action=action,
        kept=outcome.kept if outcome else None,
        form_errors=outcome.problems if outcome else (),
    )


def consent_page(account: Account, form: ConsentForm, status: int = 200) -> Response:
    action = action_url(
        "web.consent_post", **{ONCE_ARG: request.args.get(ONCE_ARG) or new_form_token()}
    )
    return page("consent.html", status, form=form, account=account, action=action)


def register(bp: Blueprint, ctx: WebContext) -> None:
    """Add the follow-up and consent routes to `bp`."""

    def current_account() -> Account | None:
        return account_of(ctx, session.get(WITNESS_KEY, ""))

    @bp.get("/account/add")
    def follow_up() -> Response:
        account = current_account()
        if account is None:
            return redirect(url_for("web.login_form"))  # type: ignore[return-value]
        if not ctx.keyring.has_active_key():
            raise NotAcceptingSubmissions()
        form = FollowUpForm()
        form.parent.choices = _choices(account)
        return follow_up_page(account, form)

    @bp.post("/account/add")
    def follow_up_post() -> Response:
        refusal = refuse_before_body(ctx)
        account = current_account()
        if refusal is not None or account is None:
            return refusal or page("expired.html", 400)
        target = FollowUpTarget(account.witness_id, account.reply_recipient, account.parents)

        def answer(received: Received) -> Response:
            outcome = receive_follow_up(ctx, received, target)
            if isinstance(outcome, Receipt):
                return page("receipt.html", one_time=True, receipt=outcome, kind="follow_up")
            outcome.form.parent.choices = _choices(account)
            return follow_up_page(account, outcome.form, outcome)

        return receive_sealed(ctx, answer)

    @bp.get("/account/consent")
    def consent() -> Response:
        account = current_account()
        if account is None:
            return redirect(url_for("web.login_form"))  # type: ignore[return-value]
        form = ConsentForm()
        form.parent.choices = _choices(account)
        return consent_page(account, form)

    @bp.post("/account/consent")
    def consent_post() -> Response:
        refusal = refuse_before_body(ctx)
        account = current_account()
        if refusal is not None or account is None:
            return refusal or page("expired.html", 400)
        try:
            formdata, _files = parse_body()
        except BodyFailedError:
            return page("limit.html", 413, limit="body", kept=None)
        form = ConsentForm(formdata)
        form.parent.choices = _choices(account)
        if not form.validate():
            return consent_page(account, form, 422)
        try:
            receipt = change_consent(
                ctx,
                account,
                parent_id=form.parent.data,
                change=consent_change_of(form),
                language=current_language(),
                form_token=request.args[ONCE_ARG],
            )
        except AlreadyReceivedError:
            return page("already.html", 409)
        except NoActiveKeyError:
            raise NotAcceptingSubmissions() from None
        return page("receipt.html", one_time=True, receipt=receipt, kind="consent_change")
