"""What the witness site's services work with: the app's collaborators plus its own helpers."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from crypto.witness import DEFAULT_COST, KdfCost
from intake.blobstore import BlobStore
from intake.config import Config, Limits
from intake.context import Services
from intake.db import SessionFactory
from intake.keyring import Keyring
from intake.web.services.codename import CodenameFactory, KeyDeriver

__all__ = ["FORM_VERSION", "KDF_COST_KEY", "WebContext"]

KDF_COST_KEY = "INTAKE_KDF_COST"
"""Flask config key tests set to a `KdfCost` (FAST_TEST_COST); never set in production."""


def _configured_cost() -> KdfCost:
    cost = current_app.config.get(KDF_COST_KEY)
    return cost if isinstance(cost, KdfCost) else DEFAULT_COST


FORM_VERSION = "2025.1"
"""The testimony form's version, sealed with every submission (what the witness was asked)."""


@dataclass(frozen=True)
class WebContext:
    """The collaborators of one app (made once by `make_blueprint`, never global)."""

    services: Services
    deriver: KeyDeriver
    codenames: CodenameFactory
    form_version: str = FORM_VERSION

    @classmethod
    def build(cls, services: Services) -> WebContext:
        """The context for `services`.

        The KDF cost is `crypto.witness.DEFAULT_COST` unless the app's config holds a
        `KdfCost` under KDF_COST_KEY (tests set FAST_TEST_COST there).
        """
        return cls(
            services=services,
            deriver=KeyDeriver(slots=services.kdf_slots, cost_of=_configured_cost),
            codenames=CodenameFactory.load(),
        )

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def limits(self) -> Limits:
        return self.services.config.limits

    @property
    def sessions(self) -> SessionFactory:
        return self.services.sessions

    @property
    def store(self) -> BlobStore:
        return self.services.store

    @property
    def keyring(self) -> Keyring:
        return self.services.keyring
