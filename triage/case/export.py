"""`triage case export`: an incident's evidence for one recipient, checkable with standard tools."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crypto.x25519 import X25519Recipient
from triage.case.files import (
    write_json,
    write_manifest,
    write_metadata,
    write_original,
    write_testimony,
)
from triage.case.plan import Decision, plan_case
from triage.case.records import export_record, incident_record, write_custody, write_readme
from triage.case.seal import seal_directory
from triage.corroborate.incidents import get_incident
from triage.custody.log import EntrySpec
from triage.errors import refused, usage
from triage.workspace.context import WorkContext
from triage.workspace.lock import import_lock, remove_stale_staging

__all__ = ["CaseRequest", "CaseResult", "export_case"]


@dataclass(frozen=True)
class CaseRequest:
    incident: str
    to: Path
    recipient: str
    recipient_class: str
    purpose: str
    override: str | None = None
    seal_to: tuple[X25519Recipient, ...] = ()


@dataclass
class CaseResult:
    output: Path
    root_hash: str
    decisions: list[Decision] = field(default_factory=list)
    files: int = 0


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40] or "recipient"


def _originals(
    ctx: WorkContext, root: Path, decisions: list[Decision]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Testimony and originals of every included submission, with the metadata derived from
    them; the originals' descriptions, then the derived files'."""
    described: list[dict[str, Any]] = []
    derived_files: list[dict[str, Any]] = []
    for decision in decisions:
        if not decision.included:
            continue
        write_testimony(root, decision)
        row = decision.submission
        for attachment in decision.files:
            original = write_original(ctx, root, attachment)
            derived = write_metadata(root, attachment, original)
            if derived is not None and derived not in derived_files:
                derived_files.append(derived)
            described.append(
                {
                    "path": original,
                    "sha256": attachment.plaintext_sha256,
                    "size": attachment.size,
                    "role": "original",
                    "mime_declared": attachment.declared_type,
                    "submission_id": row.id,
                    "attachment_id": attachment.blob_name,
                    "received_at": f"{row.received_at:%Y-%m-%dT%H:%M:%SZ}",
                }
            )
    return described, derived_files


def _log_export(
    ctx: WorkContext, request: CaseRequest, decisions: list[Decision], files: list[dict[str, Any]]
) -> dict[str, Any]:
    """One entry per object, re-hashed now, one for the export, then a signed checkpoint."""
    where = {"incident": request.incident, "to": request.recipient}
    entries = [
        EntrySpec("exported", "attachment", f["attachment_id"], f["sha256"], where) for f in files
    ]
    for decision in decisions:
        if decision.included:
            row = decision.submission
            details = {**where, "reason": decision.reason}
            entries.append(EntrySpec("exported", "submission", row.id, row.plain_sha256, details))
    summary = {
        "to": request.recipient,
        "class": request.recipient_class,
        "purpose": request.purpose,
        "included": [d.submission.id for d in decisions if d.included],
        "withheld": [d.submission.id for d in decisions if not d.included],
        "override": request.override if any(d.overridden for d in decisions) else None,
    }
    entries.append(EntrySpec("exported", "incident", request.incident, None, summary))
    ctx.log().append_many(entries)
    return ctx.checkpoint(f"case export {request.incident} to {request.recipient}")


def _build(ctx: WorkContext, request: CaseRequest, root: Path) -> list[Decision]:
    """Everything but the manifest, into `root`; logs the export. Returns the decisions."""
    with ctx.session() as session:
        incident = get_incident(session, request.incident)
        members = [m.submission for m in incident.members]
        decisions = plan_case(members, request.recipient_class, request.override)
        if not any(d.included for d in decisions):
            reasons = [f"{d.submission.id}: {d.reason}" for d in decisions]
            raise refused("no submission of this incident may go to this recipient", *reasons)
        root.mkdir()
        files, derived = _originals(ctx, root, decisions)
        write_json(root / "incident.json", incident_record(incident, decisions))
        checkpoint = _log_export(ctx, request, decisions, files)
        objects = {request.incident, *(f["attachment_id"] for f in files)}
        objects |= {d.submission.id for d in decisions if d.included}
        write_custody(root, ctx.log(), objects, checkpoint)
        record = export_record(ctx, request, decisions, checkpoint)
        write_json(root / "export-record.json", record)
        write_json(
            root / "manifest.json",
            {
                "files": files,
                "derived": derived,
                "originals": "originals/<sha256>.<ext>",
                "metadata": "metadata/<sha256 of the original>.json (role metadata)",
            },
        )
        key = ctx.signing_key().verify_key()
        (root / "minisign.pub").write_text(key.to_file_text(), encoding="ascii")
        write_readme(
            root,
            case=request.to.name,
            incident=incident.id,
            title=incident.title,
            recipient=request.recipient,
            recipient_class=request.recipient_class,
            purpose=request.purpose,
            created=record["created_utc"],
            exporter=ctx.fingerprint(),
            key_id=key.key_id_hex,
        )
        incident.status = "exported"
        session.commit()
    return decisions


def export_case(ctx: WorkContext, request: CaseRequest) -> CaseResult:
    """Build the case bundle in the workspace's private tmp/, then move it to `request.to` (or
    seal it as `<to>.tar.age`). Raises TriageError when the output exists or nothing may go."""
    output = request.to.with_name(request.to.name + ".tar.age") if request.seal_to else request.to
    if output.exists():
        raise FileExistsError(f"{output} already exists; not overwriting it")
    if not request.purpose.strip() or not request.recipient.strip():
        raise usage("a case export needs --recipient and --purpose")
    with import_lock(ctx.workspace):
        remove_stale_staging(ctx.workspace.dir("tmp"))
        return _export_staged(ctx, request, output)


def _export_staged(ctx: WorkContext, request: CaseRequest, output: Path) -> CaseResult:
    staging = Path(tempfile.mkdtemp(prefix="case-", dir=ctx.workspace.dir("tmp")))
    root = staging / request.to.name
    try:
        decisions = _build(ctx, request, root)
        comment = f"triage case {request.incident} to {_slug(request.recipient)}"
        root_hash = write_manifest(root, ctx.signing_key(), comment)
        action = "sealed" if request.seal_to else "transferred"
        details = {"path": str(output), "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        ctx.record(action, "case_bundle", request.to.name, object_sha256=root_hash, details=details)
        # Counted in the staged tree, the same for both outputs: a sealed archive cannot be
        # looked into (its count used to read 0 while it held every original).
        files = sum(1 for _ in (root / "originals").glob("*"))
        if request.seal_to:
            seal_directory(root, output, request.seal_to)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(root, output)
        return CaseResult(output, root_hash, decisions, files)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
