"""What triage reads from an export bundle's meta: each submission's reply key (and blob names).

The layout triage expects (docs/bundles.md, "export"):

    meta = {"submissions": {"S-…": {"witness_reply_recipient": "age1…", ...}, ...}}

A list of objects each with "submission_id" is accepted too, and "reply_recipient" as the key's
name, so small differences in the server's writer do not stop an import; anything unusable is
ignored (the sealed submission.json stays the authority on everything but the export's claim).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ExportMeta", "SubmissionMeta"]

_RECIPIENT_KEYS = ("witness_reply_recipient", "reply_recipient", "witness_recipient")
_DOCUMENT_BLOB_KEYS = ("manifest_blob", "submission_blob", "document_blob")


@dataclass(frozen=True)
class SubmissionMeta:
    submission_id: str
    reply_recipient: str | None = None
    document_blob: str | None = None  # the server's blob holding the sealed submission.json


def _text(info: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = info.get(key)
        if isinstance(value, str) and value:
            return value
    return None


@dataclass(frozen=True)
class ExportMeta:
    submissions: Mapping[str, SubmissionMeta] = field(default_factory=dict)
    owners: Mapping[str, str] = field(default_factory=dict)  # document blob -> submission id

    @classmethod
    def parse(cls, meta: Mapping[str, Any]) -> ExportMeta:
        raw = meta.get("submissions")
        pairs: list[tuple[str, Any]] = []
        if isinstance(raw, Mapping):
            pairs = [(str(key), value) for key, value in raw.items()]
        elif isinstance(raw, list):
            pairs = [(str(v.get("submission_id")), v) for v in raw if isinstance(v, Mapping)]
        found = {}
        for ident, info in pairs:
            if isinstance(info, Mapping):
                found[ident] = SubmissionMeta(
                    ident, _text(info, _RECIPIENT_KEYS), _text(info, _DOCUMENT_BLOB_KEYS)
                )
        owners = {v.document_blob: k for k, v in found.items() if v.document_blob}
        return cls(found, owners)

    def reply_recipient(self, submission_id: str) -> str | None:
        info = self.submissions.get(submission_id)
        return info.reply_recipient if info else None

    def is_document_blob(self, blob: str) -> bool:
        return self.document_owner(blob) is not None

    def document_owner(self, blob: str) -> str | None:
        """The submission whose sealed submission.json is server blob `blob`, if meta says."""
        return self.owners.get(blob)

    def document_blob(self, submission_id: str) -> str | None:
        info = self.submissions.get(submission_id)
        return info.document_blob if info else None
