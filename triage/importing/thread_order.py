"""Threads that arrive out of order: what a witness sent later (follow-ups, consent changes)
imported before the submission it adds to, said once at each end.

Exports are cut by time and investigators import them in any order, so a follow-up can be
here days before its testimony. Without its testimony a follow-up has no consent of its own
to go by and its thread cannot be shown; once the testimony comes, the thread and the consent
(a change imported earlier now applies to it; follow-ups take its consent) are complete, and
an investigator importing hundreds of submissions would not notice either from the counts.
What import checks of a submission against its testimony (its reply key: importing.apply)
runs here for those that came first, so the warning and the custody log do not depend on the
order. A submission whose parent is not a testimony (only a forgery makes one) is warned of
once, when both are here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from triage.custody.log import EntrySpec
from triage.importing.consent import ConsentEffect
from triage.workspace.answers import other_key_warning, other_parent_key
from triage.workspace.lists import split
from triage.workspace.models import Submission

__all__ = ["ThreadReport", "thread_notes"]

# Bound parameters per query: SQLite's limit is far above, but one IN list stays small.
_CHUNK = 500
# As the thread in `triage show` names them (triage.browse.thread).
_KINDS = {"follow_up": "follow-up", "consent_change": "consent change"}


@dataclass(frozen=True)
class ThreadReport:
    """Warnings and notes for the investigator, and custody entries (`threaded`: a submission
    imported before its parent joins it, with `parent_reply_key` as `decrypted` has in order)."""

    warnings: list[str]
    notes: list[str]
    entries: list[EntrySpec]


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _rows(
    session: Session, column: InstrumentedAttribute[Any], ids: Sequence[str]
) -> list[Submission]:
    found: list[Submission] = []
    for chunk in _chunks(ids):
        found += session.scalars(select(Submission).where(column.in_(chunk)))
    return found


def _orphans(new: list[Submission], here: dict[str, Submission]) -> list[str]:
    """A warning for each new submission whose parent is not in the workspace (its kind is not
    known yet: the site adds only to testimonies, a forgery to anything)."""
    return [
        f"{row.id}: adds to submission {row.parent_id}, which is not in this workspace yet: its "
        f"thread and consent are incomplete until {row.parent_id} is imported"
        for row in new
        if row.parent_id is not None and row.parent_id not in here
    ]


def _not_a_testimony(child: Submission, parent: Submission) -> str | None:
    if parent.kind == "testimony":
        return None
    return (
        f"{child.id}: adds to {parent.id}, which is a {_KINDS.get(parent.kind, parent.kind)}, "
        "not a testimony (the site adds only to testimonies): forged, or the server's database "
        "was changed"
    )


def _threaded(session: Session, child: Submission) -> tuple[str | None, EntrySpec]:
    """For a submission imported before its parent: the reply-key check import would have run
    (importing.apply), its warning and the custody entry that carries it."""
    parent_id = child.parent_id or ""
    other_key = other_parent_key(session, parent_id, child.witness_recipient)
    details: dict[str, object] = {"parent_id": parent_id}
    warning = None
    if other_key is not None:
        # As `decrypted` carries it when the testimony was here first (importing.apply).
        details["parent_reply_key"] = other_key
        warning = other_key_warning(child.id, parent_id)
    return warning, EntrySpec("threaded", "submission", child.id, None, details)


def _named(child: Submission, root: Submission) -> str:
    sender = (
        f" from another reply key than {root.id}"
        if child.witness_recipient != root.witness_recipient
        else ""
    )
    return f"{child.id} {_KINDS.get(child.kind, child.kind)}{sender}"


def _consent(root: Submission, effects: dict[str, ConsentEffect]) -> str:
    effect = effects.get(root.id)
    if effect is not None and effect.withdrawn:
        return f"withdrawn (by {effect.change_id})"
    now = ", ".join(split(root.consent)) or "none"
    return f"{now} (narrowed by {effect.change_id})" if effect is not None else now


def _completed(
    root: Submission, earlier: list[Submission], effects: dict[str, ConsentEffect]
) -> str:
    named = ", ".join(_named(child, root) for child in earlier)
    # Consent is a witness's (importing.consent): another key's submissions keep their own.
    others = [c.id for c in earlier if c.witness_recipient != root.witness_recipient]
    keep = (
        f", except for {', '.join(others)} from another reply key, which "
        + ("keeps its witness's own" if len(others) == 1 else "keep their witnesses' own")
        if others
        else ""
    )
    return (
        f"{root.id}: {len(earlier)} later submission(s) of this testimony were imported before "
        f"it and now join its thread: {named}; the thread's consent is now "
        f"{_consent(root, effects)}{keep} ('triage show {root.id}')"
    )


def thread_notes(
    session: Session, new_ids: Sequence[str], effects: Sequence[ConsentEffect]
) -> ThreadReport:
    """After the import's rows and consent are in `session` (`new_ids` in the order imported,
    `effects` this import's consent changes): warnings for new submissions whose parent is
    missing or not a testimony, or that came before a parent of another reply key; a note for
    each new testimony that submissions imported earlier add to, naming them and the thread's
    consent now; a `threaded` entry for each submission imported before its parent."""
    new = _rows(session, Submission.id, list(new_ids))
    order = {ident: position for position, ident in enumerate(new_ids)}
    parents = sorted({row.parent_id for row in new if row.parent_id is not None})
    here = {row.id: row for row in [*_rows(session, Submission.id, parents), *new]}
    # Imported before its parent: earlier, or earlier in this bundle (apply's check missed it).
    late = [
        child
        for child in _rows(session, Submission.parent_id, sorted(order))
        if order.get(child.id, -1) < order[child.parent_id or ""]
    ]
    joined = {row.id: row for row in new if row.parent_id in here} | {c.id: c for c in late}
    warnings = _orphans(new, here)
    warnings += [
        text
        for child in sorted(joined.values(), key=lambda c: c.id)
        if (text := _not_a_testimony(child, here[child.parent_id or ""])) is not None
    ]
    threaded = [_threaded(session, child) for child in sorted(late, key=lambda c: c.id)]
    warnings += [text for text, _entry in threaded if text is not None]
    return ThreadReport(warnings, _notes(here, late, order, effects), [e for _t, e in threaded])


def _notes(
    here: dict[str, Submission],
    late: list[Submission],
    order: dict[str, int],
    effects: Sequence[ConsentEffect],
) -> list[str]:
    earlier: dict[str, list[Submission]] = {}
    for child in late:
        root = here[child.parent_id or ""]
        # Sent in the same bundle: in order for the investigator, nothing to note.
        if root.kind == "testimony" and child.id not in order:
            earlier.setdefault(root.id, []).append(child)
    by_id = {effect.submission_id: effect for effect in effects}
    return [
        _completed(here[root], sorted(kids, key=lambda c: (c.received_at, c.id)), by_id)
        for root, kids in sorted(earlier.items())
    ]
