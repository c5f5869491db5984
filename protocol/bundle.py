"""Writing bundles: streamed ustar, bundle.json first, signed when it goes to the server."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO

from crypto.minisign import SigningKey, sign
from protocol import _tar
from protocol._parts import MIN_PART_SIZE, PartWriter
from protocol.bundle_reader import BundleReader, ItemReader, open_bundle, verify_bundle
from protocol.errors import ProtocolError
from protocol.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    SIGNED_KINDS,
    BundleKind,
    ItemEntry,
    Manifest,
)

__all__ = [
    "FAT32_MAX_FILE_SIZE",
    "MIN_PART_SIZE",
    "BundleReader",
    "ItemReader",
    "ItemSource",
    "open_bundle",
    "parse_size",
    "trusted_comment_for",
    "verify_bundle",
    "write_bundle",
]

# FAT32 stores at most 4 GiB minus one byte in a file: the largest part a stick can take.
FAT32_MAX_FILE_SIZE = 4 * 1024**3 - 1
_CHUNK = 1 << 20
# ASCII only: Unicode \d takes any script's digits, and Unicode IGNORECASE lets the Kelvin
# sign (U+212A) match "K", which then is no key of _UNITS.
_SIZE_RE = re.compile(r"([0-9]+)\s*([KMGT]?)(?:i?B)?", re.IGNORECASE | re.ASCII)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(text: str) -> int:
    """ "4G", "700M", "1048576" → bytes (binary units). Raises ValueError."""
    match = _SIZE_RE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a size: {text!r} (try 700M or 4G)")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


@dataclass(frozen=True)
class ItemSource:
    """An item to write: its name, size and SHA-256 known up front (the manifest comes first),
    and how to open its bytes when its turn comes."""

    name: str
    size: int
    sha256: str
    opener: Callable[[], BinaryIO] = field(repr=False, compare=False)

    @classmethod
    def from_file(cls, name: str, path: Path) -> ItemSource:
        """Hash a file (bounded memory) to describe it; it is read again when written."""
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return cls(name, size, digest.hexdigest(), lambda: path.open("rb"))

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> ItemSource:
        digest = hashlib.sha256(data).hexdigest()
        return cls(name, len(data), digest, lambda: io.BytesIO(data))

    def entry(self) -> ItemEntry:
        return ItemEntry(name=self.name, size=self.size, sha256=self.sha256)


def trusted_comment_for(manifest_bytes: bytes, manifest: Manifest) -> str:
    """What the signature's trusted comment says (shown by `minisign -V`)."""
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    return f"intake bundle {manifest.kind} v{manifest.version} {manifest.created} sha256:{digest}"


class _TarWriter:
    def __init__(self, out: PartWriter, day: date, progress: Callable[[int], None] | None):
        self._out = out
        self._day = day
        self._progress = progress
        self.offset = 0

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self.offset += len(data)

    def add_bytes(self, name: str, data: bytes) -> None:
        self._write(_tar.member_header(name, len(data), self._day))
        self._write(data + _tar.padding(len(data)))

    def add_item(self, item: ItemSource) -> None:
        self._write(_tar.member_header(item.name, item.size, self._day))
        digest = hashlib.sha256()
        copied = 0
        with item.opener() as stream:
            while copied < item.size and (chunk := stream.read(min(_CHUNK, item.size - copied))):
                digest.update(chunk)
                copied += len(chunk)
                self._write(chunk)
                if self._progress is not None:
                    self._progress(len(chunk))
            extra = stream.read(1)
        if copied != item.size or extra or digest.hexdigest() != item.sha256:
            raise ProtocolError("integrity", f"item {item.name} changed after it was hashed")
        self._write(_tar.padding(item.size))

    def close(self) -> None:
        self._write(_tar.end_of_archive(self.offset))


def write_bundle(
    path: Path,
    kind: BundleKind,
    items: Sequence[ItemSource],
    *,
    meta: Mapping[str, object] | None = None,
    signing_key: SigningKey | None = None,
    created: date | None = None,
    max_part_size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Path]:
    """Write a bundle at `path` (or `path`.part001 … when it exceeds `max_part_size`).

    ack, replies and rewrap bundles must be signed with `signing_key`; export bundles are not.
    Items are copied in bounded memory and re-hashed on the way: an item that changed since it
    was described raises ProtocolError("integrity") and nothing is left at `path`. `progress`
    is called with each chunk's size. Temp parts (.NAME.TAG.N.tmp, 0600) that a killed write to
    the same `path` left are removed first. Returns the files written. Raises FileExistsError
    rather than overwrite, ValueError on misuse.
    """
    if (signing_key is not None) != (kind in SIGNED_KINDS):
        raise ValueError(f"{kind} bundles are {'' if kind in SIGNED_KINDS else 'not '}signed")
    day = created or datetime.now(UTC).date()
    manifest = Manifest(
        kind=kind, created=day, items=tuple(i.entry() for i in items), meta=meta or {}
    )
    try:
        manifest_bytes = manifest.to_bytes()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bundle metadata is not JSON: {exc}") from None
    out = PartWriter(path, max_part_size)
    try:
        tar = _TarWriter(out, day, progress)
        tar.add_bytes(MANIFEST_NAME, manifest_bytes)
        if signing_key is not None:
            comment = trusted_comment_for(manifest_bytes, manifest)
            signature = sign(manifest_bytes, signing_key, trusted_comment=comment)
            tar.add_bytes(SIGNATURE_NAME, signature.encode("utf-8"))
        for item in items:
            tar.add_item(item)
        tar.close()
        return out.finish()
    except BaseException:
        out.abort()
        raise
