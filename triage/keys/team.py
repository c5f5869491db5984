"""The team's age recipients, kept in the workspace: what `triage import` counts stanzas against.

An age X25519 stanza does not name its recipient, so the laptop cannot tell which key a stanza
is for; it can count them. The team list says how many investigators the server should seal to;
a submission with more stanzas (or a stanza of another type) was sealed to someone else as well.
Without a list, the team is this workspace's own key alone.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from crypto.errors import KeyFormatError
from crypto.keyfile import fingerprint
from crypto.x25519 import X25519Recipient
from triage.errors import refused
from triage.workspace.layout import Workspace

__all__ = ["TEAM_NAME", "Member", "Team", "load_team", "save_team"]

TEAM_NAME = "team.json"
_MAX_TEAM_BYTES = 1 << 20


@dataclass(frozen=True)
class Member:
    """One investigator of the team: an age recipient and a name for people."""

    recipient: X25519Recipient
    name: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.recipient)

    @classmethod
    def parse(cls, recipient: str, name: str) -> Member:
        """Raises TriageError when `recipient` is not an age X25519 recipient."""
        try:
            parsed = X25519Recipient.parse(recipient.strip())
        except KeyFormatError:
            raise refused(f"{recipient[:80]!r} is not an age recipient (age1…)") from None
        return cls(parsed, " ".join(name.split()) or "investigator")


@dataclass(frozen=True)
class Team:
    """The team's members, each recipient once."""

    members: tuple[Member, ...]

    def __len__(self) -> int:
        return len(self.members)

    def recipients(self) -> frozenset[str]:
        return frozenset(str(m.recipient) for m in self.members)

    def with_member(self, member: Member) -> Team:
        if str(member.recipient) in self.recipients():
            raise refused(f"{member.fingerprint} is already in the team")
        return Team((*self.members, member))

    def without(self, key: str) -> Team:
        """The team without the member whose recipient or fingerprint is `key`."""
        kept = tuple(
            m for m in self.members if key.strip() not in (str(m.recipient), m.fingerprint)
        )
        if len(kept) == len(self.members):
            raise refused(f"{key[:80]!r} is not in the team", "see 'triage team list'")
        if not kept:
            raise refused("the team cannot be empty", "add the new member before removing one")
        return Team(kept)

    def to_json(self) -> bytes:
        rows = [{"recipient": str(m.recipient), "name": m.name} for m in self.members]
        return (json.dumps({"team": rows}, ensure_ascii=False, indent=2) + "\n").encode()

    @classmethod
    def parse(cls, data: bytes, source: Path) -> Team:
        """Raises TriageError when the file is not a team list."""
        try:
            rows = json.loads(data)["team"]
            members = tuple(Member.parse(row["recipient"], row["name"]) for row in rows)
        except (ValueError, KeyError, TypeError):
            raise refused(
                f"{source} is not a team list", "remove it and add the team again"
            ) from None
        if not members or len({str(m.recipient) for m in members}) != len(members):
            raise refused(f"{source} lists no one, or someone twice")
        return cls(members)


def load_team(workspace: Workspace) -> Team:
    """The team list of `workspace`; without one, the workspace's own key alone."""
    path = workspace.root / TEAM_NAME
    if not path.exists():
        return Team((Member.parse(workspace.config.recipient, "this workspace"),))
    with path.open("rb") as stream:
        return Team.parse(stream.read(_MAX_TEAM_BYTES + 1), path)


def save_team(workspace: Workspace, team: Team) -> None:
    """Write the team list atomically, private to this user like the rest of the workspace."""
    path = workspace.root / TEAM_NAME
    temp = path.with_name(f".{TEAM_NAME}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(team.to_json())
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, path)
