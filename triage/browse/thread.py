"""A testimony's thread for `triage show`: the replies the team sealed about it and what the
witness sent later (follow-ups, consent changes), in time order.

A follow-up answering a reply names it in its sealed submission.json (`in_reply_to`, schema
version 2); the thread marks which replies were answered, so an investigator sees at a glance
what a witness still has not answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.errors import ProtocolError
from protocol.schema import Submission as Sealed
from triage.text.safe import safe_markup
from triage.workspace.models import Reply, Submission

__all__ = ["ThreadEntry", "render_thread", "thread_of"]

# How much of a reply the thread quotes (the whole text is in the workspace's reply row).
_QUOTE = 100


@dataclass(frozen=True)
class ThreadEntry:
    """One message of a thread: a reply sent, or a submission received."""

    at: datetime  # UTC, naive as the workspace keeps it
    ident: str
    kind: str  # "reply", "follow-up" or "consent-change"
    about: str  # the submission a reply answers, or the testimony a submission adds to
    in_reply_to: str | None = None  # for a follow-up: the reply it answers
    text: str = ""  # for a reply: its first characters
    answered_by: tuple[str, ...] = ()  # for a reply: the follow-ups answering it
    detail: str = ""  # for a submission: its files and status


def _answered(child: Submission) -> str | None:
    try:
        return Sealed.from_json(child.document.encode("utf-8")).in_reply_to
    except ProtocolError:  # checked at import; a workspace edited since names nothing
        return None


def thread_of(session: Session, root: Submission, later: Sequence[Submission]) -> list[ThreadEntry]:
    """The thread of testimony `root`, whose later submissions are `later`."""
    ids = [root.id, *(child.id for child in later)]
    replies = session.scalars(select(Reply).where(Reply.submission_id.in_(ids)))
    answers = {child.id: _answered(child) for child in later}
    entries = [
        ThreadEntry(
            at=reply.created_at,
            ident=reply.id,
            kind="reply",
            about=reply.submission_id,
            text=" ".join(reply.text.split())[:_QUOTE],
            answered_by=tuple(sid for sid, rid in answers.items() if rid == reply.id),
        )
        for reply in replies
    ]
    entries += [
        ThreadEntry(
            at=child.received_at.replace(tzinfo=None),
            ident=child.id,
            kind=child.kind.replace("_", "-"),
            about=root.id,
            in_reply_to=answers[child.id],
            detail=f"files {len(child.files)}  status {child.status}",
        )
        for child in later
    ]
    return sorted(entries, key=lambda e: (e.at, e.ident))


def _line(entry: ThreadEntry) -> str:
    when = f"{entry.at:%Y-%m-%d %H:%M} UTC"
    if entry.kind == "reply":
        state = (
            f"answered by {', '.join(entry.answered_by)}" if entry.answered_by else "not answered"
        )
        return (
            f"  {when}  [bold]{entry.ident}[/]  reply to {entry.about}  ({state})\n"
            f"      {safe_markup(repr(entry.text))}"
        )
    answering = f"  answers {entry.in_reply_to}" if entry.in_reply_to else ""
    return (
        f"  {when}  [bold]{entry.ident}[/]  {entry.kind}{answering}  {entry.detail}  "
        f"('triage show {entry.ident}')"
    )


def render_thread(console: Console, entries: Sequence[ThreadEntry]) -> None:
    """Print the thread; reply texts are the team's, but are neutralised all the same."""
    console.print("\n[bold underline]Thread: replies and what the witness sent later[/]")
    for entry in entries:
        console.print(_line(entry))
