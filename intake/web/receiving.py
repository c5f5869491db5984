"""The steps of a sealing POST that surround the service call: checks before the body, the
upload session while it is parsed, and the clean-up after it, whatever happened.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from flask import Response, request
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wsgi import LimitedStream
from wtforms.validators import ValidationError

from intake.errors import IntakeError
from intake.web.pages import CSRF_ARG, ONCE_ARG, page
from intake.web.services.context import WebContext
from intake.web.services.drafts import Draft, DraftKey
from intake.web.services.guards import form_token_used
from intake.web.services.receive import DraftKeeper, KeyringSnapshot, new_upload
from intake.web.upload import UploadSession, attach_upload_session

__all__ = [
    "BodyFailedError",
    "csrf_ok",
    "parse_body",
    "receiving",
    "redraw_formdata",
    "refuse_before_body",
]

_DRAIN_CHUNK = 64 * 1024


class BodyFailedError(IntakeError):
    """The body could not be read to its end: too large, too many parts, or the client left."""

    category = "body"

    def __init__(self, *, too_large: bool) -> None:
        super().__init__("the request body could not be read")
        self.too_large = too_large


def csrf_ok() -> bool:
    """Whether the CSRF token in the action URL is valid (never looks at the body)."""
    try:
        validate_csrf(request.args.get(CSRF_ARG, ""))
    except ValidationError:
        return False
    return True


def refuse_before_body(ctx: WebContext, *, one_time: bool = True) -> Response | None:
    """The answer to a POST that fails a check needing no body, or None to go on.

    The order matters only for which page is shown; none of them reads the body.
    """
    if not csrf_ok():
        return page("expired.html", 400)
    length = request.content_length
    if length is not None and length > ctx.limits.max_request_bytes:
        return page(
            "limit.html",
            413,
            limit="too_large",
            kept=None,
            max_request_bytes=ctx.limits.max_request_bytes,
            # Nothing of this body was read, so the draft of earlier attempts is untouched and
            # the form (a GET of the same path) shows it; Back keeps what was typed.
            again=request.path if one_time else None,
        )
    if one_time:
        token = request.args.get(ONCE_ARG, "")
        if not token:
            return page("expired.html", 400)
        if form_token_used(ctx.sessions, token):
            return page("already.html", 409)
    return None


@contextmanager
def receiving(
    ctx: WebContext, snapshot: KeyringSnapshot, draft: Draft | None, key: DraftKey
) -> Iterator[tuple[UploadSession, DraftKeeper]]:
    """An upload session for this request, keeping what arrives in the witness's draft as it
    arrives; whatever nobody claimed (a part cut off, an unknown input) is removed on the way
    out. The file limit counts each file once: a part may bring again a file the draft holds
    (a resend), so the session seals up to the limit and the keeper, which knows the copies,
    refuses new files beyond it.

    Raises DiskFullError, before the body is read, when its declared length does not fit on
    the disk beside the uploads in progress (the app answers with the calm 503 page).
    """
    with _reserved(ctx):
        upload = new_upload(ctx.store, snapshot, ctx.limits.max_files)
        keeper = DraftKeeper(ctx, key, snapshot, upload, draft.files if draft else ())
        attach_upload_session(request, upload)
        try:
            yield upload, keeper
        finally:
            upload.discard_unclaimed()


def _reserved(ctx: WebContext) -> AbstractContextManager[None]:
    """The free-disk reservation of this body's declared length, held until it is handled."""
    length = request.content_length
    if length is None:
        # No declared length (chunked): nothing to reserve; the size limit still bounds the
        # body, and a disk that fills midway gives the same calm page (DiskFullError).
        return nullcontext()
    return ctx.services.reservations.reserve(length)


def _read_to_the_end() -> None:
    """Read what follows the multipart message (normally a CRLF at most), discarding it.

    RFC 9112 section 8: a body that ends before its Content-Length is incomplete, even when
    the multipart message in it looked whole. Werkzeug stops at the closing boundary, so
    without this a client that promised more and went away would still have its form stored.
    Under gunicorn the stream only knows the maximum size, so the count is checked here.
    """
    stream = request.stream
    while stream.read(_DRAIN_CHUNK):
        pass
    declared = request.content_length
    if declared is not None and isinstance(stream, LimitedStream) and stream.tell() < declared:
        raise ClientDisconnected()


URLENCODED_MAX = 2 * 1024 * 1024
"""Bytes of a url-encoded body (a language button's redraw, a login, a confirmation).

Werkzeug reads such a body into memory whole, past its per-field limit, so without this a
confirmed session could send gigabytes into a worker's memory. The largest honest one is the
testimony form redrawn in another language: 100,000 Cyrillic characters of account at six
bytes each once percent-encoded, and the other answers, stay well under 2 MiB.
"""


def parse_body() -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
    """Read the whole body now, sealing file parts as they come; raises BodyFailedError."""
    if request.mimetype == "application/x-www-form-urlencoded" and (
        request.content_length is None or request.content_length > URLENCODED_MAX
    ):
        raise BodyFailedError(too_large=True)
    try:
        form, files = request.form, request.files
        _read_to_the_end()
        return form, files
    except RequestEntityTooLarge as exc:
        raise BodyFailedError(too_large=True) from exc
    except (ClientDisconnected, ValueError) as exc:
        # ValueError: the multipart body ended before its closing boundary, or is malformed.
        raise BodyFailedError(too_large=False) from exc


def redraw_formdata() -> MultiDict[str, str] | None:
    """The answers a language button posted back (url-encoded), or None for any other body.

    Only a url-encoded body is read: a multipart one could carry file parts, and nothing but
    the upload session, which seals them as they arrive, may read those.
    """
    if request.mimetype != "application/x-www-form-urlencoded":
        return None
    try:
        return parse_body()[0]
    except BodyFailedError:
        return None
