"""The data directory: private permissions, the session secret key, blob store and schema."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from intake.blobstore import LocalBlobStore
from intake.config import Config
from intake.errors import ConfigError
from intake.schema import SchemaStatus, schema_status, upgrade_to_head

__all__ = [
    "InitReport",
    "create_secret_key",
    "ensure_private_dir",
    "init_data_dir",
    "is_private",
    "read_secret_key",
]

_log = logging.getLogger(__name__)
SECRET_KEY_BYTES = 32


def is_private(path: Path) -> bool:
    """No permission bit for group or others (0700 directories, 0600 files)."""
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def ensure_private_dir(path: Path) -> tuple[bool, bool]:
    """Create `path` (and parents) with mode 0700, or tighten it; returns (created, tightened)."""
    created = not path.exists()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        tightened = not created and not is_private(path)
        os.chmod(path, 0o700)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the directory {path}: {exc.strerror}",
            hint="run as the service user, or create it: install -d -m 0700 DIR",
        ) from exc
    return created, tightened


def create_secret_key(path: Path) -> bool:
    """Create the session-signing key (mode 0600, exclusive); returns False if it existed.

    An existing key is never overwritten: that would log out every witness mid-upload.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise ConfigError(f"cannot create the secret key {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(SECRET_KEY_BYTES) + "\n")
    return True


def read_secret_key(path: Path) -> str:
    """The session-signing key. Raises ConfigError when missing or too short.

    A key readable by others is used (refusing would take the site down after a careless
    restore) but logged; `intake doctor` reports it as a problem.
    """
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError as exc:
        raise ConfigError(
            f"the secret key file {path} does not exist", hint="run `intake init`"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the secret key file {path}") from exc
    if len(text) < 2 * SECRET_KEY_BYTES:
        raise ConfigError(
            f"the secret key in {path} is too short",
            hint="delete it and run `intake init` to make a new one (this logs everyone out)",
        )
    if not is_private(path):
        _log.warning("the secret key file is readable by others; run `chmod 600` on it")
    return text


@dataclass(frozen=True)
class InitReport:
    """What `intake init` did (each step is skipped when already done)."""

    data_dir_created: bool
    data_dir_tightened: bool
    secret_key_created: bool
    schema_before: SchemaStatus
    schema_after: SchemaStatus


def _tighten_sqlite_files(engine: Engine) -> None:
    """The SQLite file and its WAL/SHM companions readable by the service user only."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database:
        return
    for suffix in ("", "-wal", "-shm"):
        companion = Path(database + suffix)
        if companion.exists():
            os.chmod(companion, 0o600)


def init_data_dir(config: Config, engine: Engine) -> InitReport:
    """Create the data directory (0700), the secret key (0600), the blob store and the schema.

    Idempotent. Raises ConfigError, StorageError or DatabaseError naming what failed.
    """
    created, tightened = ensure_private_dir(config.data_dir)
    key_created = create_secret_key(config.secret_key_file)
    LocalBlobStore(config.blob_dir).ensure_dirs()
    before = upgrade_to_head(engine)
    _tighten_sqlite_files(engine)
    return InitReport(
        data_dir_created=created,
        data_dir_tightened=tightened,
        secret_key_created=key_created,
        schema_before=before,
        schema_after=schema_status(engine),
    )
