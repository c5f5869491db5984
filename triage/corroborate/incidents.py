"""Incidents: submissions grouped as one event, and how many independent sources they have."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocol import codes
from triage.browse.lookup import get_submission, resolve_oblast
from triage.errors import not_found, refused, usage
from triage.workspace.context import WorkContext
from triage.workspace.models import Incident, IncidentMember, Submission

__all__ = [
    "ROLES",
    "IncidentSummary",
    "Sources",
    "add_members",
    "get_incident",
    "independent_sources",
    "list_incidents",
    "new_incident",
]

ROLES = ("primary", "corroborating", "contextual")
WITHDRAWN = "withdrawn"
# Statuses that become "linked" when the submission joins an incident.
_OPEN_STATUSES = {"new", "triaged"}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_incident(ctx: WorkContext, session: Session, title: str, oblast: str | None) -> Incident:
    """A new incident with an id like UA23-2025-0001 (oblast, year, sequence; "UA" without
    an oblast)."""
    if not title.strip():
        raise usage("an incident needs a title", "describe the event in one sentence")
    code = resolve_oblast(oblast) if oblast else None
    prefix = f"{(code or 'UA').replace('-', '')}-{_now().year}-"
    count = session.scalar(select(func.count()).where(Incident.id.startswith(prefix))) or 0
    incident = Incident(id=f"{prefix}{count + 1:04d}", title=title, oblast=code, created_at=_now())
    session.add(incident)
    ctx.record("created", "incident", incident.id, details={"title": title, "oblast": code})
    session.commit()
    return incident


def get_incident(session: Session, ident: str) -> Incident:
    incident = session.get(Incident, ident.strip().upper())
    if incident is None:
        raise not_found("incident", ident, "create one with 'triage incident new'")
    return incident


@dataclass(frozen=True)
class IncidentSummary:
    id: str
    title: str
    status: str
    oblast: str | None
    members: int


def list_incidents(session: Session) -> list[IncidentSummary]:
    """Every incident, oldest first, with how many submissions it holds."""
    counts = (
        select(IncidentMember.incident_id, func.count().label("members"))
        .group_by(IncidentMember.incident_id)
        .subquery()
    )
    query = (
        select(Incident, func.coalesce(counts.c.members, 0))
        .outerjoin(counts, counts.c.incident_id == Incident.id)
        .order_by(Incident.created_at, Incident.id)
    )
    return [
        IncidentSummary(found.id, found.title, found.status, found.oblast, int(members))
        for found, members in session.execute(query)
    ]


def _check_not_withdrawn(row: Submission, override: str | None) -> None:
    if row.status == WITHDRAWN and override is None:
        raise refused(
            f"{row.id} was withdrawn by the witness and cannot join an incident",
            "a withdrawn submission is not to be used; if a lawful reason requires it, pass "
            "--override REASON (the reason goes to the custody log)",
        )


def add_members(
    ctx: WorkContext,
    session: Session,
    incident_id: str,
    idents: Sequence[str],
    role: str,
    *,
    override: str | None = None,
) -> list[str]:
    """Link submissions to the incident (logged; a new or triaged one becomes "linked").

    Raises TriageError for a withdrawn submission unless `override` gives the reason, which
    is logged with the link. Nothing is linked when any submission is refused."""
    incident = get_incident(session, incident_id)
    if role not in ROLES:
        raise usage(f"role {role!r} is unknown", f"use one of: {', '.join(ROLES)}")
    rows = [get_submission(session, ident) for ident in idents]
    for row in rows:
        _check_not_withdrawn(row, override)
    added = []
    for row in rows:
        if session.get(IncidentMember, (incident.id, row.id)) is not None:
            continue
        session.add(
            IncidentMember(
                incident_id=incident.id, submission_id=row.id, role=role, added_at=_now()
            )
        )
        if row.status in _OPEN_STATUSES:
            row.status = "linked"
        details = {"incident": incident.id, "role": role}
        if row.status == WITHDRAWN:
            details["override"] = override or ""
        ctx.record("linked", "submission", row.id, details=details)
        added.append(row.id)
    session.commit()
    return added


@dataclass(frozen=True)
class Sources:
    """Members grouped into sources: one group per witness, groups joined by a shared file."""

    groups: tuple[tuple[str, ...], ...]

    @property
    def count(self) -> int:
        return len(self.groups)


def independent_sources(rows: Sequence[Submission]) -> Sources:
    """Union-find over "same witness" and "same file SHA-256": what is left are sources."""
    parent = {row.id: row.id for row in rows}

    def root(ident: str) -> str:
        while parent[ident] != ident:
            parent[ident] = parent[parent[ident]]
            ident = parent[ident]
        return ident

    seen: dict[str, str] = {}
    for row in rows:
        keys = [f"w:{row.witness_recipient}"] + [f"f:{a.plaintext_sha256}" for a in row.files]
        for key in keys:
            if key in seen:
                parent[root(row.id)] = root(seen[key])
            else:
                seen[key] = row.id
    groups: dict[str, list[str]] = {}
    for row in rows:
        groups.setdefault(root(row.id), []).append(row.id)
    return Sources(tuple(tuple(sorted(g)) for g in sorted(groups.values())))


def status_label(code: str) -> str:
    return codes.label("incident_status", code) if codes.is_valid("incident_status", code) else code
