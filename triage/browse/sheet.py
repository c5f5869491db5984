"""`triage media sheet ID --to DIR`: a contact sheet per video of a submission."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from triage.browse.extract import safe_name
from triage.custody.log import EntrySpec
from triage.media.facts import READ, MediaFacts
from triage.media.probe import find_tools
from triage.media.sheet import draw_sheet
from triage.workspace.context import WorkContext
from triage.workspace.models import VERIFIED, Attachment, Submission
from triage.workspace.plaintext import open_plaintext

__all__ = ["Sheet", "write_sheets"]


@dataclass(frozen=True)
class Sheet:
    attachment: Attachment
    path: Path | None
    skipped: str = ""


def _video(attachment: Attachment) -> MediaFacts | None:
    if attachment.media is None:
        return None
    facts = MediaFacts.from_json(attachment.media.facts)
    return facts if facts.state == READ and facts.video_codec else None


def _write(target: Path, png: bytes) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(png)


def write_sheets(ctx: WorkContext, row: Submission, folder: Path) -> list[Sheet]:
    """One PNG per scanned, readable picture or video of `row` into `folder` (made 0700);
    refuses to overwrite; logs each sheet."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    tools, done = find_tools(), []
    for position, attachment in enumerate(row.files, start=1):
        facts = _video(attachment) if attachment.state == VERIFIED else None
        if facts is None:
            done.append(Sheet(attachment, None, "no sheet: not a scanned, readable video"))
            continue
        target = folder / (safe_name(row.id, position, attachment) + ".sheet.png")
        if target.exists() or target.is_symlink():
            raise FileExistsError(f"{target} already exists; not overwriting it")
        fd = open_plaintext(ctx, attachment)
        try:
            png = draw_sheet(fd, tools, duration=facts.duration)
        finally:
            os.close(fd)
        if png is None:
            done.append(Sheet(attachment, None, "no sheet: the frames could not be drawn"))
            continue
        _write(target, png)
        done.append(Sheet(attachment, target))
        details = {"submission_id": row.id, "to": str(target), "role": "contact sheet"}
        ctx.log().append(EntrySpec("sheet_drawn", "attachment", attachment.blob_name,
                                   attachment.plaintext_sha256, details))  # fmt: skip
    return done
