"""The server's frozen, typed configuration, read from the environment by a pure function."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from intake.errors import ConfigError

__all__ = [
    "DEFAULT_BIND",
    "DEFAULT_KEYRING_FILE",
    "ENV_KEYS",
    "Config",
    "Limits",
    "is_loopback_bind",
    "load_config",
    "normalise_database_url",
]

GIB = 1024**3
KIB = 1024
DEFAULT_BIND = "127.0.0.1:8080"
# Root-owned and outside the data directory: the service user must not be able to change who
# an investigator is (deploy/README.md, SECURITY.md).
DEFAULT_KEYRING_FILE = Path("/etc/intake/keyring.json")

_T = TypeVar("_T")


@dataclass(frozen=True)
class Limits:
    """Size and rate limits; every one has a documented environment variable (docs/config.md)."""

    # 4.5 GiB: a witness's phone or drone video is 0.5-4 GB (decimal), plus the answers; over
    # an onion circuit (0.2-1 MB/s) 4.5 GiB is 1.3 to 6.5 hours. No separate per-file limit:
    # one file may fill the whole request, and the form says so before the upload starts.
    max_request_bytes: int = 9 * GIB // 2
    max_files: int = 20
    # Per text part, in bytes (Werkzeug counts bytes): 256 KiB is ~100 pages of Cyrillic text.
    max_field_bytes: int = 256 * KIB
    # All text parts together; the files are not counted here.
    max_text_bytes: int = 1024 * KIB
    # Werkzeug parses every part it is sent; the form has ~100 inputs, so 500 is generous.
    max_form_parts: int = 500
    # Each codename KDF holds 64 MiB; this semaphore size bounds the memory a flood can take
    # (per worker process). There is no global attempt budget: one counter for everybody let
    # anyone lock every returning witness out; the front bounds attempts per Tor circuit.
    kdf_concurrency: int = 2
    pending_draft_ttl_hours: int = 24

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            if getattr(self, name) < 1:
                raise ConfigError(f"limit {name} must be at least 1")


@dataclass(frozen=True)
class Config:
    """Everything the app and the CLI need to know, valid by construction (see `load_config`)."""

    data_dir: Path
    database_url: str
    secret_key_file: Path
    blob_dir: Path
    bind: str = DEFAULT_BIND
    limits: Limits = field(default_factory=Limits)
    keyring_file: Path = DEFAULT_KEYRING_FILE
    # The uid `intake doctor` expects to own the keyring file: root in production; tests and
    # the demo set their own uid, so the check runs (both ways) without root.
    keyring_owner_uid: int = 0

    @classmethod
    def for_data_dir(cls, data_dir: Path, **overrides: object) -> Config:
        """The defaults for a data directory (tests and `intake.demo` use this)."""
        return load_config({"INTAKE_DATA_DIR": str(data_dir)}).replace(**overrides)

    def replace(self, **changes: object) -> Config:
        """A copy with some fields changed (dataclasses.replace, typed for callers)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _int(raw: str) -> int:
    return int(raw.replace("_", ""))


def _path(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_absolute():
        # The app runs under gunicorn and systemd with a working directory we do not control.
        path = path.absolute()
    return path


def _get(environ: Mapping[str, str], key: str, parse: Callable[[str], _T], default: _T) -> _T:
    raw = environ.get(key, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{key} is invalid: {raw!r}", hint=ENV_KEYS[key]) from exc


def normalise_database_url(url: str) -> str:
    """PostgreSQL URLs always use psycopg 3 (`postgresql+psycopg://`), whatever was written."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("sqlite://", "postgresql+psycopg://")):
        return url
    raise ConfigError(
        f"unsupported database url scheme: {url.split(':', 1)[0]}",
        hint="use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
    )


_LIMIT_KEYS = {
    "INTAKE_MAX_REQUEST_BYTES": "max_request_bytes",
    "INTAKE_MAX_FILES": "max_files",
    "INTAKE_MAX_FIELD_BYTES": "max_field_bytes",
    "INTAKE_MAX_TEXT_BYTES": "max_text_bytes",
    "INTAKE_MAX_FORM_PARTS": "max_form_parts",
    "INTAKE_KDF_CONCURRENCY": "kdf_concurrency",
    "INTAKE_PENDING_DRAFT_TTL_HOURS": "pending_draft_ttl_hours",
}

# Every key `load_config` reads, with its one-line meaning; docs/config.md documents each one
# (a test checks), and a ConfigError's hint repeats it.
ENV_KEYS: dict[str, str] = {
    "INTAKE_DATA_DIR": "the data directory (required): database, secret key and blobs",
    "INTAKE_DATABASE_URL": "sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
    "INTAKE_SECRET_KEY_FILE": "the session-signing key file, mode 0600",
    "INTAKE_BLOB_DIR": "the blob store root (a shared directory on multi-host setups)",
    "INTAKE_BIND": "HOST:PORT for gunicorn, loopback only",
    "INTAKE_KEYRING_FILE": "the investigator keyring file, root-owned, mode 0644",
    "INTAKE_KEYRING_OWNER_UID": "the uid that must own the keyring file (default 0, root)",
    "INTAKE_MAX_REQUEST_BYTES": "largest request body in bytes",
    "INTAKE_MAX_FILES": "most files in one submission",
    "INTAKE_MAX_FIELD_BYTES": "largest text field in bytes",
    "INTAKE_MAX_TEXT_BYTES": "all text fields of one submission together, in bytes",
    "INTAKE_MAX_FORM_PARTS": "most multipart parts in one request",
    "INTAKE_KDF_CONCURRENCY": "codename derivations running at once",
    "INTAKE_PENDING_DRAFT_TTL_HOURS": "hours a pending draft's sealed files are kept",
}


def load_config(environ: Mapping[str, str]) -> Config:
    """Build a Config from environment variables; pure (reads no file, touches no disk).

    Raises ConfigError naming the variable when one is missing or malformed.
    """
    raw_dir = environ.get("INTAKE_DATA_DIR", "").strip()
    if not raw_dir:
        raise ConfigError(
            "the data directory is not set",
            hint="pass --data-dir DIR or set INTAKE_DATA_DIR",
        )
    data_dir = _path(raw_dir)
    default_db = f"sqlite:///{data_dir / 'intake.sqlite3'}"
    limits = Limits(
        **{
            attr: _get(environ, key, _int, getattr(Limits, attr))
            for key, attr in _LIMIT_KEYS.items()
        }
    )
    return Config(
        data_dir=data_dir,
        database_url=normalise_database_url(_get(environ, "INTAKE_DATABASE_URL", str, default_db)),
        secret_key_file=_get(environ, "INTAKE_SECRET_KEY_FILE", _path, data_dir / "secret_key"),
        blob_dir=_get(environ, "INTAKE_BLOB_DIR", _path, data_dir / "store"),
        bind=_get(environ, "INTAKE_BIND", str, DEFAULT_BIND),
        limits=limits,
        keyring_file=_get(environ, "INTAKE_KEYRING_FILE", _path, DEFAULT_KEYRING_FILE),
        keyring_owner_uid=_get(environ, "INTAKE_KEYRING_OWNER_UID", _int, 0),
    )


def is_loopback_bind(bind: str) -> bool:
    """True for a unix socket or a loopback HOST:PORT (the only binds the site may use)."""
    if bind.startswith("unix:"):
        return True
    address = bind.removeprefix("tcp://")
    bracketed = address.startswith("[")
    host = address[1 : address.find("]")] if bracketed else address.rsplit(":", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
