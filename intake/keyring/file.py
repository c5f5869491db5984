"""The keyring file's format: a frozen, strictly parsed list of investigator keys and their states.

The file (default /etc/intake/keyring.json, root-owned, mode 0644) is the one authority on who
an investigator is: an attacker who can write the database and nothing else must not be able to
add a recipient or a signing key. So the format is parsed strictly (unknown fields, duplicate
keys, a fingerprint that is not the recipient's, or an impossible state are refused, never
skipped) and the file is only written atomically by `intake keys …` run as root.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from crypto.minisign import VerifyKey
from crypto.x25519 import X25519Recipient
from intake.errors import KeyringError, MalformedKeyError
from intake.models import KeyStatus
from intake.newkey import NewKey

__all__ = ["FORMAT_VERSION", "MAX_KEYRING_BYTES", "KeyEntry", "KeyringFile", "KeyringFileError"]

FORMAT_VERSION = 1
# A key entry is well under 1 KiB; a keyring of a thousand keys still fits. Anything larger is
# not our file, and is refused before it is parsed.
MAX_KEYRING_BYTES = 1024 * 1024

_ENTRY_FIELDS = frozenset(
    {"fingerprint", "name", "recipient", "signing_key", "state", "added_on", "retired_on",
     "revoked_on"}
)  # fmt: skip


class KeyringFileError(KeyringError):
    """The keyring file is missing, unreadable or not a valid keyring; nothing trusts it then."""


def _day(raw: object, field: str, where: str) -> date | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise KeyringFileError(f"{where}: {field} must be a YYYY-MM-DD string or null")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise KeyringFileError(f"{where}: {field} is not a YYYY-MM-DD day: {raw!r}") from exc


@dataclass(frozen=True)
class KeyEntry:
    """One investigator key: recipient, minisign public key, name, state and its days.

    active: new submissions are sealed to it and it authorises everything. retired (routine
    rotation): its acks still purge what was exported sealed to it; nothing else. revoked
    (compromised): it authorises nothing.
    """

    fingerprint: str
    name: str
    recipient: X25519Recipient
    verify_key: VerifyKey
    signing_key_text: str
    state: KeyStatus
    added_on: date
    retired_on: date | None = None
    revoked_on: date | None = None

    @classmethod
    def new(cls, key: NewKey, today: date) -> KeyEntry:
        """A freshly added, active entry for `key`."""
        return cls(
            fingerprint=key.fingerprint,
            name=key.name,
            recipient=key.recipient,
            verify_key=key.verify_key,
            signing_key_text=key.signing_key_text,
            state=KeyStatus.ACTIVE,
            added_on=today,
        )

    @classmethod
    def parse(cls, raw: object, position: int) -> KeyEntry:
        """One entry of the file's `keys` list. Raises KeyringFileError saying what is wrong."""
        where = f"keys[{position}]"
        if not isinstance(raw, dict) or set(raw) != _ENTRY_FIELDS:
            raise KeyringFileError(
                f"{where}: an entry has exactly the fields {sorted(_ENTRY_FIELDS)}"
            )
        texts = [raw[f] for f in ("fingerprint", "name", "recipient", "signing_key", "state")]
        if not all(isinstance(t, str) for t in texts):
            raise KeyringFileError(f"{where}: fingerprint, name, recipient, signing_key and "
                                   "state must be strings")  # fmt: skip
        try:
            key = NewKey.parse(raw["recipient"], name=raw["name"], signing_key=raw["signing_key"])
            state = KeyStatus(raw["state"])
        except (MalformedKeyError, ValueError) as exc:
            raise KeyringFileError(f"{where}: {exc}") from exc
        if raw["fingerprint"] != key.fingerprint:
            raise KeyringFileError(f"{where}: the fingerprint is not that of the recipient")
        added_on = _day(raw["added_on"], "added_on", where)
        if added_on is None:
            raise KeyringFileError(f"{where}: added_on is required")
        entry = cls(
            fingerprint=key.fingerprint,
            name=key.name,
            recipient=key.recipient,
            verify_key=key.verify_key,
            signing_key_text=key.signing_key_text,
            state=state,
            added_on=added_on,
            retired_on=_day(raw["retired_on"], "retired_on", where),
            revoked_on=_day(raw["revoked_on"], "revoked_on", where),
        )
        entry.check_days(where)
        return entry

    def check_days(self, where: str) -> None:
        """Refuse days that contradict the state. Raises KeyringFileError."""
        if self.state is KeyStatus.ACTIVE and (self.retired_on or self.revoked_on):
            raise KeyringFileError(f"{where}: an active key has no retired_on or revoked_on")
        if self.state is KeyStatus.RETIRED and (not self.retired_on or self.revoked_on):
            raise KeyringFileError(f"{where}: a retired key has retired_on and no revoked_on")
        if self.state is KeyStatus.REVOKED and not self.revoked_on:
            raise KeyringFileError(f"{where}: a revoked key has revoked_on")

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "name": self.name,
            "recipient": str(self.recipient),
            "signing_key": self.signing_key_text,
            "state": self.state.value,
            "added_on": self.added_on.isoformat(),
            "retired_on": self.retired_on.isoformat() if self.retired_on else None,
            "revoked_on": self.revoked_on.isoformat() if self.revoked_on else None,
        }


def _check_unique(keys: tuple[KeyEntry, ...]) -> None:
    for attr in ("fingerprint", "recipient"):
        values = [str(getattr(k, attr)) for k in keys]
        if len(set(values)) != len(values):
            raise KeyringFileError(f"two entries have the same {attr}")
    # A rotation may keep the minisign key, so only active keys must have distinct ones: an
    # ack must resolve to one active investigator.
    active_ids = [k.verify_key.key_id for k in keys if k.state is KeyStatus.ACTIVE]
    if len(set(active_ids)) != len(active_ids):
        raise KeyringFileError("two active entries have the same minisign key")


@dataclass(frozen=True)
class KeyringFile:
    """The whole keyring file, valid by construction (build it with `parse` or `empty`)."""

    keys: tuple[KeyEntry, ...]

    @classmethod
    def empty(cls) -> KeyringFile:
        return cls(())

    @classmethod
    def from_entries(cls, keys: tuple[KeyEntry, ...]) -> KeyringFile:
        """A keyring of `keys` after the same checks `parse` makes (each entry's days, and
        across entries), so nothing is written that would not read back."""
        for number, entry in enumerate(keys):
            entry.check_days(f"keys[{number}]")
        _check_unique(keys)
        return cls(keys)

    @classmethod
    def parse(cls, data: bytes) -> KeyringFile:
        """Parse the file's bytes. Raises KeyringFileError saying what is wrong."""
        if len(data) > MAX_KEYRING_BYTES:
            raise KeyringFileError(f"the keyring file is larger than {MAX_KEYRING_BYTES} bytes")
        try:
            raw = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
        except (UnicodeDecodeError, ValueError) as exc:
            raise KeyringFileError(f"the keyring file is not JSON: {exc}") from exc
        if not isinstance(raw, dict) or set(raw) != {"version", "keys"}:
            raise KeyringFileError('the keyring file is an object with "version" and "keys"')
        if raw["version"] != FORMAT_VERSION:
            raise KeyringFileError(f"unsupported keyring file version {raw['version']!r}")
        if not isinstance(raw["keys"], list):
            raise KeyringFileError('"keys" must be a list')
        return cls.from_entries(tuple(KeyEntry.parse(e, i) for i, e in enumerate(raw["keys"])))

    def to_json(self) -> bytes:
        """The file's bytes (what `parse` reads back to an equal KeyringFile)."""
        body = {"version": FORMAT_VERSION, "keys": [k.to_json() for k in self.keys]}
        return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    def get(self, fingerprint: str) -> KeyEntry | None:
        return next((k for k in self.keys if k.fingerprint == fingerprint), None)

    def in_state(self, state: KeyStatus) -> tuple[KeyEntry, ...]:
        return tuple(k for k in self.keys if k.state is state)

    @property
    def active(self) -> tuple[KeyEntry, ...]:
        """The active keys, by fingerprint (the order new headers list them in)."""
        return tuple(sorted(self.in_state(KeyStatus.ACTIVE), key=lambda k: k.fingerprint))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> Mapping[str, Any]:
    # json keeps the last of two equal names silently; in a security file that is a forgery.
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError("a JSON object repeats a name")
    return dict(pairs)
