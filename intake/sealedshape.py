"""The shape of an age file sealed elsewhere (in a witness's browser), as far as the server can
check it without a key: the header's stanzas, and the payload's length for a plaintext size.
"""

from __future__ import annotations

import io

from crypto.errors import HeaderError
from crypto.header import Header
from crypto.x25519 import STANZA_TYPE

__all__ = ["MAX_HEAD", "check_header", "sealed_payload_size"]

_CHUNK = 64 * 1024
_TAG = 16
_NONCE = 16
_X25519_SHARE = 32
_WRAPPED_KEY = 32
# An X25519 stanza takes 98 bytes; a header for any keyring we accept fits far below this, so a
# part that has not shown its whole header by then is refused before anything is written.
MAX_HEAD = 64 * 1024


def sealed_payload_size(size: int) -> int:
    """The STREAM payload's length for a plaintext of `size` bytes: nonce, then 64 KiB chunks
    with tags (an empty plaintext is one empty chunk; a full last chunk has no empty one after)."""
    chunks = max(1, -(-size // _CHUNK))
    return _NONCE + size + chunks * _TAG


def check_header(head: bytes, recipients: int) -> Header | None:
    """The header at the start of `head`, or None if more bytes are needed.

    Raises ValueError when it is not a header with exactly `recipients` X25519 stanzas.
    """
    if b"\n---" not in head:
        if len(head) > MAX_HEAD:
            raise ValueError("no age header at the start of a sealed part")
        if not head.startswith(b"age-encryption.org/v1\n"[: len(head)]):
            raise ValueError("a sealed part does not start with an age header")
        return None
    try:
        header, _ = Header.parse(io.BytesIO(head))
    except HeaderError as exc:
        if len(head) > MAX_HEAD:
            raise ValueError("no age header at the start of a sealed part") from exc
        return None  # the MAC line has not arrived whole yet
    for stanza in header.stanzas:
        try:
            if stanza.type != STANZA_TYPE or len(stanza.args) != 1:
                raise ValueError("a sealed part has a stanza that is not X25519")
            stanza.fixed_arg(0, _X25519_SHARE, "X25519 share")
        except HeaderError as exc:
            raise ValueError("a sealed part has a malformed X25519 stanza") from exc
        if len(stanza.body) != _WRAPPED_KEY:
            raise ValueError("a sealed part has a malformed X25519 stanza")
    if len(header.stanzas) != recipients:
        raise ValueError("a sealed part is not sealed to exactly the active keys")
    return header
