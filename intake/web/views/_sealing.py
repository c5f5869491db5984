"""The body of a sealing POST, shared by the testimony and follow-up views."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, request, url_for

from intake.http_errors import NotAcceptingSubmissions
from intake.web.i18n import current_language
from intake.web.notes import draft_identity
from intake.web.pages import ONCE_ARG, page
from intake.web.receiving import BodyFailedError, parse_body, receiving
from intake.web.services.context import WebContext
from intake.web.services.drafts import DraftKey, load_draft, summary_of
from intake.web.services.receive import snapshot_keyring
from intake.web.services.submit import AlreadyReceivedError, NoActiveKeyError
from intake.web.services.testimony import Received

__all__ = ["draft_key", "receive_sealed"]


def draft_key(witness_id: str) -> DraftKey:
    """The key to `witness_id`'s draft that this browser's session cookie holds."""
    return DraftKey(witness_id, draft_identity())


def receive_sealed(
    ctx: WebContext, key: DraftKey, form_endpoint: str, handle: Callable[[Received], Response]
) -> Response:
    """Seal the body as it is parsed, keeping what arrives in the witness's draft; let `handle`
    answer, and turn the shared failures into pages.

    A body that fails (cut off, too large) keeps its answers and whole files in the draft; the
    page sends the witness back to `form_endpoint` with a GET, which shows them. Any other
    exception from `handle` passes through once the upload session is cleaned up.
    Raises NotAcceptingSubmissions when no key is active any more.
    """
    snapshot = snapshot_keyring(ctx.keyring)
    draft = load_draft(ctx.sessions, key)
    with receiving(ctx, snapshot, draft, key) as (upload, keeper):
        try:
            formdata, files = parse_body()
        except BodyFailedError as exc:
            upload.report_answers()  # a cut before the first file still keeps the answers
            kept = summary_of(keeper.files)
            status = 413 if exc.too_large else 400
            again = url_for(form_endpoint)
            return page("limit.html", status, limit="body", kept=kept, again=again)
        received = Received(
            upload,
            keeper,
            snapshot,
            formdata,
            files,
            draft,
            request.args[ONCE_ARG],
            current_language(),
        )
        try:
            return handle(received)
        except AlreadyReceivedError:
            return page("already.html", 409)
        except NoActiveKeyError:
            raise NotAcceptingSubmissions() from None
