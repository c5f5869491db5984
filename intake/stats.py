"""Operational counts by day for `intake stats`: how much, never what."""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import ColumnElement, case, func, select

from intake.db import SessionFactory
from intake.models import Submission, SubmissionState

__all__ = ["DayCounts", "Stats", "collect_stats", "free_disk_bytes"]


@dataclass(frozen=True)
class DayCounts:
    """Submissions received on one UTC day (or all days, for the totals) and where they stand."""

    day: date | None
    submissions: int
    files: int
    sealed_bytes: int
    awaiting_export: int
    awaiting_ack: int
    purged: int

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["day"] = self.day.isoformat() if self.day else None
        return data


@dataclass(frozen=True)
class Stats:
    """Per-day rows (oldest first), their totals, and the free space where blobs are stored."""

    days: tuple[DayCounts, ...]
    totals: DayCounts
    free_disk_bytes: int

    def as_json(self) -> dict[str, object]:
        return {
            "days": [day.as_json() for day in self.days],
            "totals": self.totals.as_json(),
            "free_disk_bytes": self.free_disk_bytes,
        }


def free_disk_bytes(path: Path) -> int:
    """Free bytes on the filesystem holding `path` (or its nearest existing parent)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def _in_state(state: SubmissionState) -> ColumnElement[int]:
    return func.sum(case((Submission.state == state, 1), else_=0))


def collect_stats(sessions: SessionFactory, blob_dir: Path) -> Stats:
    """Counts grouped by the day a submission was received. Raises SQLAlchemyError."""
    query = (
        select(
            Submission.received_on,
            func.count(),
            func.sum(Submission.file_count),
            func.sum(Submission.sealed_bytes),
            _in_state(SubmissionState.STORED),
            _in_state(SubmissionState.EXPORTED),
            _in_state(SubmissionState.PURGED),
        )
        .group_by(Submission.received_on)
        .order_by(Submission.received_on)
    )
    with sessions() as session:
        rows = session.execute(query).all()
    days = tuple(DayCounts(row[0], *(int(value or 0) for value in row[1:])) for row in rows)
    totals = DayCounts(
        None,
        *(sum(getattr(day, name) for day in days) for name in _COUNT_FIELDS),
    )
    return Stats(days=days, totals=totals, free_disk_bytes=free_disk_bytes(blob_dir))


_COUNT_FIELDS = (
    "submissions",
    "files",
    "sealed_bytes",
    "awaiting_export",
    "awaiting_ack",
    "purged",
)
