"""Who gets what in a case bundle: the consent check, per submission and per file.

- A witness who withdrew consent is never exported (not even with --override).
- A submission goes to a recipient class the witness named in A4 (as narrowed since).
  Otherwise it is withheld, unless the investigator overrides with a reason (logged, and
  stated in the export record).
- Section D (who the witness is) and the file names as sent (which can identify the witness)
  go only to a class the witness named, and never to "publication-anonymised". An override
  never carries them.
- A file that did not verify at import is withheld: there is no original to vouch for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protocol import codes
from triage.errors import usage
from triage.workspace.lists import split
from triage.workspace.models import Attachment, Submission

__all__ = ["Decision", "plan_case"]

ANONYMISED = "publication-anonymised"


@dataclass(frozen=True)
class Decision:
    submission: Submission
    included: bool
    reason: str
    overridden: bool = False
    identity_allowed: bool = False

    @property
    def files(self) -> list[Attachment]:
        return [a for a in self.submission.files if a.state == "verified" and a.stored]

    @property
    def withheld_files(self) -> list[Attachment]:
        return [a for a in self.submission.files if not (a.state == "verified" and a.stored)]


def _decide(row: Submission, recipient_class: str, override: str | None) -> Decision:
    consent = set(split(row.consent))
    if row.status == "withdrawn":
        return Decision(row, False, "the witness withdrew consent")
    if recipient_class in consent:
        allowed = recipient_class != ANONYMISED
        return Decision(row, True, f"the witness consented to {recipient_class}", False, allowed)
    if override is not None:
        return Decision(row, True, f"included by override: {override}", True, False)
    named = ", ".join(sorted(consent)) or "nobody"
    return Decision(row, False, f"the witness consented to {named}, not {recipient_class}")


def plan_case(
    rows: Sequence[Submission], recipient_class: str, override: str | None
) -> list[Decision]:
    """One decision per submission. Raises TriageError for an unknown recipient class."""
    if not codes.is_valid("recipient_class", recipient_class):
        known = ", ".join(codes.codes("recipient_class"))
        raise usage(f"{recipient_class!r} is not a recipient class", f"use one of: {known}")
    if override is not None and not override.strip():
        raise usage("--override needs a reason")
    return [_decide(row, recipient_class, override) for row in rows if row.kind != "consent_change"]
