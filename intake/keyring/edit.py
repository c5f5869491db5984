"""Keyring changes as pure functions on a KeyringFile: add, retire, rotate, revoke.

Each returns the new keyring and what changed; `intake keys …` applies them to the file with
`edit_keyring_file` (atomic, locked) and prints the change. A key is never deleted: its
fingerprint stays for the blobs, replies and exports that name it, and a removed key could be
re-added by mistake. States only move forward: active → retired → revoked, or active → revoked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from intake.clock import utc_today
from intake.errors import DuplicateKeyError, KeyringError, LastActiveKeyError, UnknownKeyError
from intake.keyring.file import KeyEntry, KeyringFile
from intake.keyring.store import edit_keyring_file
from intake.models import KeyStatus
from intake.newkey import NewKey

__all__ = [
    "KeyChange",
    "add_key",
    "add_to_file",
    "merge_exported",
    "find_key",
    "retire_key",
    "revoke_key",
    "rotate_key",
]


@dataclass(frozen=True)
class KeyChange:
    """One entry before and after a change (`before` is None for an added key)."""

    before: KeyEntry | None
    after: KeyEntry

    def describe(self) -> str:
        """One line for the admin: `added …`, `retired …`, `revoked …`."""
        verb = "added" if self.before is None else self.after.state.value
        return f"{verb} {self.after.fingerprint} ({self.after.name})"


def _state_text(entry: KeyEntry) -> str:
    if entry.state is KeyStatus.RETIRED:
        return f"retired {entry.retired_on}"
    if entry.state is KeyStatus.REVOKED:
        return f"revoked {entry.revoked_on}"
    return "active"


def find_key(ring: KeyringFile, fingerprint_text: str) -> KeyEntry:
    """The entry for a fingerprint, with or without its `SHA256:` prefix. Raises UnknownKeyError."""
    wanted = fingerprint_text.strip()
    if not wanted.startswith("SHA256:"):
        wanted = "SHA256:" + wanted
    entry = ring.get(wanted)
    if entry is None:
        raise UnknownKeyError(f"no key with fingerprint {fingerprint_text.strip()}")
    return entry


def _replaced(ring: KeyringFile, entry: KeyEntry) -> KeyringFile:
    keys = tuple(entry if k.fingerprint == entry.fingerprint else k for k in ring.keys)
    return KeyringFile.from_entries(keys)


def add_key(ring: KeyringFile, new: NewKey, today: date) -> tuple[KeyringFile, KeyChange]:
    """Add `new` as active. Raises DuplicateKeyError (the same recipient, or the minisign key
    of another active key)."""
    existing = ring.get(new.fingerprint)
    if existing is not None:
        raise DuplicateKeyError(
            f"the key {new.fingerprint} is already in the keyring ({existing.name}, "
            f"{_state_text(existing)})",
            hint="a retired or revoked key is never reactivated: generate a new key with "
            "`triage keygen`",
        )
    for other in ring.active:
        if other.verify_key.key_id == new.verify_key.key_id:
            raise DuplicateKeyError(
                f"the signing key {new.verify_key.key_id_hex} already belongs to the active key "
                f"{other.fingerprint} ({other.name})",
                hint="each active key needs its own minisign key, or rotate the old one out",
            )
    entry = KeyEntry.new(new, today)
    return KeyringFile.from_entries((*ring.keys, entry)), KeyChange(None, entry)


def _last_active(ring: KeyringFile, entry: KeyEntry) -> bool:
    return entry.state is KeyStatus.ACTIVE and len(ring.active) == 1


def retire_key(
    ring: KeyringFile, fingerprint_text: str, *, force: bool, today: date
) -> tuple[KeyringFile, KeyChange]:
    """Retire an active key (routine rotation). Raises UnknownKeyError, KeyringError (not
    active), LastActiveKeyError (the last active key, unless `force`)."""
    entry = find_key(ring, fingerprint_text)
    if entry.state is KeyStatus.RETIRED:
        raise KeyringError(f"the key {entry.fingerprint} was already retired on {entry.retired_on}")
    if entry.state is KeyStatus.REVOKED:
        raise KeyringError(f"the key {entry.fingerprint} was revoked on {entry.revoked_on}")
    if _last_active(ring, entry) and not force:
        raise LastActiveKeyError(
            f"{entry.fingerprint} is the last active key: without it the site stops accepting "
            "submissions"
        )
    after = dataclasses.replace(entry, state=KeyStatus.RETIRED, retired_on=today)
    return _replaced(ring, after), KeyChange(entry, after)


def rotate_key(
    ring: KeyringFile, old_fingerprint: str, new: NewKey, today: date
) -> tuple[KeyringFile, tuple[KeyChange, KeyChange]]:
    """Retire `old_fingerprint` and add `new` at once; the new key may keep the old minisign key.

    Raises what `retire_key` and `add_key` raise; the keyring is then unchanged.
    """
    retired, old = retire_key(ring, old_fingerprint, force=True, today=today)
    added, new_change = add_key(retired, new, today)
    return added, (old, new_change)


def revoke_key(
    ring: KeyringFile, fingerprint_text: str, *, today: date
) -> tuple[KeyringFile, KeyChange]:
    """Revoke a key (compromised): it authorises nothing from now on, not even an old ack.

    Allowed for the last active key without --force: a compromised key must go at once, even
    if the site then stops accepting. Raises UnknownKeyError, KeyringError (already revoked).
    """
    entry = find_key(ring, fingerprint_text)
    if entry.state is KeyStatus.REVOKED:
        raise KeyringError(f"the key {entry.fingerprint} was already revoked on {entry.revoked_on}")
    after = dataclasses.replace(entry, state=KeyStatus.REVOKED, revoked_on=today)
    return _replaced(ring, after), KeyChange(entry, after)


def merge_exported(
    ring: KeyringFile, entries: Iterable[KeyEntry]
) -> tuple[KeyringFile, tuple[KeyEntry, ...]]:
    """Add database rows written out once (`intake keys export-file`); returns what was added.

    Raises KeyringError when the file already holds keys: the export is a one-time upgrade
    step, and running it again later would copy rows an attacker may have inserted since.
    """
    if ring.keys:
        raise KeyringError(
            "the keyring file already holds keys; export-file runs once, at the upgrade",
            hint="add keys with `intake keys add`; `intake doctor` shows rows the file lacks",
        )
    added = tuple(entries)
    return KeyringFile.from_entries(added), added


def add_to_file(path: Path, new: NewKey, *, today: date | None = None) -> KeyChange:
    """Add `new` to the keyring file at `path` (made if missing), as `intake keys add` does.

    The helper the demo, `make run` and the tests use with a keyring file in a temporary place,
    so nothing there needs root. Raises DuplicateKeyError, KeyringFileError.
    """
    return edit_keyring_file(path, lambda ring: add_key(ring, new, today or utc_today()))
