"""A file part sealed in the witness's browser: stored as it comes, once its header checks out.

Where the testimony page's script runs (issue 16), it seals each chosen file to the active keys
itself and sends the sealed bytes as a `groupN-sealed` part, preceded by a `groupN-sealed-meta`
field giving the plaintext's size and SHA-256 as the browser computed them. The server cannot
read such a part and does not seal it again. What it can check, it checks before a byte reaches
the disk: the part starts with a well-formed age v1 header holding exactly one X25519 stanza per
active key and nothing else. At the end it checks that the payload's length is exactly that of
the declared plaintext size. The plaintext hash it cannot check (triage does, when it opens the
file). Anything else is refused with ValueError, which the parser turns into a failed body.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from crypto.header import Header
from intake.sealedshape import check_header, sealed_payload_size

__all__ = ["SEALED_FIELD", "PresealedWriter", "SealedMeta", "check_header", "meta_field_of"]

SEALED_FIELD = re.compile(r"^group([1-3])-sealed$")
_META_SUFFIX = "-meta"
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def meta_field_of(field_name: str) -> str:
    """The name of the field that declares the plaintext of the sealed part `field_name`."""
    return field_name + _META_SUFFIX


@dataclass(frozen=True)
class SealedMeta:
    """The plaintext's size and SHA-256, as the browser computed them."""

    size: int
    sha256: str

    @classmethod
    def parse(cls, text: str | None) -> SealedMeta:
        """Raises ValueError unless `text` is {"size": n >= 0, "sha256": 64 lowercase hex}."""
        if text is None:
            raise ValueError("a sealed part came without its declared size and hash")
        data = json.loads(text)
        if not isinstance(data, dict) or set(data) != {"size", "sha256"}:
            raise ValueError("malformed sealed-part declaration")
        size, digest = data["size"], data["sha256"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError("malformed declared size")
        if not isinstance(digest, str) or not _SHA256_HEX.match(digest):
            raise ValueError("malformed declared SHA-256")
        return cls(size, digest)

    def sealed_payload_size(self) -> int:
        """The STREAM payload's length for this plaintext: nonce, then 64 KiB chunks with tags
        (an empty plaintext is one empty chunk; a full last chunk has no empty one after it)."""
        return sealed_payload_size(self.size)


class _Temp(Protocol):
    file: BinaryIO

    def discard(self) -> None: ...


class _Declared:
    """The declared plaintext hash, shaped like the hashlib object SealingWriter has."""

    def __init__(self, hexdigest: str) -> None:
        self._hex = hexdigest

    def hexdigest(self) -> str:
        return self._hex


class PresealedWriter(io.RawIOBase):
    """A write-only file part already sealed by the browser: checked, then stored as it is.

    The same attributes as SealingWriter where the draft and the submission read them; the
    file key is unknown to the server (empty), so it can never re-issue this file's header.
    """

    def __init__(
        self,
        temp: _Temp,
        recipients: int,
        meta: SealedMeta,
        *,
        filename: str,
        content_type: str | None,
        field_name: str,
    ) -> None:
        super().__init__()
        self.temp = temp
        self.field_name = field_name
        self.filename = filename
        self.content_type = content_type
        self.meta = meta
        self.plain_sha256 = _Declared(meta.sha256)
        self.plain_size = meta.size
        self.file_key = b""
        self.complete = False
        self._recipients = recipients
        self._head = bytearray()
        self._header: Header | None = None
        self._sha256 = hashlib.sha256()
        self._size = 0

    @property
    def sealed_size(self) -> int:
        return self._size

    @property
    def sealed_sha256(self) -> str:
        return self._sha256.hexdigest()

    def writable(self) -> bool:
        return True

    def _store(self, data: bytes) -> None:
        self._sha256.update(data)
        self._size += len(data)
        self.temp.file.write(data)

    def write(self, data: Any) -> int:
        if self.complete:
            raise io.UnsupportedOperation("the file part is already complete")
        chunk = bytes(data)
        if self._header is not None:
            self._store(chunk)
            return len(chunk)
        # Held in memory until the header is known good: a part that is not what it claims
        # (plaintext sent under a sealed name) never reaches the disk.
        self._head += chunk
        self._header = check_header(bytes(self._head), self._recipients)
        if self._header is not None:
            self._store(bytes(self._head))
            self._head.clear()
        return len(chunk)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Werkzeug's end-of-part signal: the part is whole; check its length, then keep it."""
        if (offset, whence) != (0, io.SEEK_SET):
            raise io.UnsupportedOperation("a sealed part only accepts seek(0) at the end")
        if self.complete:
            return 0
        if self._header is None:
            raise ValueError("a sealed part ended before its age header")
        if self._size - self._header.size != self.meta.sealed_payload_size():
            raise ValueError("a sealed part's length does not match its declared size")
        self.temp.file.flush()
        self.complete = True
        return 0

    def tell(self) -> int:
        return self._size
