"""What a witness can see again of each submission: a receipt record sealed to their reply key.

At commit, the files' names, plaintext sizes and SHA-256 are sealed (age, X25519) to the
witness's reply key only, and a testimony's consent beside them; a consent change seals the
parent testimony's consent again. The server holds ciphertext it cannot open: the reply key
is derived from the codename at login (intake.web.services.witness) and opens the records in
memory for that one response. Consent is sealed apart from the files so that a consent change
can replace it with the public key alone, without the codename's private half.

Each plaintext is padded to a multiple of `_PAD` bytes, so a record's length says little
about the names inside. After a purge the records live `RECORD_DAYS_AFTER_PURGE` more days
(intake.maintenance.sweep), then only counts and sizes remain.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeVar, cast, get_args

from sqlalchemy.orm import Session

from crypto.age import open_bytes, seal_bytes
from crypto.errors import CryptoError
from crypto.x25519 import X25519Identity, X25519Recipient
from intake.maintenance import RECORD_DAYS_AFTER_PURGE
from intake.models import SubmissionRecord

__all__ = [
    "RECORD_DAYS_AFTER_PURGE",
    "ConsentState",
    "OpenedRecord",
    "RecordFile",
    "open_record",
    "seal_consent",
    "seal_files",
    "set_consent",
]

ConsentAction = Literal["given", "narrow", "withdraw"]

_PAD = 256
_T = TypeVar("_T")


@dataclass(frozen=True)
class RecordFile:
    """One file as it was received: its name, plaintext size and plaintext SHA-256."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ConsentState:
    """A testimony's current consent: as given with it, narrowed, or withdrawn (and since when)."""

    action: ConsentAction
    recipients: tuple[str, ...]
    since: date


@dataclass(frozen=True)
class OpenedRecord:
    """A record opened for one response; `files` None when none was kept (or it did not open)."""

    files: tuple[RecordFile, ...] | None
    consent: ConsentState | None


def _seal(document: object, reply_recipient: str) -> bytes:
    plain = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # JSON ignores trailing whitespace: spaces pad it without changing what it says.
    plain += b" " * (-len(plain) % _PAD)
    return seal_bytes(plain, [X25519Recipient.parse(reply_recipient)])


def seal_files(reply_recipient: str, files: Sequence[RecordFile]) -> bytes:
    """The files' record, sealed to the reply key alone."""
    return _seal(
        {"files": [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in files]},
        reply_recipient,
    )


def seal_consent(reply_recipient: str, consent: ConsentState) -> bytes:
    """A testimony's consent, sealed to the reply key alone."""
    document = {
        "action": consent.action,
        "recipients": list(consent.recipients),
        "since": consent.since.isoformat(),
    }
    return _seal(document, reply_recipient)


def set_consent(
    session: Session, submission_id: str, reply_recipient: str, consent: ConsentState
) -> None:
    """Seal `consent` as a testimony's current one. A testimony from before records were kept
    gets a record with its consent only: its files were never recorded."""
    record = session.get(SubmissionRecord, submission_id)
    if record is None:
        record = SubmissionRecord(submission_id=submission_id, sealed_files=None)
        session.add(record)
    record.sealed_consent = seal_consent(reply_recipient, consent)


def _files_of(plain: bytes) -> tuple[RecordFile, ...]:
    data = json.loads(plain)
    return tuple(
        RecordFile(name=str(f["name"]), size=int(f["size"]), sha256=str(f["sha256"]))
        for f in data["files"]
    )


def _consent_of(plain: bytes) -> ConsentState:
    data = json.loads(plain)
    action = str(data["action"])
    if action not in get_args(ConsentAction):
        raise ValueError("unknown consent action")
    recipients = tuple(str(code) for code in data["recipients"])
    since = date.fromisoformat(str(data["since"]))
    return ConsentState(cast(ConsentAction, action), recipients, since)


def _open_part(
    sealed: bytes | None, identity: X25519Identity, parse: Callable[[bytes], _T]
) -> _T | None:
    if sealed is None:
        return None
    try:
        return parse(open_bytes(sealed, [identity]))
    except (CryptoError, ValueError, KeyError, TypeError):
        # Not this witness's key, or not a record: shown as "not kept", never as an error page.
        return None


def open_record(record: SubmissionRecord | None, identity: X25519Identity) -> OpenedRecord:
    """The record opened with the reply key, in memory only."""
    if record is None:
        return OpenedRecord(files=None, consent=None)
    return OpenedRecord(
        files=_open_part(record.sealed_files, identity, _files_of),
        consent=_open_part(record.sealed_consent, identity, _consent_of),
    )
