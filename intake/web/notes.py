"""A session's note: the codename and the last receipt, sealed to a key only the cookie holds.

A witness who reloads the receipt, or loses the page before writing the codename down, must see
it again; the server must never hold it readable. So the browser's session cookie carries a
random 32-byte key (besides the session token), the note is sealed with age to an X25519 key
derived from it and kept on the server's session row. A copy of the database yields ciphertext;
logout deletes the row and clears the cookie, and the note is dropped after NOTE_LIFETIME.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from typing import Any

from flask import session

from crypto.age import open_bytes, seal_bytes
from crypto.errors import CryptoError
from crypto.x25519 import X25519Identity
from intake import witness_sessions as service
from intake.web.services.context import WebContext
from intake.web.sessions import NOTE_KEY, TOKEN_KEY, request_started

__all__ = ["NOTE_LIFETIME", "draft_identity", "read_note", "write_note"]

# One hour: long enough to copy a codename by hand and to reload a receipt after a dropped
# page, short enough that a browser left open shows nothing to the next person for long.
NOTE_LIFETIME = timedelta(hours=1)

_LABEL = b"intake.web/v1/session-note\n"
_DRAFT_LABEL = b"intake.web/v1/session-draft\n"


def draft_identity() -> X25519Identity | None:
    """The key this session's copy of the witness's draft is sealed to (from the cookie's key;
    a label of its own, so a draft and the note never share a key)."""
    return _identity(_DRAFT_LABEL)


def _identity(label: bytes = _LABEL) -> X25519Identity | None:
    text = session.get(NOTE_KEY)
    if not isinstance(text, str):
        return None
    try:
        raw = base64.urlsafe_b64decode(text)
    except ValueError:
        return None
    if len(raw) != 32:  # a 256-bit key
        return None
    # 256 random bits: a labelled hash is a sound KDF for such an input.
    return X25519Identity.from_secret_bytes(hashlib.sha256(label + raw).digest())


def _token() -> str:
    token = session.get(TOKEN_KEY)
    return token if isinstance(token, str) else ""


def write_note(ctx: WebContext, note: dict[str, Any]) -> bool:
    """Seal `note` (JSON) to the cookie's key and keep it for NOTE_LIFETIME; False when the
    browser holds no session or no key."""
    identity = _identity()
    token = _token()
    if identity is None or not token:
        return False
    sealed = seal_bytes(json.dumps(note).encode("utf-8"), [identity.recipient()])
    until = request_started() + NOTE_LIFETIME
    return service.store_note(ctx.sessions, token, sealed, until)


def read_note(ctx: WebContext) -> dict[str, Any] | None:
    """The session's note, opened in memory, or None (no session, no key, expired, forged)."""
    identity = _identity()
    if identity is None:
        return None
    sealed = service.read_note(ctx.sessions, _token(), request_started())
    if sealed is None:
        return None
    try:
        note = json.loads(open_bytes(sealed, [identity]))
    except (CryptoError, ValueError):
        return None
    return note if isinstance(note, dict) else None
