"""The consent each testimony has now, as the account page shows it to a returning witness.

Computed at login from the opened records' consent entries (intake.web.services.records) by
protocol.consent, the rule triage applies on import, so the page says what investigators
will apply: a change reaches every testimony sent before it, a "narrow" never adds a class
(one outside the consent leaves nobody), and a withdrawal is final.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from intake.web.services.records import ConsentEntry
from protocol.consent import Sent, effective_consent

__all__ = ["ConsentState", "SentEntry", "current_consent"]


@dataclass(frozen=True)
class ConsentState:
    """A testimony's consent now: as given, narrowed (maybe to nobody) or withdrawn, since."""

    action: Literal["given", "narrow", "withdraw"]
    recipients: tuple[str, ...]
    since: date


@dataclass(frozen=True)
class SentEntry:
    """One of the witness's submissions with its opened consent entry (None when not kept)."""

    submission_id: str
    kind: str
    entry: ConsentEntry | None
    unchecked: bool = False


# A testimony from before records were kept has no entry; it is older than every change
# that has one, so every change applies to it. Its consent as given is unknown: only a
# withdrawal can be shown.
_LONG_AGO = datetime.min.replace(tzinfo=UTC)


def _sent(items: Iterable[SentEntry]) -> list[Sent]:
    found = []
    for item in items:
        entry = item.entry
        if entry is None:
            if item.kind == "testimony" and not item.unchecked:
                found.append(Sent(item.submission_id, _LONG_AGO))
            continue
        if item.kind == "testimony" and entry.change is None:
            found.append(Sent(item.submission_id, entry.received_at, entry.given))
        elif item.kind == "consent_change" and entry.change is not None:
            found.append(Sent(item.submission_id, entry.received_at, change=entry.change))
    return found


def current_consent(items: Iterable[SentEntry]) -> dict[str, ConsentState]:
    """The consent now of each testimony whose consent entry was kept, by submission id."""
    sent = _sent(items)
    day = {item.submission_id: item.received_at.date() for item in sent}
    withdrawals = {
        item.submission_id
        for item in sent
        if item.change is not None and item.change.action == "withdraw"
    }
    given = {item.submission_id: item.consent for item in sent if item.change is None}
    unknown = {item.submission_id for item in sent if item.received_at == _LONG_AGO}
    states = {}
    for sid, effective in effective_consent(sent).items():
        if effective.withdrawn_by is not None:
            # Final from the first withdrawal on.
            first = next(cid for cid in effective.applied if cid in withdrawals)
            states[sid] = ConsentState("withdraw", (), day[first])
        elif sid in unknown:
            continue
        elif effective.applied:
            states[sid] = ConsentState("narrow", effective.recipients, day[effective.applied[-1]])
        else:
            states[sid] = ConsentState("given", given[sid], day[sid])
    return states
