"""`sudo intake keys …` for tests: the same file edits, on the services' temporary keyring file.

After each edit the database's cache is refreshed, as the next submission would do, so tests
that write blob recipient or reply rows by hand find the key rows their foreign keys need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from intake.clock import utc_today
from intake.context import Services
from intake.keyring import (
    KeyInfo,
    KeyringFile,
    NewKey,
    add_key,
    edit_keyring_file,
    retire_key,
    revoke_key,
    rotate_key,
)

_T = TypeVar("_T")


@dataclass(frozen=True)
class KeyringAdmin:
    """Edits the services' keyring file as the CLI does; returns what changed as KeyInfo."""

    services: Services

    def _edit(self, change: Callable[[KeyringFile], tuple[KeyringFile, _T]]) -> _T:
        result = edit_keyring_file(self.services.config.keyring_file, change)
        with self.services.sessions() as session:
            self.services.keyring.sync_cache(session)
            session.commit()
        return result

    def add(self, new: NewKey, *, today: date | None = None) -> KeyInfo:
        day = today or utc_today()
        return KeyInfo.of(self._edit(lambda ring: add_key(ring, new, day)).after)

    def retire(
        self, fingerprint: str, *, force: bool = False, today: date | None = None
    ) -> KeyInfo:
        day = today or utc_today()
        change = self._edit(lambda ring: retire_key(ring, fingerprint, force=force, today=day))
        return KeyInfo.of(change.after)

    def revoke(self, fingerprint: str, *, today: date | None = None) -> KeyInfo:
        day = today or utc_today()
        return KeyInfo.of(self._edit(lambda ring: revoke_key(ring, fingerprint, today=day)).after)

    def rotate(
        self, old: str, new: NewKey, *, today: date | None = None
    ) -> tuple[KeyInfo, KeyInfo]:
        day = today or utc_today()
        retired, added = self._edit(lambda ring: rotate_key(ring, old, new, day))
        return KeyInfo.of(retired.after), KeyInfo.of(added.after)


def admin(services: Services) -> KeyringAdmin:
    """The keyring admin for `services`' keyring file."""
    return KeyringAdmin(services)
