"""What a witness can see again of each submission: a receipt record sealed to their reply key.

At commit, the files' names, plaintext sizes and SHA-256 are sealed (age, X25519) to the
witness's reply key only, and beside them the submission's consent entry: the consent given
with a testimony, or the change a consent change asks for, with the moment it was received.
Nothing is ever sealed again: the consent a testimony has now is computed at login from its
entries and those of the witness's changes, by the rule triage applies (protocol.consent).
The server holds ciphertext it cannot open: the reply key is derived from the codename at
login (intake.web.services.witness) and opens the records in memory for that one response.

age does not say who sealed a message, and the reply key is public to the server: anyone who
can write the database could seal a false record. Each record names its submission, and one
that names another (moved from another row) is shown as "could not be checked"; a record is
the server's claim all the same (SECURITY.md).

Each plaintext is padded to a multiple of `_PAD` bytes, so a record's length says little
about the names inside. After a purge the records live `RECORD_DAYS_AFTER_PURGE` more days
(intake.maintenance.sweep), then only counts and sizes remain.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from crypto.age import open_bytes, seal_bytes
from crypto.errors import CryptoError
from crypto.x25519 import X25519Identity, X25519Recipient
from intake.maintenance import RECORD_DAYS_AFTER_PURGE
from intake.models import SubmissionRecord
from protocol.entries import ConsentChange
from protocol.errors import ProtocolError

__all__ = [
    "RECORD_DAYS_AFTER_PURGE",
    "ConsentEntry",
    "OpenedRecord",
    "RecordFile",
    "RecordMismatchError",
    "open_record",
    "seal_consent",
    "seal_files",
]

_PAD = 256
_TIME = "%Y-%m-%dT%H:%M:%SZ"
_T = TypeVar("_T")


class RecordMismatchError(ValueError):
    """A record that opened but names another submission, or says nothing readable."""


@dataclass(frozen=True)
class RecordFile:
    """One file as it was received: its name, plaintext size and plaintext SHA-256."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ConsentEntry:
    """A submission's part in its witness's consent: a testimony's consent as given
    (`given`), or a consent change (`change`); `received_at` orders them (protocol.consent)."""

    received_at: datetime
    given: tuple[str, ...] = ()
    change: ConsentChange | None = None


@dataclass(frozen=True)
class OpenedRecord:
    """A record opened for one response; a part is None when none was kept.

    `unchecked` when a part did not open with the witness's key or names another submission.
    """

    files: tuple[RecordFile, ...] | None
    consent: ConsentEntry | None
    unchecked: bool = False


def _seal(document: object, reply_recipient: str) -> bytes:
    plain = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # JSON ignores trailing whitespace: spaces pad it without changing what it says.
    plain += b" " * (-len(plain) % _PAD)
    return seal_bytes(plain, [X25519Recipient.parse(reply_recipient)])


def seal_files(reply_recipient: str, submission_id: str, files: Sequence[RecordFile]) -> bytes:
    """The files' record of `submission_id`, sealed to the reply key alone."""
    listed = [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in files]
    return _seal({"submission_id": submission_id, "files": listed}, reply_recipient)


def seal_consent(reply_recipient: str, submission_id: str, entry: ConsentEntry) -> bytes:
    """The consent entry of `submission_id`, sealed to the reply key alone."""
    document: dict[str, object] = {
        "submission_id": submission_id,
        "received_at": entry.received_at.strftime(_TIME),
        "given": list(entry.given),
    }
    if entry.change is not None:
        document["change"] = entry.change.to_dict()
    return _seal(document, reply_recipient)


def _document(plain: bytes, submission_id: str) -> dict[str, Any]:
    data = json.loads(plain)
    if not isinstance(data, dict) or data.get("submission_id") != submission_id:
        raise RecordMismatchError("the record names another submission")
    return data


def _files_of(data: dict[str, Any]) -> tuple[RecordFile, ...]:
    return tuple(
        RecordFile(name=str(f["name"]), size=int(f["size"]), sha256=str(f["sha256"]))
        for f in data["files"]
    )


def _consent_of(data: dict[str, Any]) -> ConsentEntry:
    at = datetime.strptime(str(data["received_at"]), _TIME).replace(tzinfo=UTC)
    change = data.get("change")
    return ConsentEntry(
        received_at=at,
        given=tuple(str(code) for code in data["given"]),
        change=None if change is None else ConsentChange.parse(change),
    )


def _open_part(
    sealed: bytes | None,
    identity: X25519Identity,
    submission_id: str,
    parse: Callable[[dict[str, Any]], _T],
) -> tuple[_T | None, bool]:
    """The part opened, and whether it could not be checked."""
    if sealed is None:
        return None, False
    try:
        return parse(_document(open_bytes(sealed, [identity]), submission_id)), False
    except (CryptoError, ProtocolError, ValueError, KeyError, TypeError):
        # Not this witness's key, another row's record, or not a record: the page says it
        # could not be checked, never an error page.
        return None, True


def open_record(
    record: SubmissionRecord | None, submission_id: str, identity: X25519Identity
) -> OpenedRecord:
    """The record of `submission_id` opened with the reply key, in memory only."""
    if record is None:
        return OpenedRecord(files=None, consent=None)
    files, bad_files = _open_part(record.sealed_files, identity, submission_id, _files_of)
    consent, bad_consent = _open_part(record.sealed_consent, identity, submission_id, _consent_of)
    return OpenedRecord(files=files, consent=consent, unchecked=bad_files or bad_consent)
