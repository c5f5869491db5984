"""The case bundle's records: custody extract and report, incident.json, export record, README."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protocol import codes
from triage.case.files import write_text
from triage.case.plan import Decision
from triage.corroborate.incidents import independent_sources
from triage.custody.log import CustodyLog, checkpoint_text
from triage.workspace.context import WorkContext, tool_version
from triage.workspace.lists import split
from triage.workspace.models import Incident

if TYPE_CHECKING:
    from triage.case.export import CaseRequest

__all__ = ["README", "export_record", "incident_record", "write_custody", "write_readme"]

README = """\
CASE BUNDLE {case}

Incident:   {incident} - {title}
For:        {recipient} ({recipient_class})
Purpose:    {purpose}
Made:       {created} UTC by {exporter} (minisign key {key_id})

What is here
  originals/              files exactly as the witnesses sent them, named by SHA-256
  testimony/<id>.json     each testimony as the witness's form sealed it (original language);
                          identifying details removed where the witness did not allow them
  testimony/<id>.txt      the same, laid out for reading
  incident.json           the incident and its submissions; claims as the witnesses made them
  custody/                custody log entries for everything here, a signed checkpoint,
                          and a readable custody report
  export-record.json      who exported what to whom and why; what was withheld and why
  manifest.json           each file's role, size, SHA-256 and submission
  manifest.sha256         SHA-256 of every file; manifest.sha256.minisig signs it

How to verify (standard tools only)
  1. Check that the minisign key id above ({key_id}) is the one the exporter gave you
     by another channel (minisign.pub travels with the bundle and proves nothing alone).
  2. minisign -Vm manifest.sha256 -p minisign.pub
  3. sha256sum -c manifest.sha256
  4. Or: triage case verify .
  Every file must be listed in manifest.sha256; a file that is not was added later.
"""


def write_custody(
    root: Path, log: CustodyLog, objects: set[str], checkpoint: dict[str, Any]
) -> None:
    """custody/custody.jsonl (verbatim entries about these objects, and the export's
    checkpoint), custody/checkpoint.txt(.minisig) for minisign, and a readable report."""
    lines, report = [], []
    for _number, raw in log.entries():
        entry = json.loads(raw)
        if entry["object_id"] in objects or entry["seq"] == checkpoint["seq"]:
            lines.append(raw.decode("utf-8"))
            report.append(
                f"{entry['ts_utc']}  #{entry['seq']:<6} {entry['action']:<16} "
                f"{entry['object_type']} {entry['object_id']}  by {entry['actor_key_fpr']}"
                + (f"\n    sha256 {entry['object_sha256']}" if entry["object_sha256"] else "")
            )
    write_text(root / "custody" / "custody.jsonl", "".join(lines))
    details = checkpoint["details"]
    text = checkpoint_text(checkpoint["host_id"], checkpoint["seq"] - 1, checkpoint["prev_hash"])
    write_text(root / "custody" / "checkpoint.txt", text)
    write_text(root / "custody" / "checkpoint.txt.minisig", details["signature"])
    intro = (
        "Custody report: every recorded action on the items in this bundle, oldest first.\n"
        "Each entry is hash-chained to the one before it in the exporter's log (prev_hash,\n"
        "entry_hash); checkpoint.txt names the log's head when this bundle was made and is\n"
        "signed: minisign -Vm custody/checkpoint.txt -p minisign.pub\n\n"
    )
    write_text(root / "custody" / "custody-report.txt", intro + "\n".join(report) + "\n")


def incident_record(incident: Incident, decisions: Sequence[Decision]) -> dict[str, Any]:
    included = [d.submission for d in decisions if d.included]
    sources = independent_sources(included)
    return {
        "incident_id": incident.id,
        "title": incident.title,
        "status": incident.status,
        "oblast": incident.oblast,
        "created_at": incident.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "submissions": [
            {
                "submission_id": m.submission_id,
                "role": m.role,
                "included": any(
                    d.included and d.submission.id == m.submission_id for d in decisions
                ),
                "claimed_incident_types": split(m.submission.incident_types),
                "claimed_oblast": m.submission.oblast,
            }
            for m in incident.members
        ],
        "independent_sources": {
            "count": sources.count,
            "groups": [list(g) for g in sources.groups],
        },
        "assessed": None,
        "note": "claimed_* fields are what witnesses said, not findings",
    }


def write_readme(root: Path, **facts: str) -> None:
    label = codes.label("recipient_class", facts["recipient_class"])
    write_text(root / "README.txt", README.format(**{**facts, "recipient_class": label}))


def _withheld(decisions: Sequence[Decision]) -> list[dict[str, str]]:
    found = [
        {"submission_id": d.submission.id, "reason": d.reason} for d in decisions if not d.included
    ]
    for decision in decisions:
        if decision.included:
            for attachment in decision.withheld_files:
                found.append(
                    {
                        "submission_id": decision.submission.id,
                        "file": attachment.blob_name,
                        "reason": f"the file was {attachment.state} at import",
                    }
                )
    return found


def export_record(
    ctx: WorkContext, request: CaseRequest, decisions: Sequence[Decision], head: dict[str, Any]
) -> dict[str, Any]:
    """export-record.json: who, to whom, why, what went and what was withheld, and why."""
    included = [d for d in decisions if d.included]
    redactions = [
        {
            "submission_id": d.submission.id,
            "removed": ["section D (about the witness)", "file names as sent"],
            "reason": "the witness did not allow identifying details for this recipient",
        }
        for d in included
        if not d.identity_allowed
    ]
    overridden = [d.submission.id for d in decisions if d.overridden]
    return {
        "incident": request.incident,
        "purpose": request.purpose,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "exporter": {
            "fingerprint": ctx.fingerprint(),
            "minisign_key_id": ctx.signing_key().verify_key().key_id_hex,
        },
        "approver": None,
        "recipient": {"name": request.recipient, "class": request.recipient_class},
        "consent_check": [
            {"submission_id": d.submission.id, "included": d.included, "reason": d.reason}
            for d in decisions
        ],
        "override": {"reason": request.override, "submissions": overridden} if overridden else None,
        "withheld": _withheld(decisions),
        "redactions": redactions,
        "completeness": (
            f"{len(included)} of {len(decisions)} submissions of the incident are included; "
            "everything withheld is listed under 'withheld' with its reason"
        ),
        "custody_head": {"seq": head["seq"], "entry_hash": head["entry_hash"]},
        "tool": "triage",
        "tool_version": tool_version(),
    }
