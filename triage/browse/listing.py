"""`triage list`: the filters, read straight from SQLite with the standard library.

The schema is the SQLAlchemy models' (triage/workspace/models.py); this read-only path uses
`sqlite3` because importing SQLAlchemy's ORM alone takes 0.25-0.3 s on the target laptop, more
than half of the 0.5 s that listing 10,000 submissions may take. Every value is a bound
parameter; the SQL text is assembled only from the fixed fragments below.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from protocol import codes
from triage.errors import usage
from triage.text.translit import fold, normalise
from triage.workspace.lists import split

__all__ = ["Filters", "ListRow", "check_code", "list_rows", "resolve_oblast"]

_ISO_OBLAST = re.compile(r"(?i)(UA-)?\d\d")
_COLUMNS = """s.id, s.day, s.status, s.incident_types, s.oblast,
    (SELECT count(*) FROM attachment a WHERE a.submission_id = s.id),
    (SELECT group_concat(t.name, '|') FROM tag t WHERE t.submission_id = s.id)"""


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
    # What the files say about themselves (triage media scan): any file with GPS; any file
    # recorded on or after / on or before a day (UTC, the day's start / end).
    has_gps: bool = False
    recorded_since: date | None = None
    recorded_until: date | None = None


@dataclass(frozen=True)
class ListRow:
    id: str
    day: str
    status: str
    types: list[str]
    oblast: str | None
    files: int
    tags: list[str]

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def check_code(list_name: str, value: str, option: str) -> str:
    """`value` if it is a code of `list_name`; a usage error naming the codes otherwise."""
    if not codes.is_valid(list_name, value):
        known = ", ".join(codes.codes(list_name))
        raise usage(f"{option} {value!r} is not a known code", f"use one of: {known}")
    return value


def resolve_oblast(text: str) -> str:
    """An oblast from its code ("UA-23", "23") or the start of its English name."""
    wanted = text.strip().casefold()
    for code in codes.codes("oblast"):
        label = codes.label("oblast", code).casefold()
        if wanted in (code.casefold(), code[3:]) or (len(wanted) >= 3 and label.startswith(wanted)):
            return code
    raise usage(f"--oblast {text!r} is not an oblast", "give its ISO code (UA-23) or its name")


def _oblast_code(text: str) -> str:
    # An ISO code is used as it is (one that matches nothing is checked afterwards): only a
    # name needs the code list.
    text = text.strip()
    return f"UA-{text[-2:]}" if _ISO_OBLAST.fullmatch(text) else resolve_oblast(text)


_MEDIA = (
    "EXISTS (SELECT 1 FROM media m JOIN attachment a ON a.blob_name = m.blob_name"
    " WHERE a.submission_id = s.id AND "
)


def _media_conditions(filters: Filters, where: list[str], params: list[object]) -> None:
    if filters.has_gps:
        where.append(_MEDIA + "m.has_gps)")
    if filters.recorded_since:
        where.append(_MEDIA + "m.recorded_at >= ?)")
        params.append(filters.recorded_since.isoformat())
    if filters.recorded_until:
        where.append(_MEDIA + "m.recorded_at < date(?, '+1 day'))")
        params.append(filters.recorded_until.isoformat())


def _conditions(filters: Filters) -> tuple[list[str], list[object]]:
    where: list[str] = ["s.kind != 'consent_change'"]
    params: list[object] = []
    simple = (
        ("s.status = ?", filters.status),
        ("instr(s.incident_types, ?) > 0", filters.incident_type and f"|{filters.incident_type}|"),
        ("s.oblast = ?", filters.oblast and _oblast_code(filters.oblast)),
        ("s.day >= ?", filters.since and filters.since.isoformat()),
        ("s.day <= ?", filters.until and filters.until.isoformat()),
    )
    for clause, value in simple:
        if value:
            where.append(clause)
            params.append(value)
    for tag in filters.tags:
        where.append("EXISTS (SELECT 1 FROM tag t WHERE t.submission_id = s.id AND t.name = ?)")
        params.append(tag)
    for word in normalise(filters.search or "").split():
        # The index is folded (triage.importing.derive.search_text), so the folded word finds
        # "Гром" from "Grom" and back; the plain word still finds text a workspace indexed
        # before folding.
        where.append(
            "EXISTS (SELECT 1 FROM submission_search x WHERE x.submission_id = s.id"
            " AND (instr(x.text, ?) > 0 OR instr(x.text, ?) > 0))"
        )
        params += [fold(word), word]
    _media_conditions(filters, where, params)
    return where, params


def _explain_nothing(filters: Filters) -> None:
    """Nothing matched: was a code mistyped? (a usage error if so)."""
    if filters.status:
        check_code("submission_status", filters.status, "--status")
    if filters.incident_type:
        check_code("incident_type", filters.incident_type, "--type")
    if filters.oblast:
        resolve_oblast(filters.oblast)


def _wants_media(filters: Filters) -> bool:
    return filters.has_gps or bool(filters.recorded_since or filters.recorded_until)


def _has_media_table(db: sqlite3.Connection) -> bool:
    found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'media'")
    return found.fetchone() is not None


def list_rows(db_path: Path, filters: Filters) -> tuple[list[ListRow], int]:
    """The matching rows (newest first, at most `limit`) and how many match in all."""
    where, params = _conditions(filters)
    clause = " AND ".join(where)
    with sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True) as db:
        if _wants_media(filters) and not _has_media_table(db):
            return [], 0  # never scanned: no file has a known time or position
        # S608: `clause` is built from the fixed fragments above; values are parameters.
        total = db.execute(f"SELECT count(*) FROM submission s WHERE {clause}", params)  # noqa: S608
        count = int(total.fetchone()[0])
        if not count:
            _explain_nothing(filters)
        query = (
            f"SELECT {_COLUMNS} FROM submission s WHERE {clause}"  # noqa: S608 - as above
            " ORDER BY s.received_at DESC, s.id LIMIT ?"
        )
        found = db.execute(query, [*params, filters.limit or -1]).fetchall()
    rows = [
        ListRow(ident, day, status, split(types), oblast, files, sorted(split(tags or "")))
        for ident, day, status, types, oblast, files, tags in found
    ]
    return rows, count
