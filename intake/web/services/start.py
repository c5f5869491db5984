"""The first step of a testimony: issue the codename and create the witness before the form.

The codename exists before a single answer is typed, so the testimony's commit needs no key
derivation (a busy KDF can no longer cost a witness an upload), and the witness can come back
with it after a cut. The witness row waits, marked pending, until its first testimony commits;
the sweep removes pending witnesses after PENDING_HOURS (intake.maintenance).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from crypto.witness import normalise_codename
from intake.clock import hour_bucket, utc_today
from intake.models import Witness
from intake.web.services.context import WebContext

__all__ = [
    "CONFIRM_WORDS",
    "PENDING_HOURS",
    "Started",
    "issue_codename",
    "pending_witness",
    "pick_positions",
    "words_match",
]

# Two days: a witness may be given the codename one evening and write the testimony the next,
# and a codename never used is a witness row nobody needs.
PENDING_HOURS = 48
# The witness types this many of the codename's words back. A tick is one reflexive click; typing
# two words the witness can only know from the page proves the codename was looked at and,
# if the page is gone when asked, written down. Two, not all: enough to catch "I'll do it
# later", short enough on a phone.
CONFIRM_WORDS = 2


@dataclass(frozen=True)
class Started:
    """A new witness: the id for the session and the codename, shown and then only sealed."""

    witness_id: str
    codename: str


def issue_codename(ctx: WebContext, language: str) -> Started:
    """Draw a codename in `language` (the page's), derive its keys once (inside the KDF slots)
    and create the witness.

    Raises KdfBusyError when no derivation slot frees up in time; nothing is created then.
    """
    codename = ctx.codenames.new(language)
    keys = ctx.deriver.derive(codename)
    with ctx.sessions() as session:
        witness = Witness(
            lookup=keys.lookup,
            reply_recipient=str(keys.identity.recipient()),
            created_on=utc_today(),
            pending_until=hour_bucket() + PENDING_HOURS,
        )
        session.add(witness)
        session.commit()
        return Started(witness_id=witness.id, codename=codename)


def pending_witness(ctx: WebContext, witness_id: str) -> bool:
    """Whether `witness_id` was given a codename and has not sent a testimony yet."""
    with ctx.sessions() as session:
        witness = session.get(Witness, witness_id)
        return witness is not None and witness.pending_until is not None


def pick_positions(codename: str) -> list[int]:
    """Which words of `codename` (1-based, in order) the witness is asked to type back."""
    count = len(codename.split())
    chosen = set[int]()
    while len(chosen) < min(CONFIRM_WORDS, count):
        chosen.add(secrets.randbelow(count) + 1)
    return sorted(chosen)


def words_match(
    codename: str,
    positions: list[int],
    typed: list[str],
    repair: Callable[[str, str], str] = lambda typed, _like: normalise_codename(typed),
) -> bool:
    """Whether `typed` are the codename's words at `positions` (case and spacing ignored, and
    typing slips repaired by `repair` as a login repairs them, in the issued codename's
    language: two words alone may not tell it)."""
    words = normalise_codename(codename).split(" ")
    if len(typed) != len(positions) or any(not 1 <= p <= len(words) for p in positions):
        return False
    expected = " ".join(words[p - 1] for p in positions)
    given = repair(" ".join(normalise_codename(t) for t in typed), codename)
    return hmac.compare_digest(expected.encode(), given.encode())
