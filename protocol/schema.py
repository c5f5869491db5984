"""The sealed submission.json: what the witness site seals and the triage tool reads.

Version 2 (issue 16) adds each file's `plaintext_sha256_by` ("server" or "browser") and
`in_reply_to` (issue 18: the investigators' reply a follow-up answers, or null). The site
writes version 2; readers take versions 2 and 1 (docs/bundles.md, "Versions"); golden
examples of both are in docs/submission/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast, get_args

from crypto.errors import CryptoError
from crypto.x25519 import X25519Recipient
from protocol import codes, ids
from protocol._json import dump_canonical, load_object
from protocol.entries import (
    MAX_FILE_GROUPS,
    Answers,
    ConsentAction,
    ConsentChange,
    FileEntry,
    HashSource,
    exact_keys,
    int_field,
    require,
    str_field,
)
from protocol.errors import ProtocolError
from protocol.fields import FOLLOW_UP_FIELDS, TESTIMONY_FIELDS

__all__ = [
    "MAX_FILES",
    "MAX_FILE_GROUPS",
    "MAX_SUBMISSION_JSON",
    "SCHEMA_VERSION",
    "Answers",
    "ConsentAction",
    "ConsentChange",
    "FileEntry",
    "HashSource",
    "READ_VERSIONS",
    "Submission",
    "SubmissionKind",
]

SCHEMA_VERSION = 2
READ_VERSIONS = (1, 2)
SubmissionKind = Literal["testimony", "follow_up", "consent_change"]
# Far above the site's limit (20 files a submission): refuse absurd documents, nothing more.
MAX_FILES = 1000
MAX_SUBMISSION_JSON = 16 * 1024 * 1024
_FORM_VERSION_RE = re.compile(r"[A-Za-z0-9._-]{1,32}")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# [0-9], not \d (which matches any Unicode digit, and strptime reads those too).
_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_KEYS = frozenset(
    {"schema_version", "kind", "submission_id", "form_version", "ui_language", "received_at"}
    | {"parent_id", "witness_reply_recipient", "answers", "files", "consent_change"}
)
# Keys a version added to the document (a document of an older version has none of them).
_KEYS_SINCE = {2: frozenset({"in_reply_to"})}


def _keys_of(version: int) -> set[str]:
    return set(_KEYS).union(*(k for v, k in _KEYS_SINCE.items() if v <= version))


def _parse_time(text: str) -> datetime:
    require(bool(_TIME_RE.fullmatch(text)), "received_at must be UTC as YYYY-MM-DDTHH:MM:SSZ")
    try:
        return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ProtocolError("schema", "received_at is not a real time") from None


def _optional_str(value: object, what: str) -> str | None:
    return None if value is None else str_field(value, what)


@dataclass(frozen=True)
class Submission:
    """One sealed submission: a testimony, a follow-up to one, or a change of consent.

    Every instance is valid: the constructor checks what parse() checks, so the witness site
    cannot seal what triage would refuse. Raises ProtocolError("schema").
    """

    kind: SubmissionKind
    submission_id: str
    form_version: str
    ui_language: str
    received_at: datetime  # UTC, whole seconds
    parent_id: str | None
    witness_reply_recipient: str  # age1…: replies are sealed to it; same key = same witness
    answers: Answers
    files: tuple[FileEntry, ...] = ()
    consent_change: ConsentChange | None = None
    # The reply (R-…) a follow-up answers; it names a reply sent to this witness's reply key.
    in_reply_to: str | None = None
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        require(self.schema_version in READ_VERSIONS, "unknown schema version")
        require(
            self.schema_version >= 2 or all(f.plaintext_sha256_by == "server" for f in self.files),
            "schema version 1 cannot say that a browser computed a file's hash",
        )
        require(self.kind in get_args(SubmissionKind), f"unknown submission kind {self.kind!r}")
        if self.in_reply_to is not None:
            require(self.schema_version >= 2, "schema version 1 cannot answer a reply")
            require(self.kind == "follow_up", "only a follow-up answers a reply")
            require(
                ids.parse_reply_id(self.in_reply_to) == self.in_reply_to,
                "in_reply_to not canonical",
            )
        require(
            ids.parse_submission_id(self.submission_id) == self.submission_id, "id not canonical"
        )
        if self.parent_id is not None:
            require(
                ids.parse_submission_id(self.parent_id) == self.parent_id, "parent not canonical"
            )
        require(bool(_FORM_VERSION_RE.fullmatch(self.form_version)), "malformed form_version")
        require(codes.is_valid("ui_language", self.ui_language), "unknown ui_language")
        at = self.received_at
        require(at.utcoffset() is not None and not at.utcoffset(), "received_at must be UTC")
        require(at.microsecond == 0, "received_at has whole seconds")
        self._check_recipient()
        require(len(self.files) <= MAX_FILES, "too many files")
        blobs = [entry.blob_name for entry in self.files]
        require(len(set(blobs)) == len(blobs), "two files share a blob name")
        _KIND_CHECKS[self.kind](self)

    def _check_recipient(self) -> None:
        try:
            canonical = str(X25519Recipient.parse(self.witness_reply_recipient))
        except CryptoError:
            raise ProtocolError("schema", "witness_reply_recipient is not an age key") from None
        require(canonical == self.witness_reply_recipient, "witness_reply_recipient not canonical")

    def _check_testimony(self) -> None:
        require(self.parent_id is None, "a testimony has no parent")
        require(self.consent_change is None, "a testimony carries no consent change")
        require(set(self.answers.values) <= set(TESTIMONY_FIELDS), "unknown answer fields")
        require(self.answers.values.get("A3") is True, "a testimony needs the consent gate (A3)")
        require(bool(self.answers.codes("A4")), "a testimony names who may receive it (A4)")
        require(bool((self.answers.text("B1") or "").strip()), "a testimony has an account (B1)")
        low, high = self.answers.values.get("B7_min"), self.answers.values.get("B7_max")
        if isinstance(low, int) and isinstance(high, int):
            require(low <= high, "B7_min is above B7_max")

    def _check_follow_up(self) -> None:
        require(self.parent_id is not None, "a follow-up names its parent submission")
        require(self.consent_change is None, "a follow-up carries no consent change")
        require(set(self.answers.values) <= set(FOLLOW_UP_FIELDS), "a follow-up has only B1")
        has_text = bool((self.answers.text("B1") or "").strip())
        require(has_text or bool(self.files), "a follow-up has text or files")

    def _check_consent_change(self) -> None:
        require(self.consent_change is not None, "a consent change says what changes")
        require(not self.answers.values and not self.files, "a consent change carries nothing else")

    @classmethod
    def parse(cls, data: object) -> Submission:
        """Build from the decoded JSON object. Raises ProtocolError ("schema", or
        "unsupported_version" for a well-formed document of another schema version)."""
        require(isinstance(data, dict), "submission is not an object")
        version = cast(dict[str, Any], data).get("schema_version")
        if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
            raise ProtocolError("unsupported_version", f"submission schema version {version}")
        keys = _keys_of(version if isinstance(version, int) else 1)
        if "in_reply_to" not in cast(dict[str, Any], data):
            # v2 documents sealed before in_reply_to was added to v2 (same session, unreleased)
            # read as answering no reply; the key is written on every v2 document now.
            keys.discard("in_reply_to")
        doc = exact_keys(data, "submission", keys)
        kind = str_field(doc["kind"], "kind")
        require(kind in get_args(SubmissionKind), f"unknown submission kind {kind!r}")
        files = doc["files"]
        require(isinstance(files, list) and len(files) <= MAX_FILES, "files is not a short list")
        parent, change = doc["parent_id"], doc["consent_change"]
        fields = FOLLOW_UP_FIELDS if kind == "follow_up" else TESTIMONY_FIELDS
        version = int_field(doc["schema_version"], "schema_version", 1, SCHEMA_VERSION)
        return cls(
            schema_version=version,
            kind=cast(SubmissionKind, kind),
            submission_id=str_field(doc["submission_id"], "submission_id"),
            form_version=str_field(doc["form_version"], "form_version"),
            ui_language=str_field(doc["ui_language"], "ui_language"),
            received_at=_parse_time(str_field(doc["received_at"], "received_at")),
            parent_id=None if parent is None else str_field(parent, "parent_id"),
            witness_reply_recipient=str_field(doc["witness_reply_recipient"], "recipient"),
            answers=Answers.parse(doc["answers"], fields),
            files=tuple(FileEntry.parse(entry, version) for entry in files),
            consent_change=None if change is None else ConsentChange.parse(change),
            in_reply_to=_optional_str(doc.get("in_reply_to"), "in_reply_to"),
        )

    @classmethod
    def from_json(cls, data: bytes) -> Submission:
        """Parse the (opened) bytes of submission.json. Raises ProtocolError."""
        doc = load_object(data, max_size=MAX_SUBMISSION_JSON, category="schema", what="submission")
        return cls.parse(doc)

    def to_dict(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "schema_version": self.schema_version,
            "kind": self.kind,
            "submission_id": self.submission_id,
            "form_version": self.form_version,
            "ui_language": self.ui_language,
            "received_at": self.received_at.strftime(_TIME_FORMAT),
            "parent_id": self.parent_id,
            "witness_reply_recipient": self.witness_reply_recipient,
            "answers": self.answers.to_dict(),
            "files": [entry.to_dict(self.schema_version) for entry in self.files],
            "consent_change": None
            if self.consent_change is None
            else self.consent_change.to_dict(),
        }
        if self.schema_version >= 2:
            doc["in_reply_to"] = self.in_reply_to
        return doc

    def to_json(self) -> bytes:
        """Canonical JSON bytes (what the witness site seals)."""
        return dump_canonical(self.to_dict())


_KIND_CHECKS = {
    "testimony": Submission._check_testimony,
    "follow_up": Submission._check_follow_up,
    "consent_change": Submission._check_consent_change,
}
