"""`triage extract`: a submission's files, opened bit for bit into a folder, hash-checked."""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from crypto.age import open_stream
from triage.custody.log import EntrySpec
from triage.errors import refused
from triage.workspace.blobs import BlobStore
from triage.workspace.context import WorkContext
from triage.workspace.models import Attachment, Submission

__all__ = ["Extracted", "extract_files", "safe_name"]

_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}")


@dataclass(frozen=True)
class Extracted:
    attachment: Attachment
    path: Path | None
    skipped: str = ""


def safe_name(submission_id: str, position: int, attachment: Attachment) -> str:
    """A name made by us, never the witness's: id, position, blob prefix and an extension
    (the sent name's, if it is a plain one, else one for the declared type)."""
    suffix = Path(attachment.original_name.replace("\\", "/")).suffix
    if not _EXTENSION.fullmatch(suffix):
        suffix = mimetypes.guess_extension(attachment.declared_type.split(";")[0].strip()) or ""
    ext = suffix.lower() if _EXTENSION.fullmatch(suffix) else ".bin"
    return f"{submission_id}-{position:02d}-{attachment.blob_name[:8]}{ext}"


def _open_into(store: BlobStore, ctx: WorkContext, attachment: Attachment, target: Path) -> None:
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    digest, size = hashlib.sha256(), 0
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out, store.open(attachment.blob_name) as sealed:
            for chunk in open_stream(sealed, ctx.identities()):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != attachment.plaintext_sha256 or size != attachment.size:
            raise refused(
                f"{attachment.blob_name} opened to other bytes than were verified at import",
                "the workspace copy was altered; run 'triage log verify' and re-import",
            )
        os.link(temp, target)  # never replaces an existing file
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def extract_files(ctx: WorkContext, row: Submission, folder: Path) -> list[Extracted]:
    """Open every verified file of `row` into `folder` (made 0700 if missing). Refuses to
    overwrite anything; logs each copy."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = BlobStore(ctx.workspace.dir("blobs"))
    done: list[Extracted] = []
    for position, attachment in enumerate(row.files, start=1):
        if attachment.state != "verified" or not attachment.stored:
            done.append(Extracted(attachment, None, f"not extracted: {attachment.state}"))
            continue
        target = folder / safe_name(row.id, position, attachment)
        if target.exists() or target.is_symlink():
            raise FileExistsError(f"{target} already exists; not overwriting it")
        _open_into(store, ctx, attachment, target)
        done.append(Extracted(attachment, target))
        details = {"submission_id": row.id, "to": str(target)}
        ctx.log().append(
            EntrySpec(
                "copied", "attachment", attachment.blob_name, attachment.plaintext_sha256, details
            )
        )
    return done
