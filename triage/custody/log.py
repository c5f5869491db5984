"""The custody log: append-only JSON Lines, each entry hash-chained to the one before it.

entry_hash = SHA-256(prev_hash || canonical JSON of the entry without entry_hash), hex.
Checkpoint entries carry a minisign signature over a short text naming the chain head, so a
rewritten history is detected up to the last checkpoint even by someone who can rewrite files.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "GENESIS",
    "Actor",
    "CustodyLog",
    "EntrySpec",
    "canonical",
    "checkpoint_text",
    "entry_hash",
]

GENESIS = "0" * 64
FIELDS = (
    "seq", "ts_utc", "actor_key_fpr", "action", "object_type", "object_id", "object_sha256",
    "details", "tool", "tool_version", "host_id", "prev_hash", "entry_hash",
)  # fmt: skip
_TAIL = 1 << 16  # an entry is a few hundred bytes; 64 KiB from the end holds the last one


def canonical(value: object) -> bytes:
    """Sorted keys, no spaces, UTF-8 kept as is: the bytes that are hashed."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def entry_hash(entry: Mapping[str, Any]) -> str:
    body = {key: value for key, value in entry.items() if key != "entry_hash"}
    return hashlib.sha256(str(entry["prev_hash"]).encode("ascii") + canonical(body)).hexdigest()


def checkpoint_text(workspace_id: str, seq: int, head: str) -> str:
    """What a checkpoint signs: the workspace, and the seq and hash of the entry before it."""
    return f"triage custody checkpoint\nworkspace {workspace_id}\nseq {seq}\nhead {head}\n"


@dataclass(frozen=True)
class Actor:
    """Who acts, with what, where: the constant part of every entry."""

    fingerprint: str
    tool_version: str
    host_id: str  # the workspace's random id: names the store, never the machine


@dataclass(frozen=True)
class EntrySpec:
    """One entry to append (seq, time and hashes are filled in by the log)."""

    action: str
    object_type: str
    object_id: str
    object_sha256: str | None = None
    details: Mapping[str, Any] | None = None


class CustodyLog:
    """Appends entries under an exclusive lock; never rewrites a byte already written."""

    def __init__(self, path: Path, actor: Actor) -> None:
        self.path = path
        self.actor = actor

    def append(self, spec: EntrySpec) -> dict[str, Any]:
        return self.append_many([spec])[-1]

    def append_many(self, specs: Sequence[EntrySpec]) -> list[dict[str, Any]]:
        """Append entries in order, in one write, and fsync. Returns them as written."""
        return self.append_built(lambda _seq, _head: specs)

    def append_built(
        self, build: Callable[[int, str], Sequence[EntrySpec]]
    ) -> list[dict[str, Any]]:
        """Like append_many, with the entries built from the current (seq, head) under the lock
        (a checkpoint signs the head it follows)."""
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "r+b") as log:
            fcntl.flock(log.fileno(), fcntl.LOCK_EX)
            seq, prev = _last(log)
            specs = build(seq, prev)
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            entries, lines = [], []
            for spec in specs:
                seq += 1
                entry = self._entry(spec, seq, now, prev)
                prev = entry["entry_hash"]
                entries.append(entry)
                lines.append(canonical(entry) + b"\n")
            log.write(b"".join(lines))
            log.flush()
            os.fsync(log.fileno())
        return entries

    def _entry(self, spec: EntrySpec, seq: int, now: str, prev: str) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "seq": seq,
            "ts_utc": now,
            "actor_key_fpr": self.actor.fingerprint,
            "action": spec.action,
            "object_type": spec.object_type,
            "object_id": spec.object_id,
            "object_sha256": spec.object_sha256,
            "details": dict(spec.details or {}),
            "tool": "triage",
            "tool_version": self.actor.tool_version,
            "host_id": self.actor.host_id,
            "prev_hash": prev,
        }
        entry["entry_hash"] = entry_hash(entry)
        return entry

    def head(self) -> tuple[int, str]:
        """The last entry's seq and hash ((0, GENESIS) for an empty log)."""
        with self.path.open("rb") as log:
            return _last(log)

    def entries(self) -> Iterator[tuple[int, bytes]]:
        """(line number, raw line) for every line, as stored."""
        with self.path.open("rb") as log:
            yield from enumerate(log, start=1)


def _last(log: Any) -> tuple[int, str]:
    end = log.seek(0, os.SEEK_END)
    if end == 0:
        return 0, GENESIS
    log.seek(max(0, end - _TAIL))
    tail = log.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    try:
        last = json.loads(tail)
        return int(last["seq"]), str(last["entry_hash"])
    except (ValueError, KeyError, TypeError):
        # Appending after a damaged line would hide the damage behind a valid-looking tail.
        from triage.errors import workspace_error  # noqa: PLC0415 - only on this path

        raise workspace_error(
            "the custody log's last line is damaged; refusing to append to it",
            "run 'triage log verify' to find the first broken line",
        ) from None
