"""Finding submissions: the filters of `triage list`, fast at tens of thousands of rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.orm import Session

from triage._errors_ws import not_found, usage
from triage._lists import split
from triage.translit import normalise
from triage.workspace.models import Attachment, SearchText, Submission, Tag

__all__ = ["Filters", "ListRow", "get_submission", "list_rows", "resolve_oblast"]

_ISO_OBLAST = re.compile(r"(?i)(UA-)?\d\d")


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    incident_type: str | None = None
    oblast: str | None = None
    since: date | None = None
    until: date | None = None
    tags: tuple[str, ...] = ()
    search: str | None = None
    limit: int | None = 100


@dataclass(frozen=True)
class ListRow:
    id: str
    day: date
    status: str
    types: list[str]
    oblast: str | None
    files: int
    tags: list[str]

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "day": self.day.isoformat()}


def _check_code(list_name: str, value: str, option: str) -> str:
    from protocol import codes  # noqa: PLC0415 - only when filtering: `list` starts faster

    if not codes.is_valid(list_name, value):
        known = ", ".join(codes.codes(list_name))
        raise usage(f"{option} {value!r} is not a known code", f"use one of: {known}")
    return value


def resolve_oblast(text: str) -> str:
    """An oblast from its code ("UA-23", "23") or the start of its English name."""
    from protocol import codes  # noqa: PLC0415 - only when filtering: `list` starts faster

    wanted = text.strip().casefold()
    for code in codes.codes("oblast"):
        label = codes.label("oblast", code).casefold()
        if wanted in (code.casefold(), code[3:]) or (len(wanted) >= 3 and label.startswith(wanted)):
            return code
    raise usage(f"--oblast {text!r} is not an oblast", "give its ISO code (UA-23) or its name")


def _oblast_code(text: str) -> str:
    # An ISO code is used as it is (a wrong one matches nothing, which is then explained): only
    # a name needs the code list, and so protocol (and crypto) loaded.
    if _ISO_OBLAST.fullmatch(text.strip()):
        return "UA-" + text.strip()[-2:]
    return resolve_oblast(text)


def _check_filters(filters: Filters) -> None:
    """Called when nothing matched: was a code mistyped? (a usage error if so)."""
    if filters.status:
        _check_code("submission_status", filters.status, "--status")
    if filters.incident_type:
        _check_code("incident_type", filters.incident_type, "--type")
    if filters.oblast:
        resolve_oblast(filters.oblast)


def _conditions(filters: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Submission.kind != "consent_change"]
    if filters.status:
        where.append(Submission.status == filters.status)
    if filters.incident_type:
        code = f"|{filters.incident_type}|"
        where.append(Submission.incident_types.contains(code, autoescape=True))
    if filters.oblast:
        where.append(Submission.oblast == _oblast_code(filters.oblast))
    if filters.since:
        where.append(Submission.day >= filters.since)
    if filters.until:
        where.append(Submission.day <= filters.until)
    for tag in filters.tags:
        where.append(exists().where(and_(Tag.submission_id == Submission.id, Tag.name == tag)))
    for word in normalise(filters.search or "").split():
        match = SearchText.text.contains(word, autoescape=True)
        where.append(exists().where(SearchText.submission_id == Submission.id, match))
    return where


def _query(where: list[ColumnElement[bool]]) -> Select[Any]:
    files = select(func.count()).where(Attachment.submission_id == Submission.id).scalar_subquery()
    tags = select(func.group_concat(Tag.name, "|")).where(Tag.submission_id == Submission.id)
    columns = (Submission.id, Submission.day, Submission.status, Submission.incident_types)
    return (
        select(*columns, Submission.oblast, files, tags.scalar_subquery())
        .where(*where)
        .order_by(Submission.received_at.desc(), Submission.id)
    )


def list_rows(session: Session, filters: Filters) -> tuple[list[ListRow], int]:
    """The matching rows (newest first, at most `limit`) and how many match in all."""
    where = _conditions(filters)
    total = session.scalar(select(func.count()).select_from(Submission).where(*where)) or 0
    if not total:
        _check_filters(filters)
    query = _query(where)
    if filters.limit:
        query = query.limit(filters.limit)
    rows = [
        ListRow(ident, day, status, split(types), oblast, files, sorted(split(tags or "")))
        for ident, day, status, types, oblast, files, tags in session.execute(query)
    ]
    return rows, total


def get_submission(session: Session, ident: str) -> Submission:
    """The submission with this id (typed loosely: case and O/I/L typos forgiven)."""
    from protocol.errors import ProtocolError  # noqa: PLC0415
    from protocol.ids import parse_submission_id  # noqa: PLC0415

    try:
        canonical = parse_submission_id(ident)
    except ProtocolError:
        raise not_found("submission", ident) from None
    row = session.get(Submission, canonical)
    if row is None:
        raise not_found("submission", canonical)
    return row
