"""A witness's answers to replies: the reply a follow-up names (`in_reply_to`, sealed in its
submission.json) and whether this workspace really sent that reply to that witness.

The witness site lets a witness answer only replies sent to them, and add only to their own
testimonies. triage checks what it can against what it recorded itself: a name that is not one
of this workspace's replies to the same reply key (forged, another witness's, or sealed by
another workspace) is never threaded as a genuine answer, and a submission whose reply key is
not its testimony's (as that testimony's sealed submission.json gave it) is warned of. What it
cannot check is the reply key itself: the server seals it from its database (SECURITY.md).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from protocol.errors import ProtocolError
from protocol.schema import Submission as Sealed
from triage.workspace.models import Reply, Submission

__all__ = ["named_reply", "other_key_warning", "other_parent_key", "sent_to"]


def named_reply(row: Submission) -> str | None:
    """The reply `row` answers, as its sealed submission.json says (None: answers none)."""
    try:
        return Sealed.from_json(row.document.encode("utf-8")).in_reply_to
    except ProtocolError:  # checked at import; a workspace edited since names nothing
        return None


def sent_to(session: Session, reply_id: str, witness_recipient: str) -> Reply | None:
    """This workspace's reply `reply_id` if it was sealed to `witness_recipient`, else None."""
    reply = session.get(Reply, reply_id)
    return reply if reply is not None and reply.witness_recipient == witness_recipient else None


def other_parent_key(session: Session, parent_id: str | None, reply_key: str) -> str | None:
    """The reply key testimony `parent_id` was sealed with, if it is not `reply_key` (None when
    they agree, for a testimony, or when the testimony is not in this workspace yet)."""
    parent = session.get(Submission, parent_id) if parent_id is not None else None
    if parent is None or parent.witness_recipient == reply_key:
        return None
    return parent.witness_recipient


def other_key_warning(sub_id: str, parent_id: str) -> str:
    """What import says of a submission `other_parent_key` found, in order or not."""
    return (
        f"{sub_id}: sent with another reply key than {parent_id}, the testimony it adds to (the "
        "site lets a witness add only to their own): not that testimony's witness, or the "
        "server's database was changed"
    )
