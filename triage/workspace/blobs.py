"""Sealed files in the workspace: blobs/<2 hex>/<blob name>, written once, never altered."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from protocol.ids import parse_blob_name, parse_submission_id
from triage.errors import workspace_error

__all__ = ["BlobStore", "sha256_file"]

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class BlobStore:
    """Sealed blobs kept exactly as received (the evidentiary copy); plaintext never rests here."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        """Where blob `name` lives; the name is checked (32 hex digits) so it stays inside."""
        name = parse_blob_name(name)
        return self.root / name[:2] / name

    def document_path(self, submission_id: str) -> Path:
        """Where a submission's sealed submission.json lives."""
        submission_id = parse_submission_id(submission_id)
        return self.root / "documents" / f"{submission_id}.json.age"

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def open(self, name: str) -> BinaryIO:
        return self.path(name).open("rb")

    def adopt(self, staged: Path, name: str, sha256: str) -> None:
        """Move a staged sealed blob into place (see adopt_at)."""
        self.adopt_at(staged, self.path(name), sha256)

    def adopt_document(self, staged: Path, submission_id: str, sha256: str) -> None:
        self.adopt_at(staged, self.document_path(submission_id), sha256)

    @staticmethod
    def adopt_at(staged: Path, target: Path, sha256: str) -> None:
        """Move a staged sealed file to `target`. A file already there must be the same bytes:
        an original is never replaced."""
        name = target.name
        target.parent.mkdir(mode=0o700, exist_ok=True)
        try:
            os.link(staged, target)  # fails rather than replace an existing file
        except FileExistsError:
            if sha256_file(target) != sha256:
                raise workspace_error(
                    f"blob {name} is already in the workspace with other content",
                    "run 'triage log verify' and compare the blob with the export bundle",
                ) from None
        staged.unlink(missing_ok=True)
