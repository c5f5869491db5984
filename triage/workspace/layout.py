"""Where a workspace keeps things, its workspace.json, and the permission rule it enforces."""

from __future__ import annotations

import json
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.errors import workspace_error

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["CONFIG_NAME", "Workspace", "WorkspaceConfig", "check_private", "create_workspace"]

CONFIG_NAME = "workspace.json"
_SUBDIRS = ("blobs", "replies", "acks", "tmp")
SCHEMA_VERSION = 1
_KEYS = {"version", "workspace_id", "identity", "recipient", "fingerprint", "verify_key", "created"}


def check_private(path: Path) -> None:
    """Refuse a directory that group or others may enter: it holds opened testimony."""
    mode = path.stat().st_mode
    if not stat.S_ISDIR(mode):
        raise workspace_error(f"{path} is not a directory")
    if mode & 0o077:
        raise workspace_error(
            f"{path} can be read by other users (mode {stat.S_IMODE(mode):04o})",
            f"run 'chmod 700 {path}' (and keep the workspace on an encrypted volume)",
        )


@dataclass(frozen=True)
class WorkspaceConfig:
    """workspace.json: the identity this workspace uses by default, and its public halves, so
    commands that need no secret can still name the investigator in the custody log."""

    workspace_id: str
    identity: Path
    recipient: str
    fingerprint: str
    verify_key: str  # minisign public key file text
    created: str
    version: int = SCHEMA_VERSION

    @classmethod
    def from_json(cls, data: bytes, source: Path) -> WorkspaceConfig:
        try:
            doc: dict[str, Any] = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise workspace_error(f"{source} is not valid JSON") from None
        if not isinstance(doc, dict) or set(doc) != _KEYS or doc["version"] != SCHEMA_VERSION:
            raise workspace_error(f"{source} is not a workspace file this version understands")
        return cls(
            workspace_id=str(doc["workspace_id"]),
            identity=Path(str(doc["identity"])),
            recipient=str(doc["recipient"]),
            fingerprint=str(doc["fingerprint"]),
            verify_key=str(doc["verify_key"]),
            created=str(doc["created"]),
        )

    def to_json(self) -> bytes:
        doc = {
            "version": self.version,
            "workspace_id": self.workspace_id,
            "identity": str(self.identity),
            "recipient": self.recipient,
            "fingerprint": self.fingerprint,
            "verify_key": self.verify_key,
            "created": self.created,
        }
        return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Workspace:
    """An opened workspace directory (checked private, config read)."""

    root: Path
    config: WorkspaceConfig

    @property
    def db_path(self) -> Path:
        return self.root / "triage.sqlite"

    @property
    def log_path(self) -> Path:
        return self.root / "custody.jsonl"

    def dir(self, name: str) -> Path:
        """One of the workspace's folders: blobs, replies, acks, tmp."""
        if name not in _SUBDIRS:
            raise ValueError(name)
        return self.root / name

    @classmethod
    def open(cls, root: Path) -> Workspace:
        """Open the workspace at `root`. Raises TriageError when it is missing or not private."""
        config_path = root / CONFIG_NAME
        if not config_path.is_file():
            raise workspace_error(
                f"{root} is not a triage workspace (no {CONFIG_NAME})",
                "create one with 'triage init WORKSPACE --identity IDENTITY', or pass "
                "--workspace / set TRIAGE_WORKSPACE",
            )
        check_private(root)
        return cls(root, WorkspaceConfig.from_json(config_path.read_bytes(), config_path))

    def engine(self) -> Engine:
        """The SQLite engine, with foreign keys enforced and deleted rows overwritten."""
        from sqlalchemy import create_engine, event  # noqa: PLC0415 - `list` does without

        engine = create_engine(f"sqlite:///{self.db_path}")

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine


def _private_file(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def create_workspace(
    root: Path, *, identity: Path, recipient: str, fingerprint: str, verify_key: str
) -> Workspace:
    """Make a new workspace at `root` (created 0700, or an existing empty private directory)."""
    if root.exists():
        check_private(root)
        if any(root.iterdir()):
            raise workspace_error(f"{root} is not empty", "give a new or empty directory")
    else:
        root.mkdir(mode=0o700, parents=True)
        root.chmod(0o700)  # mkdir's mode is masked by the umask
    config = WorkspaceConfig(
        workspace_id=secrets.token_hex(8),
        identity=identity.resolve(),
        recipient=recipient,
        fingerprint=fingerprint,
        verify_key=verify_key,
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    for name in _SUBDIRS:
        (root / name).mkdir(mode=0o700)
    workspace = Workspace(root, config)
    _private_file(workspace.db_path, b"")
    _private_file(workspace.log_path, b"")
    from triage.workspace.models import Base  # noqa: PLC0415 - see Workspace.engine

    engine = workspace.engine()
    Base.metadata.create_all(engine)
    engine.dispose()
    _private_file(root / CONFIG_NAME, config.to_json())  # last: its presence means "complete"
    return workspace
