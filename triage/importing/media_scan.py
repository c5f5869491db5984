"""`triage media scan` and the scan at import: each verified file's own metadata, read offline.

The sealed blob is opened into an unnamed 0600 file in the workspace's tmp/ that vanishes when
closed, even if the scan is killed (triage.workspace.plaintext). The parsers get that
descriptor alone (triage.media.probe). The original blob is only ever read.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.custody.log import EntrySpec
from triage.media.facts import READ, MediaFacts, unreadable
from triage.media.probe import Toolkit, find_tools, hash_descriptor, probe_descriptor
from triage.media.similar import FrameHash, frames_to_json
from triage.workspace.context import WorkContext
from triage.workspace.models import VERIFIED, Attachment, MediaHash, MediaRecord
from triage.workspace.plaintext import open_plaintext

__all__ = ["MediaScanReport", "is_media_type", "scan_media"]

# Declared types worth a parser's time; the witness's browser names the type, and a phone
# often sends video as application/octet-stream, so that is scanned too.
_MEDIA_PREFIXES = ("image/", "video/", "audio/", "application/octet-stream")


@dataclass
class MediaScanReport:
    scanned: int = 0
    read: int = 0
    unreadable: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)  # missing tools, told once


def is_media_type(declared: str) -> bool:
    return declared.strip().lower().startswith(_MEDIA_PREFIXES) or not declared.strip()


def _pending(session: Session, only: Collection[str] | None, again: bool) -> list[Attachment]:
    query = select(Attachment).where(Attachment.state == VERIFIED, Attachment.stored.is_(True))
    if only is not None:
        query = query.where(Attachment.submission_id.in_(only))
    if not again:
        query = query.where(~select(MediaRecord.blob_name).where(
            MediaRecord.blob_name == Attachment.blob_name).exists())  # fmt: skip
    rows = session.scalars(query.order_by(Attachment.submission_id, Attachment.position))
    return [row for row in rows if is_media_type(row.declared_type)]


def _store(
    session: Session, attachment: Attachment, facts: MediaFacts, frames: list[FrameHash] | None
) -> EntrySpec:
    recorded = facts.recorded()
    record = MediaRecord(
        blob_name=attachment.blob_name,
        plaintext_sha256=attachment.plaintext_sha256,
        state=facts.state,
        has_gps=facts.has_gps,
        recorded_at=recorded.replace(tzinfo=None) if recorded else None,
        facts=facts.to_json(),
        scanned_at=datetime.now(UTC).replace(tzinfo=None),
    )
    session.merge(record)
    details: dict[str, object] = {"submission_id": attachment.submission_id, "result": facts.state,
               "facts_sha256": hashlib.sha256(record.facts.encode()).hexdigest()}  # fmt: skip
    if facts.reason:
        details["reason"] = facts.reason
    if frames is not None:
        session.merge(_hash_row(attachment, frames))
        details["pdq_frames"] = len(frames)
    return EntrySpec("media_read", "attachment", attachment.blob_name,
                     attachment.plaintext_sha256, details)  # fmt: skip


def _hashes(fd: int, tools: Toolkit, facts: MediaFacts) -> list[FrameHash] | None:
    if facts.state != READ or facts.video_codec is None:
        return None  # audio alone has no picture to find again
    return hash_descriptor(fd, tools, duration=facts.duration)


def _hash_row(attachment: Attachment, frames: list[FrameHash]) -> MediaHash:
    return MediaHash(
        blob_name=attachment.blob_name,
        submission_id=attachment.submission_id,
        plaintext_sha256=attachment.plaintext_sha256,
        frames=frames_to_json(frames),
        tool="PDQ (pdqhash), a frame a second, at most 1,800 per file (vPDQ)",
    )


def _scan_one(
    ctx: WorkContext, session: Session, attachment: Attachment, tools: Toolkit
) -> tuple[MediaFacts, EntrySpec]:
    """One file's facts and log entry. Any failure here, ours or a tool's, is this file's
    "unreadable": one file must never fail an import or stop a scan from reaching the rest."""
    try:
        fd = open_plaintext(ctx, attachment)
        try:
            facts = probe_descriptor(fd, tools)
            frames = _hashes(fd, tools, facts)
        finally:
            os.close(fd)  # the unnamed file is freed here
        return facts, _store(session, attachment, facts, frames)
    except Exception as error:  # see the docstring; the kind is logged
        session.rollback()
        facts = unreadable(f"scan failed: {type(error).__name__}", tuple(tools.versions()))
        return facts, _store(session, attachment, facts, None)


def scan_media(
    ctx: WorkContext,
    *,
    only: Collection[str] | None = None,
    again: bool = False,
    tools: Toolkit | None = None,
    on_file: Callable[[Attachment, MediaFacts], None] | None = None,
) -> MediaScanReport:
    """Read the metadata of verified media files not scanned yet (`again`: all of them), of
    the submissions in `only` if given. Logs each file and the run with the tools' versions.
    A file no tool can read is "unreadable"; nothing about a file fails the scan."""
    tools = tools or find_tools()
    report = MediaScanReport(tools=tools.versions(), said=tools.missing())
    if tools.pyav is None:
        return report
    log = ctx.log()
    with ctx.session() as session:
        for attachment in _pending(session, only, again):
            facts, entry = _scan_one(ctx, session, attachment, tools)
            session.commit()
            log.append(entry)  # each file as it is done: a killed scan leaves a true log
            report.scanned += 1
            if facts.state == READ:
                report.read += 1
            else:
                report.unreadable.append(attachment.blob_name)
            if on_file is not None:
                on_file(attachment, facts)
    if report.scanned:
        summary = {"files": report.scanned, "read": report.read,
                   "unreadable": len(report.unreadable), "tools": report.tools,
                   "missing": report.said}  # fmt: skip
        log.append(EntrySpec("media_scanned", "workspace", ctx.workspace.config.workspace_id,
                                 None, summary))  # fmt: skip
    return report
