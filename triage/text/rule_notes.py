"""The witness site's rules (protocol.rules) that an opened submission breaks, in words.

Such a submission is imported all the same (a site before a rule sealed it, and refusing it
would lose testimony); import records these notes in the custody log and `triage show` prints
them, so that "contact notes, but the witness said No" is read before anyone makes contact.
"""

from __future__ import annotations

from protocol.rules import sealed_violations
from protocol.schema import Submission

__all__ = ["rule_notes"]

_WHY = {
    "contact-needs-consent": 'contact details, but the witness answered No to "May '
    'investigators contact you?": do not use them',
    "name-needs-consent": 'a name, but the witness answered No to "Would you like to tell us '
    'who you are?"',
    "other-needs-text": '"other" chosen without saying what it is',
    "text-needs-other": 'text for "another way" to be contacted, but another way was not chosen',
    "group-needs-file": "answers about files, but the group has none",
    "range-order": "the largest number of victims is smaller than the smallest",
}


def rule_notes(submission: Submission) -> list[str]:
    """One line per broken rule: "answers.D5 breaks contact-needs-consent (why)"."""
    notes = []
    for violation in sealed_violations(submission):
        where = ".".join(str(part) for part in violation.path)
        why = _WHY.get(violation.rule_id)
        suffix = f" ({why})" if why else ""
        notes.append(f"{where} breaks {violation.rule_id}{suffix}")
    return notes
