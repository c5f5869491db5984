"""bundle.json: a bundle's kind, version, day, metadata, and each item's name, size and SHA-256."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

from protocol._json import dump_canonical, load_object
from protocol._tar import MAX_MEMBER_SIZE
from protocol.errors import ProtocolError, UnsupportedVersionError

__all__ = [
    "CURRENT_VERSIONS",
    "MANIFEST_NAME",
    "MAX_ITEMS",
    "MAX_ITEM_SIZE",
    "MAX_MANIFEST_SIZE",
    "SIGNATURE_NAME",
    "SIGNED_KINDS",
    "BundleKind",
    "check_version",
    "ItemEntry",
    "Manifest",
    "readable_versions",
    "validate_item_name",
]

BundleKind = Literal["export", "ack", "replies", "rewrap"]
# Bundles that travel from the offline laptop to the server carry the investigator's signature:
# the server acts on them (deletes, publishes replies, replaces headers).
SIGNED_KINDS: frozenset[str] = frozenset({"ack", "replies", "rewrap"})
# The version each kind is written at. A change to a kind's items or meta bumps its version
# here, keeps the previous parser, and adds a golden file for the new version (docs/bundles/).
CURRENT_VERSIONS: Mapping[str, int] = MappingProxyType(
    {"export": 2, "ack": 1, "replies": 1, "rewrap": 1}
)
MANIFEST_NAME = "bundle.json"
SIGNATURE_NAME = "bundle.json.minisig"
# A manifest line is ~130 bytes: 64 MiB holds ~500,000 items, above any real export, while a
# hostile manifest cannot make a reader hold more than that in memory.
MAX_MANIFEST_SIZE = 64 * 1024 * 1024
MAX_ITEMS = 400_000
# USTAR's 11 octal digits; the witness site's uploads are far smaller (2 GiB by default).
MAX_ITEM_SIZE = MAX_MEMBER_SIZE
# USTAR keeps names up to 100 bytes without the prefix field, which we never use.
MAX_NAME_LEN = 100
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_NAME_RE = re.compile(rf"{_SEGMENT}(/{_SEGMENT}){{0,2}}")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # not \d: that is any Unicode digit
_KEYS = frozenset({"kind", "version", "created", "items", "meta"})


def readable_versions(kind: str) -> tuple[int, ...]:
    """The versions of `kind` a reader takes: the current one and the one before.

    Laptops lag servers (an air-gapped laptop is updated by hand), so triage one release behind
    still reads what the server writes; two behind is refused with the version named.
    """
    current = CURRENT_VERSIONS[kind]
    return tuple(v for v in (current - 1, current) if v >= 1)


def check_version(kind: str, version: object) -> int:
    """`version` if it is one of `kind` this side reads. Raises UnsupportedVersionError (also
    for a bool or any non-integer: JSON's `true` is not version 1)."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise UnsupportedVersionError(kind, version, readable_versions(kind))
    if version not in readable_versions(kind):
        raise UnsupportedVersionError(kind, version, readable_versions(kind))
    return version


def _bad(message: str) -> ProtocolError:
    return ProtocolError("bundle", message)


def validate_item_name(name: str) -> str:
    """The one check for item names: flat, relative, portable (e.g. "blobs/<hex>").

    Up to three segments of ASCII letters, digits, ".", "_" and "-", each starting with a letter
    or digit (so never "..", "." or a hidden file). Raises ProtocolError("bundle").
    """
    if "\x00" in name:
        raise _bad("item name contains NUL")
    if "\\" in name:
        raise _bad(f"item name {name!r} contains a backslash")
    if name.startswith("/"):
        raise _bad(f"item name {name!r} is an absolute path")
    if ".." in name.split("/"):
        raise _bad(f"item name {name!r} climbs out with '..'")
    if name in (MANIFEST_NAME, SIGNATURE_NAME):
        raise _bad(f"item name {name!r} is reserved")
    if len(name) > MAX_NAME_LEN or not _NAME_RE.fullmatch(name):
        raise _bad(f"item name {name!r} is not a flat portable name")
    return name


@dataclass(frozen=True)
class ItemEntry:
    """One item as the manifest declares it."""

    name: str
    size: int
    sha256: str

    def __post_init__(self) -> None:
        validate_item_name(self.name)
        if not 0 <= self.size <= MAX_ITEM_SIZE:
            raise _bad(f"item {self.name} has an impossible size")
        if not _SHA256_RE.fullmatch(self.sha256):
            raise _bad(f"item {self.name} has a malformed SHA-256")

    @classmethod
    def parse(cls, data: object) -> ItemEntry:
        if not isinstance(data, dict) or set(data) != {"name", "size", "sha256"}:
            raise _bad("a manifest item must have exactly name, size and sha256")
        name, size, digest = data["name"], data["size"], data["sha256"]
        if not isinstance(name, str) or not isinstance(digest, str):
            raise _bad("a manifest item's name and sha256 are strings")
        if not isinstance(size, int) or isinstance(size, bool):
            raise _bad("a manifest item's size is an integer")
        return cls(name=name, size=size, sha256=digest)

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


def _check_names(items: Sequence[ItemEntry]) -> None:
    # Case-insensitive: the bundle may be unpacked on FAT32, NTFS or APFS. A name that is also
    # another's folder ("a" and "a/b") cannot be unpacked either.
    folded = [item.name.casefold() for item in items]
    if len(set(folded)) != len(folded):
        raise _bad("two items have the same name (ignoring case)")
    names = set(folded)
    for name in folded:
        parts = name.split("/")
        if any("/".join(parts[:i]) in names for i in range(1, len(parts))):
            raise _bad(f"item {name!r} lies under another item of the same name")


@dataclass(frozen=True)
class Manifest:
    """The parsed bundle.json. `meta` holds kind-specific JSON (e.g. a rewrap's recipient set)."""

    kind: BundleKind
    created: date
    items: tuple[ItemEntry, ...]
    meta: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    version: int = 0  # 0: the kind's current version (CURRENT_VERSIONS)

    def __post_init__(self) -> None:
        if self.kind not in get_args(BundleKind):
            raise ProtocolError("unsupported_version", f"bundle kind {self.kind!r}")
        if self.version == 0:
            object.__setattr__(self, "version", CURRENT_VERSIONS[self.kind])
        check_version(self.kind, self.version)
        if len(self.items) > MAX_ITEMS:
            raise _bad("too many items")
        _check_names(self.items)
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    @property
    def signed(self) -> bool:
        return self.kind in SIGNED_KINDS

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Parse bundle.json. Raises ProtocolError ("bundle" or "unsupported_version")."""
        doc = load_object(data, max_size=MAX_MANIFEST_SIZE, category="bundle", what="bundle.json")
        version, kind = doc.get("version"), doc.get("kind")
        if kind not in get_args(BundleKind):
            raise ProtocolError("unsupported_version", f"bundle kind {kind!r}")
        version = check_version(cast(str, kind), version)
        if set(doc) != _KEYS:
            raise _bad(f"bundle.json must have exactly the keys {sorted(_KEYS)}")
        created, items, meta = doc["created"], doc["items"], doc["meta"]
        if not isinstance(created, str) or not _DAY_RE.fullmatch(created):
            raise _bad("bundle.json 'created' is not a YYYY-MM-DD day")
        if not isinstance(items, list) or not isinstance(meta, dict):
            raise _bad("bundle.json 'items' is a list and 'meta' an object")
        try:
            day = date.fromisoformat(created)
        except ValueError:
            raise _bad("bundle.json 'created' is not a real day") from None
        if len(items) > MAX_ITEMS:
            raise _bad("too many items")
        entries = tuple(ItemEntry.parse(item) for item in items)
        return cls(
            kind=cast(BundleKind, kind), created=day, items=entries, meta=meta, version=version
        )

    def to_bytes(self) -> bytes:
        """Canonical bundle.json bytes (what is signed)."""
        return dump_canonical(
            {
                "kind": self.kind,
                "version": self.version,
                "created": self.created.isoformat(),
                "items": [item.to_dict() for item in self.items],
                "meta": dict(self.meta),
            }
        )
