"""The parts endpoint of the testimony form's script (issue 16): a browser-sealed file sent in
parts of a few MiB, so that a drop, a server restart or a new circuit costs one part.

JSON in and out, for the script only; the plain form never comes here. Every request carries
the form's CSRF token in its URL (checked before the body is read) and needs the witness's
confirmed session. 409 tells the script to start the file again (gone, expired, refused),
or, with error "keys", that the keys it sealed to are not the active ones now (it falls back
to the plain form); 400 that the request itself is wrong; 503 (disk full) that it may try
again later, and at the start, with a translated message, that this file does not fit now.
`cancel` (sent unanswered by a page that gives an upload up) frees the upload at once; it is
idempotent, and refused (409) only for another witness's upload. A start that seals a file
again names the upload it replaces (`replaces`) and cancels it itself, first: a cancel sent
on its own could arrive after the start and leave it refused for one upload too many.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _

from intake.errors import DiskFullError
from intake.partstore import PART_SIZE, PartError
from intake.web.presealed import SealedMeta
from intake.web.receiving import csrf_ok
from intake.web.services.context import WebContext
from intake.web.services.drafts import DraftKey
from intake.web.services.partsend import (
    FileFacts,
    KeysChanged,
    cancel_upload,
    finish_upload,
    put_part,
    start_upload,
    upload_status,
)
from intake.web.views._sealing import draft_key
from intake.web.views.start import confirmed_witness

__all__ = ["register"]


def _answer(status: int, **data: object) -> Response:
    response = jsonify(data)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


_NONCE = re.compile(r"[0-9a-f]{32}")  # fullmatch: `$` would admit a trailing newline
_MAX_DIGITS = 18  # far beyond any size we accept, far below int()'s 4300-digit limit


def _int(name: str) -> int:
    value = request.form.get(name, "")
    # isdigit() alone admits "²" and other digits int() refuses.
    if not (value.isascii() and value.isdigit() and len(value) <= _MAX_DIGITS):
        raise PartError(f"malformed {name}")
    return int(value)


def _part_body() -> bytes | None:
    """The part's bytes, or None when its declared length is missing or too large."""
    length = request.content_length
    if length is None or length > PART_SIZE:
        return None
    data = request.stream.read(length)
    return data if len(data) == length else None


def register(bp: Blueprint, ctx: WebContext) -> None:
    """Add the parts routes to `bp`."""

    def _key() -> DraftKey | None:
        if not csrf_ok():
            return None
        # An upload can outlast the session's idle deadline (a sleeping laptop, hours of
        # parts): the form's hold admits its parts for the form's CSRF lifetime, as it admits
        # the form's own POST (the parts URL carries the form's one-time token).
        active = confirmed_witness(ctx, form_post=True, for_form="web.submit_testimony")
        return draft_key(active.witness_id) if active is not None else None

    @bp.post("/testimony/parts")
    def start_parts() -> Response:
        key = _key()
        if key is None:
            return _answer(403, error="session")
        try:
            sizes = (_int("size"), _int("sealed_size"))
            keys = request.form.get("keys", "")
            # A restart names the upload it gives up: cancelled here, before this one counts.
            replaces = request.form.get("replaces", "")
            # One per attempt at a file, sent again by its retries: one upload, however many.
            nonce = request.form.get("nonce", "")
            if nonce and not _NONCE.fullmatch(nonce):
                raise PartError("malformed nonce")
            upload_id, upload = start_upload(
                ctx, key, _int("group"), sizes, keys, replaces=replaces, nonce=nonce
            )
        except KeysChanged:
            return _answer(409, error="keys")
        except PartError:
            return _answer(409, error="refused")
        except DiskFullError:
            message = _(
                "There is no room on the server for this file now. Please try again later, "
                "or send a smaller file."
            )
            return _answer(503, error="disk", message=message)
        return _answer(201, id=upload_id, part_size=PART_SIZE, parts=upload.parts)

    @bp.get("/testimony/parts/<upload_id>")
    def parts_status(upload_id: str) -> Response:
        key = _key()
        if key is None:
            return _answer(403, error="session")
        try:
            have, parts = upload_status(ctx, key, upload_id)
        except PartError:
            return _answer(409, error="gone")
        return _answer(200, have=have, parts=parts, part_size=PART_SIZE)

    @bp.post("/testimony/parts/<upload_id>/<int:index>")
    def put_parts(upload_id: str, index: int) -> Response:
        key = _key()
        if key is None:
            return _answer(403, error="session")
        # The disk reservation of F: a part is admitted only if it fits beside the others.
        with ctx.services.reservations.reserve(request.content_length or 0):
            data = _part_body()
            if data is None:
                return _answer(400, error="length")
            try:
                have = put_part(ctx, key, upload_id, index, data)
            except PartError:
                return _answer(409, error="refused")
        return _answer(200, have=have)

    @bp.post("/testimony/parts/<upload_id>/done")
    def finish_parts(upload_id: str) -> Response:
        key = _key()
        if key is None:
            return _answer(403, error="session")
        try:
            facts = FileFacts(
                name=request.form.get("name", ""),
                declared_type=_clean_type(request.form.get("type")),
                meta=SealedMeta.parse(request.form.get("meta")),
            )
            finish_upload(ctx, key, upload_id, facts)
        except ValueError:
            return _answer(400, error="meta")
        except PartError:
            return _answer(409, error="refused")
        return _answer(200, ok=True)

    @bp.post("/testimony/parts/<upload_id>/cancel")
    def cancel_parts(upload_id: str) -> Response:
        # Sent by the page, unanswered, when it gives an upload up (the plain form, a new
        # seal): its reservation is freed now, not when the draft expires.
        key = _key()
        if key is None:
            return _answer(403, error="session")
        try:
            cancel_upload(ctx, key, upload_id)
        except PartError:
            return _answer(409, error="refused")
        return _answer(200, ok=True)


def _clean_type(content_type: str | None) -> str:
    text = (content_type or "application/octet-stream")[:255]
    return text if text and text.isprintable() else "application/octet-stream"
