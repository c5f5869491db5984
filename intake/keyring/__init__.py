"""The investigator keyring: a root-owned file the service reads and never writes.

`file` is the format (frozen, strictly parsed), `store` reads it and replaces it atomically,
`edit` holds the admin's changes as pure functions, `service` is what the site and the
transfer commands read, and `cache` keeps the database's copy (never believed) in step.
"""

from intake.keyring.edit import (
    KeyChange,
    add_key,
    add_to_file,
    find_key,
    merge_exported,
    retire_key,
    revoke_key,
    rotate_key,
)
from intake.keyring.file import KeyEntry, KeyringFile, KeyringFileError
from intake.keyring.service import KeyInfo, Keyring, SigningKeyEntry, fingerprint_set_digest
from intake.keyring.store import (
    KEYRING_FILE_MODE,
    edit_keyring_file,
    read_keyring_bytes,
    read_keyring_file,
)
from intake.newkey import NewKey

__all__ = [
    "KEYRING_FILE_MODE",
    "KeyChange",
    "KeyEntry",
    "KeyInfo",
    "Keyring",
    "KeyringFile",
    "KeyringFileError",
    "NewKey",
    "SigningKeyEntry",
    "add_key",
    "add_to_file",
    "edit_keyring_file",
    "find_key",
    "fingerprint_set_digest",
    "merge_exported",
    "read_keyring_bytes",
    "read_keyring_file",
    "retire_key",
    "revoke_key",
    "rotate_key",
]
