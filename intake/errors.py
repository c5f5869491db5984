"""The one error root of the server side, with stable categories and a hint for the admin."""

from __future__ import annotations

from typing import ClassVar

from crypto.errors import Diagnostics

__all__ = [
    "BundleError",
    "ConfigError",
    "DatabaseError",
    "DiskFullError",
    "DuplicateKeyError",
    "IntakeError",
    "KeyringError",
    "LastActiveKeyError",
    "LiveUnavailableError",
    "MalformedKeyError",
    "PathEscapeError",
    "StorageError",
    "UnknownKeyError",
]


class IntakeError(Exception):
    """Root of every failure the server side reports on purpose.

    `category` is stable (scripts and the CLI's exit codes depend on it); `message` says what
    failed, `hint` what to do about it. Messages follow the CLI rules: lowercase, no trailing
    period. The witness site never shows either: it maps every error to one calm page.
    """

    category: ClassVar[str] = "internal"
    default_hint: ClassVar[str | None] = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def diagnostics(self) -> Diagnostics:
        """The category, the message and the hint (if any), as the CLI's funnel prints them."""
        return Diagnostics(self.category, self.message, (self.hint,) if self.hint else ())


class ConfigError(IntakeError):
    """The configuration (environment, data directory, secret key file) is missing or invalid."""

    category = "config"


class DatabaseError(IntakeError):
    """The database is unreachable or its schema is not the one this code expects."""

    category = "database"


class StorageError(IntakeError):
    """The blob store could not read, write or delete a blob."""

    category = "storage"


class DiskFullError(StorageError):
    """The blob store's filesystem is full (ENOSPC)."""

    default_hint = "free disk space in the data directory; nothing was stored from this write"


class PathEscapeError(StorageError):
    """A blob name would resolve outside the store (a bug or a forged name, never honoured)."""


class KeyringError(IntakeError):
    """A keyring change was refused; the keyring is unchanged."""

    category = "keyring"


class MalformedKeyError(KeyringError):
    """A recipient, signing key or key name does not parse."""


class DuplicateKeyError(KeyringError):
    """The key is already in the keyring (active or retired)."""


class UnknownKeyError(KeyringError):
    """No key in the keyring has that fingerprint."""

    default_hint = "run `intake keys list` to see the fingerprints"


class LastActiveKeyError(KeyringError):
    """Retiring the last active key would stop the site accepting submissions."""

    default_hint = (
        "add the next key first (`intake keys rotate`), or pass --force to stop accepting "
        "submissions"
    )


class BundleError(IntakeError):
    """A transfer bundle (export, ack, replies, rewrap) is malformed, unsigned or mismatching."""

    category = "bundle"


class LiveUnavailableError(IntakeError):
    """`intake stats --live` could read neither HAProxy's stats socket nor tor's MetricsPort."""

    category = "live"
