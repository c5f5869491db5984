"""Columns derived once from an opened submission: claims to filter on, date window, search text."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta

from protocol import codes
from protocol.schema import Submission
from triage.text.translit import fold, normalise
from triage.workspace.lists import joined, split

__all__ = ["date_window", "joined", "search_text", "split", "unit_texts"]

# "approximate" means the witness was not sure of the day: a few days either side.
APPROXIMATE_DAYS = 3


def date_window(text: str | None, precision: str | None) -> tuple[date, date] | None:
    """The days B4 allows: one day (exact), ± a few days (approximate), a month, a year."""
    if not text or precision == "unknown":
        return None
    parts = [int(part) for part in text.split("-")]
    try:
        if len(parts) == 1:
            return date(parts[0], 1, 1), date(parts[0], 12, 31)
        if len(parts) == 2 or precision == "month":
            last = calendar.monthrange(parts[0], parts[1])[1]
            return date(parts[0], parts[1], 1), date(parts[0], parts[1], last)
        day = date(parts[0], parts[1], parts[2])
    except ValueError:
        return None  # "2024-02-30": a claim we keep verbatim but cannot place on a calendar
    if precision == "approximate":
        spread = timedelta(days=APPROXIMATE_DAYS)
        return day - spread, day + spread
    return day, day


def _texts(submission: Submission) -> Iterable[str]:
    for value in submission.answers.values.values():
        if isinstance(value, str):
            yield value
        elif isinstance(value, tuple):
            yield from value
    for entry in submission.files:
        yield entry.original_name
        for value in entry.group_answers.values.values():
            if isinstance(value, str):
                yield value


def search_text(submission: Submission) -> str:
    """Every free text and code of the submission, normalised (Cyrillic romanised, lower-case)
    and folded (triage.text.translit.fold), so "Гром" and "Grom" are stored alike."""
    return fold(normalise(" \n ".join(_texts(submission))))


def oblast(submission: Submission) -> str | None:
    code = submission.answers.text("B6_oblast")
    return code if code is not None and codes.is_valid("oblast", code) else None


def unit_texts(submission: Submission) -> list[str]:
    """What names a unit or a person by call-sign: B8 unit and call-signs, C9 of each file."""
    found = [submission.answers.text("B8_unit") or ""]
    found.extend(submission.answers.codes("B8_callsigns"))
    for entry in submission.files:
        found.append(entry.group_answers.text("C9") or "")
    return [text for text in found if text]
