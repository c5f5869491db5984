"""Which testimony a submission belongs to: one rule for the server and triage.

A testimony stands alone; a follow-up or a consent change names the testimony it adds to
(`parent_id`, always a testimony: the site offers only the witness's testimonies). An answer
to a reply adds to the testimony the reply's submission belongs to: the server files it there
(intake.web.services.witness) and triage's thread says "about another testimony" only when
that testimony is not the thread's own (triage.browse.thread), so both apply this rule.
"""

from __future__ import annotations

__all__ = ["thread_root"]


def thread_root(submission_id: str, parent_id: str | None) -> str:
    """The testimony submission `submission_id` (whose parent is `parent_id`) belongs to."""
    return submission_id if parent_id is None else parent_id
