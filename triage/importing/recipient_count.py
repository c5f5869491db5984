"""Counting the recipients of what an import opened: more stanzas than the team, or a stanza of
another type, means the server sealed a submission to someone besides the team.

An X25519 stanza does not name its recipient, so this catches an *added* recipient (a row slipped
into the server's keyring, a tampered server), not a *substituted* one: a stanza that replaced a
team member's is caught only by that member, who can no longer open new testimony (SECURITY.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from crypto.errors import HeaderError
from crypto.header import Header
from crypto.keyfile import fingerprint
from crypto.x25519 import STANZA_TYPE, X25519Recipient
from protocol.meta.export import ExportKey
from triage.custody.log import EntrySpec
from triage.importing.scan import ScanResult, SubmissionResult
from triage.keys.team import Team

__all__ = ["Extra", "RecipientCheck", "check_recipients", "keyring_warnings"]


@dataclass(frozen=True)
class Extra:
    """One stanza beyond the team's count, or of a type the team does not use."""

    submission_id: str
    item: str
    position: int  # 1-based, in the header's order
    stanza_type: str

    def describe(self, team_size: int) -> str:
        if self.stanza_type != STANZA_TYPE:
            why = f"a {self.stanza_type!r} stanza (the team uses X25519 keys only)"
        else:
            why = f"more X25519 stanzas than the team's {team_size} keys"
        return f"{self.item}: stanza {self.position} is {why}"


def _stanza_types(path: Path) -> list[str]:
    with path.open("rb") as stream:
        header, _covered = Header.parse(stream)
    return [stanza.type for stanza in header.stanzas]


def _extras(submission_id: str, item: str, path: Path, team_size: int) -> Iterator[Extra]:
    try:
        types = _stanza_types(path)
    except HeaderError:  # pragma: no cover - the file was opened with this header moments ago
        yield Extra(submission_id, item, 0, "unparseable header")
        return
    count = 0
    for position, kind in enumerate(types, start=1):
        count += kind == STANZA_TYPE
        if kind != STANZA_TYPE or count > team_size:
            yield Extra(submission_id, item, position, kind)


def _sealed_files(scan: ScanResult, result: SubmissionResult) -> Iterator[tuple[str, Path]]:
    """(item, staged path) of the submission.json and each file of it staged by this import."""
    if result.staged is not None:
        yield result.item, result.staged
    if result.submission is None:
        return
    for entry in result.submission.files:
        blob = scan.blobs.get(entry.blob_name)
        if blob is not None and blob.staged is not None:
            yield blob.item, blob.staged


@dataclass
class RecipientCheck:
    """What the count decided: submissions refused, and overrides to log (and show)."""

    refused: list[str]
    accepted: list[EntrySpec]


def check_recipients(scan: ScanResult, team_size: int, accept_reason: str | None) -> RecipientCheck:
    """Refuse each opened submission with extra stanzas (marked invalid: not imported, not
    acked, so the server keeps it), unless `accept_reason` is given; then it is imported and
    the override is returned as custody entries to log."""
    check = RecipientCheck([], [])
    for result in scan.submissions:
        if result.state != "opened" or result.submission_id is None:
            continue
        extras = [
            extra
            for item, path in _sealed_files(scan, result)
            for extra in _extras(result.submission_id, item, path, team_size)
        ]
        if not extras:
            continue
        told = "; ".join(extra.describe(team_size) for extra in extras)
        if accept_reason is None:
            result.state = "invalid"
            result.detail = f"sealed to someone besides the team: {told}"
            check.refused.append(result.submission_id)
            continue
        details = {"reason": accept_reason, "stanzas": told, "team_size": team_size}
        check.accepted.append(
            EntrySpec("accepted_extra_recipient", "submission", result.submission_id, None, details)
        )
    return check


def keyring_warnings(keyring: tuple[ExportKey, ...], team: Team) -> list[str]:
    """How the keys the server says it seals to (an export's keyring, version 2 on) differ
    from the team's list. Warnings only: the stanza count above is what decides, since
    whoever adds a recipient on the server can also leave it out of this list."""
    if not keyring:
        return []  # a version 1 export says nothing about the server's keys
    active = {k.recipient: k for k in keyring if k.state == "active"}
    team_keys = {str(m.recipient): m for m in team.members}
    warnings = [
        f"the server seals to {fingerprint_of(r)} ({key.name}), which is not in your team: "
        "check it with the admin, then 'triage team add' it"
        for r, key in sorted(active.items())
        if r not in team_keys
    ]
    warnings += [
        f"your team's {member.fingerprint} ({member.name}) is not an active key on the server"
        for r, member in sorted(team_keys.items())
        if r not in active
    ]
    return warnings


def fingerprint_of(recipient: str) -> str:
    return fingerprint(X25519Recipient.parse(recipient))
