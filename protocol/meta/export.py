"""The `export` bundle's meta (server → laptop): each submission's ids, day, reply key and items.

The export is not signed (its items are ciphertext; the ack closes the loop), so what matters
is that the meta and the manifest agree: every item is named by exactly one submission, with
the hash the manifest lists. A crafted export that names one blob twice, or one submission
twice, is refused whole before anything is staged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, cast

from protocol import ids
from protocol.manifest import ItemEntry, Manifest
from protocol.meta import _check as c
from protocol.meta._kind import check_version, meta_of
from protocol.meta.items import blob_item, manifest_item

__all__ = [
    "ExportFile",
    "ExportKey",
    "ExportMeta",
    "ExportSubmission",
    "KeyState",
    "SubmissionKind",
]

SubmissionKind = Literal["testimony", "follow_up", "consent_change"]
KeyState = Literal["active", "retired", "revoked"]
_STATES: tuple[KeyState, ...] = ("active", "retired", "revoked")
_KEY_KEYS = frozenset({"recipient", "name", "state"})
_MAX_NAME = 200
_KINDS: tuple[SubmissionKind, ...] = ("testimony", "follow_up", "consent_change")
_SUBMISSION_KEYS = frozenset(
    {
        "submission_id",
        "parent_id",
        "kind",
        "received_on",
        "witness_id",
        "witness_reply_recipient",
        "manifest_blob",
        "manifest_sha256",
        "files",
    }
)


@dataclass(frozen=True)
class ExportFile:
    """One sealed file of a submission, by the server's blob name, and its sealed SHA-256."""

    blob_name: str
    sealed_sha256: str

    @property
    def item(self) -> str:
        return blob_item(self.blob_name)

    @classmethod
    def parse(cls, value: object) -> ExportFile:
        doc = c.exact(value, "a file", frozenset({"blob_name", "sealed_sha256"}))
        return cls(
            blob_name=c.blob_name(doc["blob_name"], "blob_name"),
            sealed_sha256=c.sha256(doc["sealed_sha256"], "sealed_sha256"),
        )

    def to_meta(self) -> dict[str, object]:
        return {"blob_name": self.blob_name, "sealed_sha256": self.sealed_sha256}


@dataclass(frozen=True)
class ExportSubmission:
    """One exported submission: what the server knows of it, and the items that carry it."""

    submission_id: str
    parent_id: str | None
    kind: SubmissionKind
    received_on: date
    witness_id: str
    witness_reply_recipient: str
    manifest_blob: str
    manifest_sha256: str
    files: tuple[ExportFile, ...]

    @property
    def item(self) -> str:
        """The item of the sealed submission.json."""
        return manifest_item(self.submission_id)

    def items(self) -> Iterator[tuple[str, str]]:
        """(item name, sealed SHA-256) of the submission.json, then of each file."""
        yield self.item, self.manifest_sha256
        for file in self.files:
            yield file.item, file.sealed_sha256

    @classmethod
    def parse(cls, value: object) -> ExportSubmission:
        doc = c.exact(value, "an exported submission", _SUBMISSION_KEYS)
        sid = c.canonical(doc["submission_id"], ids.SUBMISSION, "submission_id")
        parent = doc["parent_id"]
        kind = doc["kind"]
        if kind not in _KINDS:
            raise c.bad(f"kind of {sid} is not one of {list(_KINDS)}")
        if (parent is None) != (kind == "testimony"):
            raise c.bad(f"{sid}: a testimony has no parent_id, a {kind} names its testimony")
        files = tuple(ExportFile.parse(f) for f in c.listed(doc["files"], "files"))
        c.unique([f.blob_name for f in files], f"file of {sid}")
        return cls(
            submission_id=sid,
            parent_id=None if parent is None else c.canonical(parent, ids.SUBMISSION, "parent_id"),
            kind=cast(SubmissionKind, kind),
            received_on=c.day(doc["received_on"], "received_on"),
            witness_id=c.canonical(doc["witness_id"], ids.WITNESS, "witness_id"),
            witness_reply_recipient=str(
                c.recipient(doc["witness_reply_recipient"], "witness_reply_recipient")
            ),
            manifest_blob=c.blob_name(doc["manifest_blob"], "manifest_blob"),
            manifest_sha256=c.sha256(doc["manifest_sha256"], "manifest_sha256"),
            files=files,
        )

    def to_meta(self) -> dict[str, object]:
        return {
            "submission_id": self.submission_id,
            "parent_id": self.parent_id,
            "kind": self.kind,
            "received_on": self.received_on.isoformat(),
            "witness_id": self.witness_id,
            "witness_reply_recipient": self.witness_reply_recipient,
            "manifest_blob": self.manifest_blob,
            "manifest_sha256": self.manifest_sha256,
            "files": [f.to_meta() for f in self.files],
        }


@dataclass(frozen=True)
class ExportKey:
    """One key of the server's keyring file when it exported (version 2 on): what triage
    compares with the team's list. Informational: the laptop's own count of stanzas decides."""

    recipient: str
    name: str
    state: KeyState

    @classmethod
    def parse(cls, value: object) -> ExportKey:
        doc = c.exact(value, "a keyring key", _KEY_KEYS)
        name, state = c.text(doc["name"], "a key's name"), doc["state"]
        if len(name) > _MAX_NAME or state not in _STATES:
            raise c.bad(f"a keyring key's name is over {_MAX_NAME} characters or its state unknown")
        recipient = c.recipient(doc["recipient"], "a keyring recipient")
        return cls(str(recipient), name, cast(KeyState, state))

    def to_meta(self) -> dict[str, object]:
        return {"recipient": self.recipient, "name": self.name, "state": self.state}


def _unique_blobs(submissions: Sequence[ExportSubmission]) -> None:
    """No blob is carried twice: not two submissions' files, nor a file and a submission.json."""
    owner: dict[str, str] = {}
    for sub in submissions:
        for blob in (sub.manifest_blob, *(f.blob_name for f in sub.files)):
            if blob in owner:
                raise c.bad(
                    f"blob {blob} is listed by {owner[blob]} and again by {sub.submission_id}"
                )
            owner[blob] = sub.submission_id


@dataclass(frozen=True)
class ExportMeta:
    """An export's meta: its submissions, in the order the items carry them, and (version 2
    on) the server's keyring when it exported; empty when read from a version 1 export."""

    submissions: tuple[ExportSubmission, ...]
    keyring: tuple[ExportKey, ...] = ()

    def __post_init__(self) -> None:
        # Here, not only in parse(): the server's writer builds this directly.
        c.unique([s.submission_id for s in self.submissions], "submission")
        _unique_blobs(self.submissions)
        c.unique([k.recipient for k in self.keyring], "keyring recipient")

    @classmethod
    def parse(cls, meta: Mapping[str, Any], *, version: int) -> ExportMeta:
        """Raises ProtocolError ("schema"; "unsupported_version" for an unread version)."""
        check_version("export", version)
        # Version 1 had no keyring; version 2 always carries it.
        keys = frozenset({"submissions"} if version == 1 else {"submissions", "keyring"})
        doc = c.exact(dict(meta), "export meta", keys)
        submissions = tuple(
            ExportSubmission.parse(s) for s in c.listed(doc["submissions"], "submissions")
        )
        keyring = tuple(ExportKey.parse(k) for k in c.listed(doc.get("keyring", []), "keyring"))
        return cls(submissions, keyring)

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> ExportMeta:
        """The meta of an export manifest, checked against its items: each item is named by
        exactly one submission, with the hash the manifest lists. Raises ProtocolError."""
        parsed = cls.parse(meta_of(manifest, "export"), version=manifest.version)
        parsed.check_items(manifest.items)
        return parsed

    def check_items(self, entries: Sequence[ItemEntry]) -> None:
        listed = {entry.name: entry.sha256 for entry in entries}
        described = dict(self.items())
        if listed.keys() != described.keys():
            stray = sorted(listed.keys() ^ described.keys())
            raise c.bad(f"the items and the meta disagree on {stray[:3]}")
        for name, digest in described.items():
            if listed[name] != digest:
                raise c.bad(f"the meta's SHA-256 of {name} is not the manifest's")

    def items(self) -> Iterator[tuple[str, str]]:
        """(item name, sealed SHA-256) of every item, in bundle order."""
        for sub in self.submissions:
            yield from sub.items()

    def to_meta(self) -> dict[str, object]:
        """The current version's meta (version 2)."""
        return {
            "submissions": [s.to_meta() for s in self.submissions],
            "keyring": [k.to_meta() for k in self.keyring],
        }

    def get(self, submission_id: str) -> ExportSubmission | None:
        return next((s for s in self.submissions if s.submission_id == submission_id), None)
