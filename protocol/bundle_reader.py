"""Reading bundles in one streamed pass, checking every member against the signed manifest."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from crypto.errors import SignatureError
from crypto.minisign import MAX_SIGNATURE_TEXT, VerifyKey, find_key, verify
from protocol import _tar
from protocol._item import ItemReader
from protocol._parts import JoinedParts, find_parts
from protocol.errors import ProtocolError
from protocol.manifest import (
    MANIFEST_NAME,
    MAX_MANIFEST_SIZE,
    SIGNATURE_NAME,
    BundleKind,
    Manifest,
)

__all__ = ["BundleReader", "ItemReader", "open_bundle", "verify_bundle"]

_CHUNK = 1 << 16


def _small_member(stream: _tar.Readable, name: str, limit: int) -> bytes:
    info = _tar.read_header(stream)
    if info is None or info.name != name:
        found = "the end of the archive" if info is None else repr(info.name)
        raise ProtocolError("bundle", f"expected {name} here, found {found}")
    if info.size > limit:
        raise ProtocolError("bundle", f"{name} is larger than {limit} bytes")
    data = _tar.read_exact(stream, info.size, name)
    _tar.skip_padding(stream, info.size)
    return data


class BundleReader:
    """A bundle being read: the manifest (and its signer) are checked on construction, then
    items() yields each item in manifest order; any member out of place raises ProtocolError."""

    def __init__(
        self,
        stream: _tar.Readable,
        *,
        expect_kind: BundleKind,
        verify_keys: Sequence[VerifyKey] = (),
    ) -> None:
        self._stream = stream
        self.manifest_bytes = _small_member(stream, MANIFEST_NAME, MAX_MANIFEST_SIZE)
        self.manifest = Manifest.from_bytes(self.manifest_bytes)
        if self.manifest.kind != expect_kind:
            raise ProtocolError(
                "bundle", f"expected a {expect_kind} bundle, got {self.manifest.kind}"
            )
        self.signer: VerifyKey | None = None
        self.trusted_comment: str | None = None
        if self.manifest.signed:
            self._check_signature(verify_keys)
        self._started = False

    def _check_signature(self, verify_keys: Sequence[VerifyKey]) -> None:
        data = _small_member(self._stream, SIGNATURE_NAME, MAX_SIGNATURE_TEXT)
        try:
            text = data.decode("utf-8")
            key = find_key(text, verify_keys)
            self.trusted_comment = verify(text, self.manifest_bytes, key)
        except UnicodeDecodeError:
            raise ProtocolError("signature", "bundle signature is not text") from None
        except SignatureError as exc:
            raise ProtocolError("signature", f"bundle signature refused: {exc}") from None
        self.signer = key

    def items(self) -> Iterator[ItemReader]:
        """Each item in order, then a check that the archive ends cleanly. Single use."""
        if self._started:
            raise RuntimeError("a bundle's items can be read only once")
        self._started = True
        for entry in self.manifest.items:
            info = _tar.read_header(self._stream)
            if info is None:
                raise ProtocolError("bundle", f"bundle ends before item {entry.name}")
            if info.name != entry.name:
                raise ProtocolError("bundle", f"member {info.name!r} is not {entry.name} (order)")
            if info.size != entry.size:
                raise ProtocolError(
                    "integrity", f"member {entry.name} has another size than listed"
                )
            item = ItemReader(self._stream, entry)
            try:
                yield item
                item.drain()
            finally:
                item.close()
        self._check_end()

    def _check_end(self) -> None:
        info = _tar.read_header(self._stream)
        if info is not None:
            raise ProtocolError("bundle", f"member {info.name!r} is not in the manifest")
        rest = 0
        while chunk := self._stream.read(_CHUNK):
            if chunk.count(0) != len(chunk):
                raise ProtocolError("bundle", "data after the end of the archive")
            rest += len(chunk)
        if rest < _tar.BLOCK:
            raise ProtocolError("bundle", "bundle is truncated at its end marker")


@contextlib.contextmanager
def open_bundle(
    path: Path, *, expect_kind: BundleKind, verify_keys: Sequence[VerifyKey] = ()
) -> Iterator[BundleReader]:
    """Open the bundle at `path` (one file or its parts) for one streamed pass.

    Raises ProtocolError when it is malformed, of another kind, or (ack, replies, rewrap) not
    signed by one of `verify_keys`.
    """
    with JoinedParts(find_parts(path)) as stream:
        yield BundleReader(stream, expect_kind=expect_kind, verify_keys=verify_keys)


def verify_bundle(
    path: Path, *, expect_kind: BundleKind, verify_keys: Sequence[VerifyKey] = ()
) -> BundleReader:
    """Read the whole bundle once, checking everything; returns the (spent) reader, whose
    manifest and signer describe what was checked. Raises ProtocolError."""
    with open_bundle(path, expect_kind=expect_kind, verify_keys=verify_keys) as reader:
        for item in reader.items():
            item.drain()
        return reader
