"""`triage import`: scan the export bundle, add what opens here, write the signed ack."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.minisign import SigningKey
from crypto.x25519 import X25519Identity
from protocol.manifest import Manifest
from protocol.meta.ack import AckedSubmission
from triage.custody.log import EntrySpec
from triage.errors import ExitCode, TriageError
from triage.importing.ack import write_ack
from triage.importing.apply import Applied, new_rows
from triage.importing.consent import ConsentEffect, recompute_consent
from triage.importing.known import known_rows
from triage.importing.recipient_count import check_recipients, keyring_warnings
from triage.importing.scan import ScanResult, scan_bundle
from triage.importing.thread_order import thread_notes
from triage.keys.team import load_team
from triage.workspace.blobs import BlobStore, sha256_file
from triage.workspace.context import WorkContext
from triage.workspace.lock import STAGING_PREFIX, import_lock, remove_stale_staging
from triage.workspace.models import Attachment, ImportRecord, Submission

__all__ = ["ImportReport", "Progress", "run_import"]


class Progress(Protocol):
    """What the import reports as it goes: the total once known, then bytes read."""

    def start(self, total: int) -> None: ...
    def advance(self, amount: int) -> None: ...


@dataclass
class ImportReport:
    manifest_sha256: str
    submissions_in_bundle: int
    new: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    not_yours: int = 0
    problems: list[str] = field(default_factory=list)
    unverified: dict[str, list[str]] = field(default_factory=dict)
    recipient_mismatch: list[str] = field(default_factory=list)
    consent: list[ConsentEffect] = field(default_factory=list)
    keyring_warnings: list[str] = field(default_factory=list)
    # protocol.rules, re-run on the submissions this import added (also in the custody log).
    rule_warnings: list[str] = field(default_factory=list)
    # Threads imported out of order (triage.importing.thread_order): a follow-up or consent
    # change whose testimony is not here yet, and a testimony whose later submissions were.
    thread_warnings: list[str] = field(default_factory=list)
    thread_notes: list[str] = field(default_factory=list)
    extra_refused: list[str] = field(default_factory=list)  # sealed to more than the team
    extra_accepted: list[str] = field(default_factory=list)  # the same, let in by a reason
    acked: int = 0
    ack_files: list[Path] = field(default_factory=list)


def _nothing_opens(ctx: WorkContext) -> TriageError:
    return TriageError(
        "nothing here opens with your identity",
        hints=[
            f"your key's fingerprint is {ctx.fingerprint()}; was this bundle exported for "
            "another investigator's key? ask the admin to check 'intake keys list'",
        ],
        category="no_match",
        exit_code=ExitCode.NO_MATCH,
    )


def _report(scan: ScanResult) -> ImportReport:
    report = ImportReport(scan.manifest_sha256, len(scan.submissions))
    for result in scan.submissions:
        if result.state == "not-yours":
            report.not_yours += 1
        elif result.state in ("damaged", "invalid"):
            report.problems.append(f"{result.item}: {result.state}: {result.detail}")
    return report


def _ack_path(ctx: WorkContext, chosen: Path | None) -> Path:
    if chosen is not None:
        return chosen
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = ctx.workspace.dir("acks")
    candidates = (folder / f"ack-{stamp}-{n}.bundle" for n in range(1, 10_000))
    return next(
        p for p in candidates if not p.exists() and not p.with_name(p.name + ".part001").exists()
    )


def run_import(
    ctx: WorkContext,
    bundle: Path,
    *,
    ack_path: Path | None,
    progress: Progress,
    accept_extra: str | None = None,
) -> ImportReport:
    """Import the export bundle at `bundle`. Raises ProtocolError (bundle damaged: nothing
    imported), TriageError (nothing opens with this identity, or another import is running),
    CryptoError (keys). A submission sealed to more keys than the team (triage.keys.team) is not
    imported nor acked unless `accept_extra` gives the reason, which goes to the custody log.

    Holds the workspace's import lock throughout; staging left in tmp/ by a killed import
    (sealed items) is removed first, which only the lock's holder may do.
    """
    with import_lock(ctx.workspace):
        identities, signing_key = ctx.identities(), ctx.signing_key()
        tmp = ctx.workspace.dir("tmp")
        remove_stale_staging(tmp)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=tmp))
        try:
            report, scan, acks = _scan_and_apply(
                ctx, bundle, identities, staging, progress, accept_extra=accept_extra
            )
            _write_ack(
                ctx, scan=scan, acks=acks, chosen=ack_path, report=report, signing_key=signing_key
            )
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return report


def _scan_and_apply(
    ctx: WorkContext,
    bundle: Path,
    identities: list[X25519Identity],
    staging: Path,
    progress: Progress,
    *,
    accept_extra: str | None,
) -> tuple[ImportReport, ScanResult, list[AckedSubmission]]:
    store = BlobStore(ctx.workspace.dir("blobs"))
    with ctx.session() as session:
        known_subs = set(session.scalars(select(Submission.id)))
        stored = select(Attachment.blob_name).where(Attachment.stored.is_(True))
        known_blobs = set(session.scalars(stored))

        def begin(manifest: Manifest) -> None:
            progress.start(sum(item.size for item in manifest.items))

        scan = scan_bundle(
            bundle, identities, staging, known_blobs=known_blobs,
            progress=progress.advance, on_manifest=begin,
        )  # fmt: skip
        if scan.submissions and not any(r.state == "opened" for r in scan.submissions):
            raise _nothing_opens(ctx)
        team = load_team(ctx.workspace)
        counted = check_recipients(scan, len(team), accept_extra)
        report = _report(scan)
        report.keyring_warnings = keyring_warnings(scan.meta.keyring, team)
        report.extra_refused = counted.refused
        report.extra_accepted = [entry.object_id for entry in counted.accepted]
        acks = _apply(ctx, session, scan=scan, store=store, report=report, known_ids=known_subs)
        if counted.accepted:
            ctx.log().append_many(counted.accepted)
    return report, scan, acks


def _apply(
    ctx: WorkContext,
    session: Session,
    *,
    scan: ScanResult,
    store: BlobStore,
    report: ImportReport,
    known_ids: set[str],
) -> list[AckedSubmission]:
    known = known_rows(session, scan, store, known_ids)
    applied: Applied = new_rows(session, scan, store, ctx.fingerprint(), known_ids)
    session.flush()
    report.consent = recompute_consent(session, applied.witnesses)
    session.flush()
    threads = thread_notes(session, applied.new, report.consent)
    report.thread_warnings, report.thread_notes = threads.warnings, threads.notes
    report.new, report.known = applied.new, known.known
    report.unverified = {**applied.unverified, **known.unverified}
    report.recipient_mismatch = applied.recipient_mismatch
    report.rule_warnings = applied.rule_warnings
    report.problems.extend(known.conflicts)
    entries = [*applied.entries, *threads.entries, *known.entries]
    entries += _consent_entries(report.consent)
    entries.append(_summary_entry(scan, report))
    ctx.log().append_many(entries)
    acks = [*applied.ack, *known.ack]
    session.add(
        ImportRecord(
            manifest_sha256=scan.manifest_sha256,
            bundle_created=scan.manifest.created,
            imported_at=datetime.now(UTC).replace(tzinfo=None),
            new_submissions=len(applied.new),
            acknowledged=len(acks),
        )
    )
    session.commit()
    return acks


def _consent_entries(effects: list[ConsentEffect]) -> list[EntrySpec]:
    return [
        EntrySpec(
            "consent_changed",
            "submission",
            effect.submission_id,
            None,
            {"by_submission": effect.change_id, "before": effect.before, "after": effect.after},
        )
        for effect in effects
    ]


def _summary_entry(scan: ScanResult, report: ImportReport) -> EntrySpec:
    details = {
        "created": scan.manifest.created.isoformat(),
        "submissions_in_bundle": report.submissions_in_bundle,
        "new": len(report.new),
        "already_here": len(report.known),
        "not_for_this_key": report.not_yours,
        "problems": len(report.problems) + len(report.unverified),
    }
    return EntrySpec("imported", "bundle", scan.manifest_sha256[:16], scan.manifest_sha256, details)


def _write_ack(
    ctx: WorkContext,
    *,
    scan: ScanResult,
    acks: list[AckedSubmission],
    chosen: Path | None,
    report: ImportReport,
    signing_key: SigningKey,
) -> None:
    if not acks:
        return
    path = _ack_path(ctx, chosen)
    report.ack_files = write_ack(
        path, acks, signing_key, fingerprint=ctx.fingerprint(),
        manifest_sha256=scan.manifest_sha256, created=scan.manifest.created,
    )  # fmt: skip
    report.acked = len(acks)
    sha = sha256_file(report.ack_files[0]) if len(report.ack_files) == 1 else None
    details = {"submissions": len(acks), "files": [p.name for p in report.ack_files]}
    ctx.record("exported", "ack", path.name, object_sha256=sha, details=details)
    ctx.checkpoint(f"ack {path.name}")
