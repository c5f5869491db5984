"""Effective consent: what a witness's consent changes leave of each submission's consent.

One rule, used by triage's import (triage.importing.consent) and by the server's account page
(intake.web.services.consent_view), so what a returning witness is shown is what investigators
apply. A change (protocol.entries.ConsentChange) applies to every submission the same witness
(same reply key) made up to the moment of the change, not only to the testimony it names; a
testimony made after it carries its own, new consent. A follow-up takes its testimony's
consent and every change since that testimony. A "narrow" keeps only the classes that were in
the consent already (it never widens it), and a withdrawal is final. This service's own
investigators hold what was imported whatever the list says: "investigators" means "this
service's investigators only" and every other class is given in addition to them, so a narrow
that leaves no class leaves "investigators" (only a withdrawal takes the testimony from them).
The result is recomputed from the original consent each time, so the order in which changes
arrive does not matter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from protocol.entries import ConsentChange

__all__ = ["ONLY_INVESTIGATORS", "Effective", "Sent", "effective_consent"]

ONLY_INVESTIGATORS = "investigators"
"""The recipient class "this service's investigators only" (protocol.codes)."""


@dataclass(frozen=True)
class Sent:
    """One submission of a witness, as the rule needs it.

    `consent` is the consent given with a testimony (A4 codes); `parent_id` names a
    follow-up's testimony; `change` is set for a consent change (and only then).
    """

    submission_id: str
    received_at: datetime
    consent: tuple[str, ...] = ()
    parent_id: str | None = None
    change: ConsentChange | None = None


@dataclass(frozen=True)
class Effective:
    """A submission's consent once every change that applies to it is applied.

    `recipients` sorted; `applied` the ids of the changes that apply, oldest first;
    `withdrawn_by` the last withdrawal among them (None when it is not withdrawn);
    `base` the consent the changes were applied to (a follow-up's is its testimony's).
    """

    recipients: tuple[str, ...]
    applied: tuple[str, ...]
    withdrawn_by: str | None
    base: tuple[str, ...]


def _base(item: Sent, by_id: dict[str, Sent]) -> tuple[tuple[str, ...], datetime]:
    parent = by_id.get(item.parent_id) if item.parent_id is not None else None
    if parent is not None and parent.change is None:
        # A follow-up belongs to its testimony: every change since the testimony applies
        # to it, including one made before the follow-up was sent.
        return parent.consent, parent.received_at
    return item.consent, item.received_at


def effective_consent(sent: Iterable[Sent]) -> dict[str, Effective]:
    """The effective consent of each submission of ONE witness that is not a change."""
    items = list(sent)
    by_id = {item.submission_id: item for item in items}
    changes = sorted(
        ((item, item.change) for item in items if item.change is not None),
        key=lambda pair: (pair[0].received_at, pair[0].submission_id),
    )
    result = {}
    for item in items:
        if item.change is not None:
            continue
        base, since = _base(item, by_id)
        consent, applied, withdrawn_by = set(base), [], None
        for change, what in changes:
            if change.received_at < since:
                continue
            applied.append(change.submission_id)
            if what.action == "withdraw":
                withdrawn_by = change.submission_id
            else:
                consent = (consent & set(what.recipients)) or {ONLY_INVESTIGATORS}
        result[item.submission_id] = Effective(
            tuple(sorted(consent)), tuple(applied), withdrawn_by, base
        )
    return result
