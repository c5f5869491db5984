"""A testimony's thread for `triage show`: the replies the team sealed about it and what the
witness sent later (follow-ups, consent changes), in time order.

A follow-up answering a reply names it in its sealed submission.json (`in_reply_to`, schema
version 2); the thread marks which replies were answered, so an investigator sees at a glance
what a witness still has not answered. Answers are found under any of the witness's
testimonies, and a name that is not a reply this workspace sent to the witness is shown as an
unknown reply (triage.workspace.answers), never as an answer. A submission sealed with another
reply key than its testimony's is marked: the site lets a witness add only to their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.threads import thread_root
from triage.text.safe import safe_markup
from triage.workspace.answers import named_reply, sent_to
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
    in_reply_to: str | None = None  # for a follow-up: the reply it names
    text: str = ""  # for a reply: its first characters
    answered_by: tuple[str, ...] = ()  # for a reply: the follow-ups answering it
    detail: str = ""  # for a submission: its files and status
    # For a follow-up: the testimony its reply is about (the reply's submission's testimony),
    # or None when the reply it names was not sent to this witness from this workspace (shown
    # as an unknown reply, never threaded).
    reply_about: str | None = None
    # For a submission: sealed with another reply key than its testimony's, so not sent by that
    # testimony's witness as the site should allow (warned of at import: parent_reply_key).
    other_key: bool = False


def _answers(session: Session, witness_recipient: str) -> dict[str, str | None]:
    """Each follow-up of the witness (under any of their testimonies) and the reply it names:
    a site before issue 18's fix let the witness file an answer under another testimony."""
    rows = session.scalars(
        select(Submission).where(
            Submission.witness_recipient == witness_recipient, Submission.kind == "follow_up"
        )
    )
    return {row.id: named_reply(row) for row in rows}


def _reply_entry(reply: Reply, answers: dict[str, str | None]) -> ThreadEntry:
    return ThreadEntry(
        at=reply.created_at,
        ident=reply.id,
        kind="reply",
        about=reply.submission_id,
        text=" ".join(reply.text.split())[:_QUOTE],
        answered_by=tuple(sorted(sid for sid, rid in answers.items() if rid == reply.id)),
    )


def _testimony(session: Session, submission_id: str) -> str:
    """The testimony submission `submission_id` belongs to (protocol.threads), as the server
    decides where an answer to a reply about it goes."""
    row = session.get(Submission, submission_id)
    return thread_root(submission_id, row.parent_id if row is not None else None)


def _later_entry(session: Session, root: Submission, child: Submission) -> ThreadEntry:
    named = named_reply(child) if child.kind == "follow_up" else None
    reply = sent_to(session, named, child.witness_recipient) if named else None
    return ThreadEntry(
        at=child.received_at.replace(tzinfo=None),
        ident=child.id,
        kind=child.kind.replace("_", "-"),
        about=root.id,
        in_reply_to=named,
        reply_about=_testimony(session, reply.submission_id) if reply else None,
        detail=f"files {len(child.files)}  status {child.status}",
        other_key=child.witness_recipient != root.witness_recipient,
    )


def thread_of(session: Session, root: Submission, later: Sequence[Submission]) -> list[ThreadEntry]:
    """The thread of testimony `root`, whose later submissions are `later`."""
    ids = [root.id, *(child.id for child in later)]
    replies = list(session.scalars(select(Reply).where(Reply.submission_id.in_(ids))))
    # Keyed by the reply key each reply was sealed to: only that witness can answer it.
    answers = {key: _answers(session, key) for key in {r.witness_recipient for r in replies}}
    entries = [_reply_entry(reply, answers[reply.witness_recipient]) for reply in replies]
    entries += [_later_entry(session, root, child) for child in later]
    return sorted(entries, key=lambda e: (e.at, e.ident))


def _answering(entry: ThreadEntry) -> str:
    if entry.in_reply_to is None:
        return ""
    if entry.reply_about is None:
        return f"  answers an unknown reply {entry.in_reply_to} (not sent to this witness here)"
    about = f" (about {entry.reply_about})" if entry.reply_about != entry.about else ""
    return f"  answers {entry.in_reply_to}{about}"


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
    sender = f"  from another reply key than {entry.about}" if entry.other_key else ""
    return (
        f"  {when}  [bold]{entry.ident}[/]  {entry.kind}{sender}{_answering(entry)}  "
        f"{entry.detail}  ('triage show {entry.ident}')"
    )


def render_thread(console: Console, entries: Sequence[ThreadEntry]) -> None:
    """Print the thread; reply texts are the team's, but are neutralised all the same."""
    console.print("\n[bold underline]Thread: replies and what the witness sent later[/]")
    for entry in entries:
        console.print(_line(entry))
