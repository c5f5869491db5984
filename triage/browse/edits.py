"""Investigator changes to a submission: status, tags, notes; each one logged."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from protocol import codes
from protocol.schema import Submission as Sealed
from triage.browse.lookup import get_submission
from triage.errors import refused, usage
from triage.workspace.context import WorkContext
from triage.workspace.models import Note, Submission, Tag

__all__ = ["add_note", "change_tags", "may_contact", "parse_status", "set_status"]

_TAG = re.compile(r"[\w][\w:.-]{0,63}")
DUPLICATE = "duplicate-of"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def parse_status(text: str) -> tuple[str, str | None]:
    """A status code, or "duplicate-of:S-…" / "duplicate-of S-…" with its target."""
    code, _, target = text.replace(" ", ":").partition(":")
    full = text if codes.is_valid("submission_status", text) else code
    if not codes.is_valid("submission_status", full):
        known = ", ".join(codes.codes("submission_status"))
        raise usage(f"{text!r} is not a submission status", f"use one of: {known}")
    if full == DUPLICATE:
        if not target:
            raise usage("duplicate-of needs the other submission", "write duplicate-of:S-…")
        return full, target
    return full, None


def may_contact(row: Submission) -> bool:
    """Whether the witness agreed to be contacted outside their account (D3: phone, mail…)."""
    sealed = Sealed.from_json(row.document.encode("utf-8"))
    return sealed.answers.values.get("D3") is True


def set_status(
    ctx: WorkContext, session: Session, ident: str, status: str, note: str | None
) -> Submission:
    """Change the status (with an optional note, logged together). Raises TriageError when the
    workflow does not allow it (withdrawn is final).

    needs-info is allowed whatever D3 says: the question goes as a reply, which waits in the
    witness's account until they log in, and is not contact by phone or mail."""
    row = get_submission(session, ident)
    code, target = parse_status(status)
    if row.status == "withdrawn" and code != "withdrawn":
        raise refused(f"{row.id} was withdrawn by the witness; its status stays withdrawn")
    if target is not None:
        target = get_submission(session, target).id
    before = row.status + (f":{row.status_target}" if row.status_target else "")
    row.status, row.status_target = code, target
    details = {"from": before, "to": code + (f":{target}" if target else "")}
    if note:
        details["note"] = note
        session.add(Note(submission_id=row.id, at=_now(), author=ctx.fingerprint(), text=note))
    ctx.record("status_changed", "submission", row.id, details=details)
    session.commit()
    return row


def change_tags(
    ctx: WorkContext, session: Session, ident: str, changes: Sequence[str]
) -> list[str]:
    """Apply "+tag" / "-tag" / "tag" (adds). Returns the tags afterwards."""
    row = get_submission(session, ident)
    current = {tag.name for tag in row.tags}
    added, removed = [], []
    for change in changes:
        sign, name = (change[0], change[1:]) if change[:1] in "+-" else ("+", change)
        name = name.casefold()
        if not _TAG.fullmatch(name):
            raise usage(f"{name!r} is not a tag", "tags are letters, digits and - _ : . only")
        if sign == "+" and name not in current:
            current.add(name)
            added.append(name)
            session.add(Tag(submission_id=row.id, name=name))
        elif sign == "-" and name in current:
            current.discard(name)
            removed.append(name)
            session.delete(session.get_one(Tag, (row.id, name)))
    if added or removed:
        ctx.record("tagged", "submission", row.id, details={"added": added, "removed": removed})
    session.commit()
    return sorted(current)


def add_note(ctx: WorkContext, session: Session, ident: str, text: str) -> Note:
    row = get_submission(session, ident)
    if not text.strip():
        raise usage("an empty note says nothing")
    note = Note(submission_id=row.id, at=_now(), author=ctx.fingerprint(), text=text)
    session.add(note)
    ctx.record("note_added", "submission", row.id, details={"text": text})
    session.commit()
    return note
