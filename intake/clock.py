"""Coarse UTC time: days for stored dates, whole hours for TTLs and budgets, minutes for the
short-lived witness sessions (never finer)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

__all__ = ["hour_bucket", "midnight_utc_timestamp", "minute_bucket", "utc_now", "utc_today"]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the one place the server reads the clock)."""
    return datetime.now(UTC)


def utc_today(now: datetime | None = None) -> date:
    """The UTC day: the finest date the database stores about a submission."""
    return (now or utc_now()).astimezone(UTC).date()


def hour_bucket(now: datetime | None = None) -> int:
    """Whole hours since the Unix epoch (UTC).

    TTLs (pending drafts, form tokens) and the codename attempt budget need hours, not days;
    an integer hour number keeps them exactly that coarse in the database.
    """
    return int((now or utc_now()).timestamp() // 3600)


def minute_bucket(now: datetime | None = None) -> int:
    """Whole minutes since the Unix epoch (UTC).

    Only witness sessions use it: a 30-minute idle limit cannot be kept in hours. Their rows
    live at most a day and a half and are deleted at logout or by the sweep.
    """
    return int((now or utc_now()).timestamp() // 60)


def midnight_utc_timestamp(now: datetime | None = None) -> float:
    """Unix time of today's 00:00 UTC, for normalising file times to the day."""
    day = utc_today(now)
    return datetime.combine(day, time.min, tzinfo=UTC).timestamp()
