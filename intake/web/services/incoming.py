"""A file on its way into a submission: received whole in this request, or kept in a draft."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from intake.web.upload import Part

__all__ = ["IncomingFile", "group_of_field"]

# Files sealed here come as `groupN-files`, files sealed in the browser as `groupN-sealed`.
_GROUP_FIELD = re.compile(r"^group([1-3])-(?:files|sealed)$")
_MAX_NAME_CHARS = 1024


def group_of_field(name: str) -> int | None:
    """The file group (1-3) of a file input's name, or None for anything else."""
    match = _GROUP_FIELD.match(name)
    return int(match.group(1)) if match else None


def _clean_name(name: str) -> str:
    # The name is sealed as sent (it may matter as evidence), minus what the schema refuses.
    return name.replace("\x00", "")[:_MAX_NAME_CHARS]


def _clean_type(content_type: str | None) -> str:
    text = (content_type or "application/octet-stream")[:255]
    return text if text.isprintable() else "application/octet-stream"


@dataclass(frozen=True)
class IncomingFile:
    """Everything submission.json says about a file, plus what committing it needs."""

    blob_name: str
    group: int
    original_name: str
    declared_type: str
    plaintext_sha256: str
    size: int
    file_key: bytes
    sealed_size: int
    sealed_sha256: str
    keyring_digest: str
    # The fingerprints of the keys a browser sealed it to (the server cannot re-issue its
    # header, so these stay its recipients); empty for a file the server sealed.
    sealed_to: tuple[str, ...] = ()

    @property
    def sealed_in_browser(self) -> bool:
        """Sealed by the witness's browser: the server never knew its file key, and its hash
        and size are the browser's word (submission.json says so; triage checks them)."""
        return not self.file_key

    @classmethod
    def from_writer(
        cls,
        writer: Part,
        *,
        blob_name: str,
        group: int,
        keyring_digest: str,
        sealed_to: tuple[str, ...] = (),
    ) -> IncomingFile:
        """Describe a completely received part (its temp blob is committed by the caller)."""
        return cls(
            blob_name=blob_name,
            group=group,
            original_name=_clean_name(writer.filename),
            declared_type=_clean_type(writer.content_type),
            plaintext_sha256=writer.plain_sha256.hexdigest(),
            size=writer.plain_size,
            file_key=writer.file_key,
            sealed_size=writer.sealed_size,
            sealed_sha256=writer.sealed_sha256,
            keyring_digest=keyring_digest,
            sealed_to=sealed_to if not writer.file_key else (),
        )

    def resealed(self, sealed_size: int, sealed_sha256: str, keyring_digest: str) -> IncomingFile:
        """The same file after its header was re-issued for another keyring."""
        return replace(
            self,
            sealed_size=sealed_size,
            sealed_sha256=sealed_sha256,
            keyring_digest=keyring_digest,
        )
