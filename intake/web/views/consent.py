"""A logged-in witness narrows or withdraws consent, confirming with the codename again.

A consent change decides a testimony's fate (a withdrawal is final in triage), so a session
alone is not enough: the codename is derived once more, inside the same hourly budget and KDF
slots as a login. Until that change commits (10 minutes at most), the session remembers the
testimony as confirmed, so a change that failed can be sent again without it.

Then a summary says what is about to change (and, when the codename was just typed, what the
consent is now) with Confirm and Back buttons; only Confirm seals the change (issue 18).
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from intake.http_errors import NotAcceptingSubmissions
from intake.web.choices import LABELS
from intake.web.forms import ConsentForm
from intake.web.i18n import current_language
from intake.web.pages import ONCE_ARG, action_url, is_redraw, page, relang
from intake.web.receiving import BodyFailedError, parse_body, refuse_before_body
from intake.web.services.codename import KdfBusyError
from intake.web.services.consent import Confirmed, confirm_codename
from intake.web.services.context import WebContext
from intake.web.services.guards import new_form_token
from intake.web.services.submit import AlreadyReceivedError, NoActiveKeyError
from intake.web.services.witness import (
    Account,
    change_consent,
    codename_is_blank,
    consent_change_of,
)
from intake.web.sessions import confirm_parent, form_settled, hold_for_form, request_started
from intake.web.views.followup import choices_of
from intake.web.views.witness import signed_in
from intake.witness_sessions import ActiveSession

__all__ = ["register"]

Signed = tuple[ActiveSession, Account]
# The summary page's buttons (`name=value`): only Confirm seals the change.
CONFIRM, BACK = "confirm", "back"


def consent_page(
    ctx: WebContext, signed: Signed, form: ConsentForm, status: int = 200, *, redrawn: bool = False
) -> Response:
    """The consent form; its POST stays admitted for the form's CSRF lifetime (after a POST
    only that hold admitted, this is the same form with the same token, and renews nothing).

    A codename sent to confirm a change is never echoed back, right or wrong; one a language
    button posted back (`redrawn`) is, with the choices, as on the return page
    (intake.web.views.witness): by the POST round trip alone, never in a URL or the cookie.
    """
    active, account = signed
    once = request.args.get(ONCE_ARG) or new_form_token()
    hold_for_form(ctx, active, "web.consent_post", once)
    if not redrawn:
        form.codename.data = ""
    action = action_url("web.consent_post", **{ONCE_ARG: once})
    return page(
        "consent.html",
        status,
        form=form,
        account=account,
        action=action,
        **relang("consent-form", "web.consent_post", once),
    )


def _refuse_codename(
    ctx: WebContext, signed: Signed, form: ConsentForm, message: str, status: int
) -> Response:
    form.codename.errors = [message]
    return consent_page(ctx, signed, form, status)


def _confirmation(ctx: WebContext, signed: Signed, form: ConsentForm) -> Response | Confirmed:
    """Confirmed when the change may go ahead: the codename confirmed in the last 10 minutes
    (the current consent then unknown), or just now (with the current consent, if recorded)."""
    active, _account = signed
    parent = form.parent.data
    if active.confirmed_for(parent, request_started()):
        return Confirmed(current=None)
    codename = form.codename.data or ""
    if codename_is_blank(codename):
        message = _("Please type your codename to confirm this change.")
        return _refuse_codename(ctx, signed, form, message, 422)
    try:
        confirmed = confirm_codename(ctx, active.witness_id, codename, parent)
    except KdfBusyError:
        return page("busy.html", 503)
    if confirmed is None:
        message = _("This is not the codename you were given. Please check every word.")
        return _refuse_codename(ctx, signed, form, message, 403)
    confirm_parent(ctx, active, parent)
    return confirmed


def summary_page(
    ctx: WebContext, signed: Signed, form: ConsentForm, confirmed: Confirmed
) -> Response:
    """ "You are about to …": the change with Confirm and Back, posted to the same action."""
    active, account = signed
    once = request.args[ONCE_ARG]
    hold_for_form(ctx, active, "web.consent_post", once)
    line = next(s for s in account.submissions if s.reference == form.parent.data)
    return page(
        "consent_confirm.html",
        one_time=True,  # a POST response: a language link must not lose the choice
        form=form,
        line=line,
        change=consent_change_of(form),
        current=confirmed.current,
        # protocol.consent: a change reaches every testimony sent before it, not only this one.
        reach=[s for s in account.submissions if s.kind == "testimony"],
        recipient_labels=LABELS["recipient_class"],
        action=action_url("web.consent_post", **{ONCE_ARG: once}),
        confirm=CONFIRM,
        back=BACK,
    )


def _change(ctx: WebContext, signed: Signed, form: ConsentForm) -> Response:
    try:
        receipt = change_consent(
            ctx,
            signed[1],
            parent_id=form.parent.data,
            change=consent_change_of(form),
            language=current_language(),
            form_token=request.args[ONCE_ARG],
        )
    except AlreadyReceivedError:
        return page("already.html", 409)
    except NoActiveKeyError:
        raise NotAcceptingSubmissions() from None
    form_settled(ctx, signed[0])  # nor does the row keep which testimony was confirmed
    return page("receipt.html", one_time=True, receipt=receipt, kind="consent_change")


def _shown_again(
    ctx: WebContext, signed: Signed, form: ConsentForm, formdata: MultiDict[str, str]
) -> Response | None:
    """The form again, acting on nothing: a language button's redraw (200, what was chosen and
    typed kept), Back (200) or errors (422); None when the form goes on."""
    if is_redraw():
        return consent_page(ctx, signed, form, redrawn=True)
    back = bool(formdata.get(BACK))
    if back:
        # Back forgets the codename's confirmation: a summary backed out of leaves no window
        # in which a stolen cookie could send another change (issue 18's review).
        form_settled(ctx, signed[0])
        return consent_page(ctx, signed, form)
    if not form.validate():
        return consent_page(ctx, signed, form, 422)
    return None


def register(bp: Blueprint, ctx: WebContext) -> None:
    """Add the consent routes to `bp`."""

    @bp.get("/account/consent")
    def consent() -> Response:
        signed = signed_in(ctx)
        if signed is None:
            return redirect(url_for("web.login_form"))  # type: ignore[return-value]
        form = ConsentForm()
        form.parent.choices = choices_of(signed[1])
        return consent_page(ctx, signed, form)

    @bp.post("/account/consent")
    def consent_post() -> Response:
        refusal = refuse_before_body(ctx)
        signed = signed_in(ctx, form_post=True)
        if refusal is not None or signed is None:
            return refusal or page("expired.html", 400)
        try:
            formdata, _files = parse_body()
        except BodyFailedError:
            return page("limit.html", 413, limit="body", kept=None)
        form = ConsentForm(formdata)
        form.parent.choices = choices_of(signed[1])
        again = _shown_again(ctx, signed, form, formdata)
        if again is not None:
            return again
        confirmed = _confirmation(ctx, signed, form)
        if not isinstance(confirmed, Confirmed):
            return confirmed
        if formdata.get(CONFIRM) != "yes":
            return summary_page(ctx, signed, form, confirmed)
        return _change(ctx, signed, form)
