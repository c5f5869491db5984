"""What every kind's meta class shares: the manifest it comes from and the versions it reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.errors import ProtocolError
from protocol.manifest import Manifest, check_version

__all__ = ["check_version", "meta_of"]


def meta_of(manifest: Manifest, kind: str) -> Mapping[str, Any]:
    """The manifest's meta, once it is known to be of `kind` at a version read here."""
    if manifest.kind != kind:
        raise ProtocolError("bundle", f"expected a {kind} bundle, got {manifest.kind}")
    check_version(kind, manifest.version)
    return manifest.meta
