"""The body of a sealing POST, shared by the testimony and follow-up views."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, request

from intake.http_errors import NotAcceptingSubmissions
from intake.web.i18n import current_language
from intake.web.pages import DRAFT_ARG, ONCE_ARG, page
from intake.web.receiving import BodyFailedError, parse_body, receiving
from intake.web.services.context import WebContext
from intake.web.services.drafts import load_draft
from intake.web.services.receive import snapshot_keyring
from intake.web.services.submit import AlreadyReceivedError, NoActiveKeyError
from intake.web.services.testimony import Received

__all__ = ["receive_sealed"]


def receive_sealed(ctx: WebContext, handle: Callable[[Received], Response]) -> Response:
    """Seal the body as it is parsed, let `handle` answer, and turn the shared failures into pages.

    Any other exception from `handle` passes through once the upload session is cleaned up.
    Raises NotAcceptingSubmissions when no key is active any more.
    """
    snapshot = snapshot_keyring(ctx.keyring)
    draft = load_draft(ctx.sessions, request.args.get(DRAFT_ARG))
    try:
        with receiving(ctx, snapshot, draft) as upload:
            formdata, files = parse_body()
            received = Received(
                upload,
                snapshot,
                formdata,
                files,
                draft,
                request.args[ONCE_ARG],
                current_language(),
            )
            return handle(received)
    except BodyFailedError as exc:
        kept = draft.summary() if draft else None
        return page("limit.html", 413 if exc.too_large else 400, limit="body", kept=kept)
    except AlreadyReceivedError:
        return page("already.html", 409)
    except NoActiveKeyError:
        raise NotAcceptingSubmissions() from None
