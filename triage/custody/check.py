"""Custody log checkpoints (minisign-signed chain heads) and `triage log verify`."""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crypto.errors import SignatureError
from crypto.minisign import SigningKey, VerifyKey, find_key, sign, verify
from triage.custody.log import FIELDS, GENESIS, CustodyLog, EntrySpec, checkpoint_text, entry_hash

__all__ = ["LogReport", "verify_log", "write_checkpoint"]


def write_checkpoint(
    log: CustodyLog, signing_key: SigningKey, workspace_id: str, reason: str
) -> dict[str, Any]:
    """Append a checkpoint entry signing the current head. Returns the entry."""

    def build(seq: int, head: str) -> list[EntrySpec]:
        text = checkpoint_text(workspace_id, seq, head)
        comment = f"triage custody checkpoint seq={seq} head={head}"
        signature = sign(text.encode("ascii"), signing_key, trusted_comment=comment)
        details = {
            "signed_seq": seq,
            "reason": reason,
            "key_id": signing_key.verify_key().key_id_hex,
            "signature": signature,
        }
        return [EntrySpec("checkpoint", "custody_log", workspace_id, head, details)]

    return log.append_built(build)[-1]


@dataclass(frozen=True)
class LogReport:
    """What `triage log verify` found: counts, the head, and the first broken line if any."""

    entries: int
    checkpoints: int
    head_seq: int
    head_hash: str
    broken_line: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_line is None


def _check_entry(
    raw: bytes, line: int, prev: str, keys: Sequence[VerifyKey], workspace_id: str
) -> str:
    """The entry's own problem, or "" when it is sound."""
    entry = _parse(raw)
    if entry is None:
        return "not a custody entry (not JSON, or fields missing or added)"
    checks = (
        (
            entry["seq"] == line,
            f"seq is {entry['seq']!r}, expected {line} (lines removed or added)",
        ),
        (entry["prev_hash"] == prev, "prev_hash does not match the entry before it"),
        (
            hmac.compare_digest(str(entry["entry_hash"]), entry_hash(entry)),
            "entry_hash does not match the entry's content (this line was altered)",
        ),
    )
    for ok, problem in checks:
        if not ok:
            return problem
    if entry["action"] == "checkpoint":
        return _check_checkpoint(entry, keys, workspace_id)
    return ""


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        entry = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(entry, dict) or sorted(entry) != sorted(FIELDS):
        return None
    return entry


def _check_checkpoint(entry: dict[str, Any], keys: Sequence[VerifyKey], workspace_id: str) -> str:
    details = entry["details"]
    if not isinstance(details, dict) or not isinstance(details.get("signature"), str):
        return "checkpoint without a signature"
    text = checkpoint_text(workspace_id, entry["seq"] - 1, entry["prev_hash"])
    try:
        key = find_key(details["signature"], keys)
        verify(details["signature"], text.encode("ascii"), key)
    except SignatureError as exc:
        return f"checkpoint signature does not verify: {exc}"
    return ""


def verify_log(log: CustodyLog, keys: Sequence[VerifyKey], workspace_id: str) -> LogReport:
    """Walk the whole chain; stop at the first line that is not sound."""
    prev, count, checkpoints = GENESIS, 0, 0
    for line, raw in log.entries():
        problem = _check_entry(raw, line, prev, keys, workspace_id)
        if problem:
            return LogReport(count, checkpoints, count, prev, line, problem)
        entry = json.loads(raw)
        prev, count = entry["entry_hash"], line
        checkpoints += entry["action"] == "checkpoint"
    return LogReport(count, checkpoints, count, prev)
