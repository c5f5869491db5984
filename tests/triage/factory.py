"""Test data for the triage workflows: submissions sealed as the witness site seals them, and
export bundles laid out as the server writes them (docs/triage.md, "Export bundle")."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crypto.age import seal_bytes
from crypto.header import Recipient
from crypto.x25519 import X25519Identity, X25519Recipient
from protocol.bundle import ItemSource, write_bundle
from protocol.fields import FOLLOW_UP_FIELDS, GROUP_FIELDS
from protocol.ids import new_blob_name, new_submission_id
from protocol.meta.export import ExportFile, ExportKey, ExportMeta, ExportSubmission
from protocol.meta.items import blob_item, manifest_item
from protocol.schema import Answers, ConsentChange, FileEntry, HashSource, Submission


@dataclass(frozen=True)
class Witness:
    identity: X25519Identity = field(default_factory=X25519Identity.generate)

    @property
    def recipient(self) -> str:
        return str(self.identity.recipient())


@dataclass(frozen=True)
class FileSpec:
    data: bytes
    declared_type: str = "video/mp4"
    original_name: str = "clip.mp4"
    group_answers: Mapping[str, Any] = field(default_factory=dict)
    claimed_sha256: str | None = None  # lie about the plaintext hash in submission.json
    hash_by: HashSource = "server"  # who computed it (schema 2: the server or the browser)


@dataclass
class Built:
    submission: Submission
    sealed_json: bytes
    blobs: dict[str, bytes]
    document_blob: str = field(default_factory=new_blob_name)  # the server's name for it

    @property
    def id(self) -> str:
        return self.submission.submission_id


def answers_for(**extra: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "A3": True,
        "A4": ["investigators", "ua-prosecutors"],
        "B1": "Я бачив, як солдати вели полонених до лісу.",
    }
    answers.update(extra)
    return answers


def build(
    to: Sequence[str],
    *,
    witness: Witness | None = None,
    answers: Mapping[str, Any] | None = None,
    files: Sequence[FileSpec] = (),
    kind: str = "testimony",
    parent_id: str | None = None,
    consent_change: ConsentChange | None = None,
    received_at: datetime | None = None,
    also: Sequence[Recipient] = (),
    in_reply_to: str | None = None,
) -> Built:
    """A submission sealed to the investigator recipients `to` (and `also`), with its files."""
    recipients: list[Recipient] = [X25519Recipient.parse(r) for r in to]
    recipients += also
    witness = witness or Witness()
    blobs: dict[str, bytes] = {}
    entries: list[FileEntry] = []
    for spec in files:
        name = new_blob_name()
        sealed = seal_bytes(spec.data, recipients)
        blobs[name] = sealed
        entries.append(
            FileEntry(
                blob_name=name,
                sealed_sha256=hashlib.sha256(sealed).hexdigest(),
                plaintext_sha256=spec.claimed_sha256 or hashlib.sha256(spec.data).hexdigest(),
                plaintext_sha256_by=spec.hash_by,
                size=len(spec.data),
                declared_type=spec.declared_type,
                original_name=spec.original_name,
                group=1,
                group_answers=Answers.parse(dict(spec.group_answers), GROUP_FIELDS),
            )
        )
    if answers is None:
        answers = answers_for() if kind == "testimony" else {}
    fields = FOLLOW_UP_FIELDS if kind == "follow_up" else None
    submission = Submission(
        kind=kind,  # type: ignore[arg-type]
        submission_id=new_submission_id(),
        form_version="1",
        ui_language="uk",
        received_at=(received_at or datetime.now(UTC)).replace(microsecond=0),
        parent_id=parent_id,
        witness_reply_recipient=witness.recipient,
        answers=Answers.parse(dict(answers), fields) if fields else Answers.parse(dict(answers)),
        files=tuple(entries),
        consent_change=consent_change,
        in_reply_to=in_reply_to,
    )
    return Built(submission, seal_bytes(submission.to_json(), recipients), blobs)


def export_meta(
    built: Built, sealed_json: bytes, blobs: Mapping[str, bytes], recipient: str
) -> ExportSubmission:
    """One submission's entry in an export's meta (protocol.meta.export, as `intake export`)."""
    sub = built.submission
    return ExportSubmission(
        submission_id=built.id,
        parent_id=sub.parent_id,
        kind=sub.kind,
        received_on=sub.received_at.date(),
        witness_id="W-0000000000000000",
        witness_reply_recipient=recipient,
        manifest_blob=built.document_blob,
        manifest_sha256=hashlib.sha256(sealed_json).hexdigest(),
        files=tuple(
            ExportFile(name, hashlib.sha256(data).hexdigest())
            for name, data in sorted(blobs.items())
        ),
    )


def export_bundle(
    path: Path,
    submissions: Sequence[Built],
    *,
    reply_recipients: Mapping[str, str] | None = None,
    replace_blobs: Mapping[str, bytes] | None = None,
    keyring: Sequence[ExportKey] = (),
) -> Path:
    """An export bundle laid out as `intake export` writes it: per submission its sealed
    submission.json, then its blobs by name; meta.submissions a list (docs/bundles.md)."""
    items: list[ItemSource] = []
    meta: list[ExportSubmission] = []
    replace_blobs = replace_blobs or {}
    for built in submissions:
        blobs = {name: replace_blobs.get(name, data) for name, data in built.blobs.items()}
        items.append(ItemSource.from_bytes(manifest_item(built.id), built.sealed_json))
        items += [
            ItemSource.from_bytes(blob_item(name), data) for name, data in sorted(blobs.items())
        ]
        recipient = (reply_recipients or {}).get(built.id, built.submission.witness_reply_recipient)
        meta.append(export_meta(built, built.sealed_json, blobs, recipient))
    write_bundle(path, "export", items, meta=ExportMeta(tuple(meta), tuple(keyring)).to_meta())
    return path
