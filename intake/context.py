"""The collaborators `create_app` builds, handed to the web layer (no module-level singletons)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, current_app
from sqlalchemy import Engine

from intake.blobstore import BlobStore
from intake.config import Config
from intake.db import SessionFactory
from intake.diskguard import DiskReservations
from intake.keyring import Keyring

__all__ = ["EXTENSION_KEY", "Services", "allow_without_active_key", "current_services"]

EXTENSION_KEY = "intake"
KEYLESS_ATTR = "_intake_allowed_without_active_key"

_F = TypeVar("_F", bound=Callable[..., object])


@dataclass(frozen=True)
class Services:
    """Everything a view or service needs, made once per app by `create_app`.

    - `config`: the frozen Config (limits in `config.limits`).
    - `engine`, `sessions`: the database; `with services.sessions() as s: ...; s.commit()`.
    - `store`: the blob store (sealed files only).
    - `keyring`: investigator keys, read fresh from the keyring file on every call.
    - `kdf_slots`: a semaphore of `config.limits.kdf_concurrency` slots; hold one while the
      codename KDF runs (`with services.kdf_slots:`), so a flood cannot exhaust memory.
    - `reservations`: the free-disk ledger an upload reserves its declared length in.
    """

    config: Config
    engine: Engine
    sessions: SessionFactory
    store: BlobStore
    keyring: Keyring
    kdf_slots: threading.BoundedSemaphore
    reservations: DiskReservations

    @classmethod
    def of(cls, app: Flask) -> Services:
        """The services stored on an app by `create_app`."""
        services = app.extensions[EXTENSION_KEY]
        if not isinstance(services, cls):  # pragma: no cover - only create_app stores it
            raise TypeError("app.extensions['intake'] is not Services")
        return services


def current_services() -> Services:
    """The services of the app handling the current request."""
    return Services.of(current_app)


def allow_without_active_key(view: _F) -> _F:
    """Mark a POST view that works while no investigator key is active (login, logout).

    Every other POST is answered with the calm 503 page before its body is read when the
    keyring has no active key: nothing could be sealed to anyone.
    """
    setattr(view, KEYLESS_ATTR, True)
    return view
