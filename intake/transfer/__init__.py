"""Sealed transfer between the server and the offline laptop: export, purge, replies, re-wrap.

The bundle layouts are in docs/bundles.md, which triage follows too.
"""

from intake.transfer.export import (
    ExportPlan,
    ExportReport,
    PlannedBlob,
    PlannedSubmission,
    plan_export,
    run_export,
)
from intake.transfer.purge import PurgeReport, purge_acknowledged
from intake.transfer.replies import MAX_REPLY_BYTES, RepliesReport, import_replies
from intake.transfer.rewrap import BlobChange, RewrapReport, apply_rewrap

__all__ = [
    "MAX_REPLY_BYTES",
    "BlobChange",
    "ExportPlan",
    "ExportReport",
    "PlannedBlob",
    "PlannedSubmission",
    "PurgeReport",
    "RepliesReport",
    "RewrapReport",
    "apply_rewrap",
    "import_replies",
    "plan_export",
    "purge_acknowledged",
    "run_export",
]
