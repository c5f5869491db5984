"""A command's working context: the opened workspace, its database, custody log and keys.

crypto (and PyNaCl) is imported only when a key is first needed, and SQLAlchemy only when the
database is, so commands that need neither (`list` reads SQLite directly) start faster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.custody.log import Actor, CustodyLog, EntrySpec
from triage.workspace.layout import Workspace

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from crypto.minisign import SigningKey, VerifyKey
    from crypto.x25519 import X25519Identity
    from triage.keys.investigator import KeyPaths

__all__ = ["WorkContext", "tool_version"]

PassphraseSource = Callable[[], bytes]


def tool_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("testimony-intake")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass
class WorkContext:
    """Everything a workspace command needs; secrets are unlocked only when first asked for."""

    workspace: Workspace
    identity_path: Path
    passphrase: PassphraseSource
    overridden: bool = False
    _engine: Engine | None = field(default=None, repr=False)
    _identities: list[X25519Identity] | None = field(default=None, repr=False)
    _signing: SigningKey | None = field(default=None, repr=False)
    _version: str | None = field(default=None, repr=False)

    @classmethod
    def open(cls, root: Path, identity: Path | None, passphrase: PassphraseSource) -> WorkContext:
        """Open the workspace at `root`; `identity` overrides the one it remembers (-i)."""
        workspace = Workspace.open(root)
        path = identity if identity is not None else workspace.config.identity
        return cls(workspace, path, passphrase, overridden=identity is not None)

    @property
    def keys(self) -> KeyPaths:
        from triage.keys.investigator import KeyPaths

        return KeyPaths.beside(self.identity_path)

    def engine(self) -> Engine:
        if self._engine is None:
            from triage.workspace.models import MediaHash, MediaRecord

            self._engine = self.workspace.engine()
            # Tables added since the workspace was made (issue M's media) are created empty;
            # create_all checks first, so this only reads the schema when nothing is missing.
            tables = MediaRecord.metadata.tables
            added = [tables[MediaRecord.__tablename__], tables[MediaHash.__tablename__]]
            MediaRecord.metadata.create_all(self._engine, tables=added)
        return self._engine

    def session(self) -> Session:
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(self.engine(), expire_on_commit=False)()

    def identities(self) -> list[X25519Identity]:
        from triage.keys.investigator import load_identities

        if self._identities is None:
            self._identities = load_identities(self.identity_path, self.passphrase)
        return self._identities

    def fingerprint(self) -> str:
        """Who acts: the unlocked identity, else the one the workspace remembers."""
        if self._identities:
            from crypto.keyfile import fingerprint

            return fingerprint(self._identities[0].recipient())
        return self.workspace.config.fingerprint

    def signing_key(self) -> SigningKey:
        from triage.keys.investigator import load_signing_key

        if self._signing is None:
            self._signing = load_signing_key(self.keys.signing_key, self.passphrase)
        return self._signing

    def verify_keys(self) -> list[VerifyKey]:
        """The workspace's minisign key, and the overriding identity's when -i is given."""
        from crypto.minisign import VerifyKey

        keys = [VerifyKey.parse(self.workspace.config.verify_key)]
        if self.overridden and self.keys.verify_key.is_file():
            keys.append(VerifyKey.parse(self.keys.verify_key.read_text(encoding="ascii")))
        return keys

    def log(self) -> CustodyLog:
        if self._version is None:
            self._version = tool_version()
        actor = Actor(self.fingerprint(), self._version, self.workspace.config.workspace_id)
        return CustodyLog(self.workspace.log_path, actor)

    def record(self, action: str, object_type: str, object_id: str, **kw: Any) -> None:
        """Append one custody entry (object_sha256 and details as keywords)."""
        self.log().append(EntrySpec(action, object_type, object_id, **kw))

    def checkpoint(self, reason: str) -> dict[str, Any]:
        from triage.custody.check import write_checkpoint

        key = self.signing_key()
        return write_checkpoint(self.log(), key, self.workspace.config.workspace_id, reason)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
