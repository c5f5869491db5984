"""The one error root of protocol/: a malformed bundle, document or id is a ProtocolError."""

from __future__ import annotations

from typing import Literal, get_args

from crypto.errors import Diagnostics

__all__ = ["CATEGORIES", "Category", "ProtocolError", "UnsupportedVersionError"]

# Stable categories, for callers that map failures to exit codes or messages:
# - bundle: the container is malformed or hostile (member order, names, types, truncation);
# - integrity: an item's size or SHA-256 differs from the manifest (corruption or tampering);
# - signature: a signature is missing, malformed, from an unknown key or does not verify;
# - schema: a JSON document, a field value or an id does not follow its schema;
# - unsupported_version: a well-formed document of a version or kind this code does not know.
Category = Literal["bundle", "integrity", "signature", "schema", "unsupported_version"]
CATEGORIES: frozenset[str] = frozenset(get_args(Category))


class ProtocolError(Exception):
    """Raised for anything that crosses between intake and triage and is not as it must be.

    `category` is one of CATEGORIES and never changes for a given failure; the message says
    what was wrong for a person reading a log or a CLI error line.
    """

    def __init__(self, category: Category, message: str) -> None:
        if category not in CATEGORIES:
            raise ValueError(f"unknown protocol error category {category!r}")
        super().__init__(message)
        self.category: Category = category
        self.message = message

    def diagnostics(self) -> Diagnostics:
        """The category and the message; no hint, since what to do depends on the reader's side."""
        return Diagnostics(self.category, self.message)


class UnsupportedVersionError(ProtocolError):
    """A bundle of a kind this code knows, at a version it does not read.

    Readers take the version their side writes and the one before it (docs/bundles.md,
    "Versions"), so a laptop one release behind the server still imports; anything else is
    refused here, naming the version, rather than half-understood.
    """

    def __init__(self, kind: str, version: object, readable: tuple[int, ...]) -> None:
        shown = "/".join(str(v) for v in readable)
        super().__init__(
            "unsupported_version",
            f"{kind} bundle version {version!r} is not one this side reads ({shown})",
        )
        self.kind = kind
        self.version = version
        self.readable = readable
