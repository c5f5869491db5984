"""Contradictions with the testimony, and the oblast data's known points."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from triage.media.checks import contradictions
from triage.media.facts import READ, MediaFacts, from_tools, parse_iso6709
from triage.media.places import SOURCE, oblasts_near, outside_named

KNOWN = {  # ISO 3166-2:UA, as GeoNames places them
    "Sevastopol": (44.6167, 33.5254, "UA-40"),
    "Simferopol": (44.9521, 34.1024, "UA-43"),
    "Donetsk": (48.0159, 37.8029, "UA-14"),
    "Mariupol": (47.0971, 37.5434, "UA-14"),
    "Kherson": (46.6354, 32.6169, "UA-65"),
}


@pytest.mark.parametrize("city", sorted(KNOWN))
def test_known_points_lie_in_their_oblast(city: str):
    lat, lon, code = KNOWN[city]
    assert code in oblasts_near(lat, lon)
    assert outside_named(lat, lon, code) is None
    assert "GeoNames" in SOURCE


def test_crimea_and_sevastopol_are_ukraine_and_enclose_each_other():
    lat, lon, _ = KNOWN["Sevastopol"]
    assert outside_named(lat, lon, "UA-43") is None  # Sevastopol lies within Crimea's outline
    assert outside_named(*KNOWN["Simferopol"][:2], "UA-65") == frozenset({"UA-43"})
    belgorod = (50.5997, 36.5983)  # across the border from Kharkiv oblast
    assert outside_named(*belgorod, "UA-63") == frozenset({"RU"})
    assert outside_named(43.0, 34.0, "UA-43") is None  # the open sea: too far to say


def _facts(**kw: object) -> MediaFacts:
    return MediaFacts(READ, **kw)  # type: ignore[arg-type]


def test_time_outside_the_window_allows_fourteen_hours():
    window: dict[str, Any] = {"event_from": date(2024, 3, 1), "event_to": date(2024, 3, 1)}
    window["oblast"] = None
    assert contradictions(_facts(recorded_at="2024-03-02T13:59:00+00:00"), **window) == []
    assert contradictions(_facts(recorded_at="2024-02-29T10:01:00"), **window) == []
    late = contradictions(_facts(recorded_at="2024-03-02T14:01:00+00:00"), **window)
    assert [f.kind for f in late] == ["time"]
    assert "may be the re-encoding's" in late[0].text
    assert (
        contradictions(_facts(recorded_at="2024-03-09T10:00:00"), **{**window, "event_from": None})
        == []
    )


def test_place_and_editor_are_flagged():
    lat, lon, _ = KNOWN["Donetsk"]
    none = {"event_from": None, "event_to": None}
    flags = contradictions(
        _facts(latitude=lat, longitude=lon, gps_source="EXIF GPS", software="CapCut 10.2"),
        oblast="UA-65", **none,
    )  # fmt: skip
    assert [f.kind for f in flags] == ["place", "editor"]
    # Nearest towns, not boundaries: the place is worth a look, never a contradiction.
    assert [f.heading for f in flags] == ["CHECK (place)", "CONTRADICTION (editor)"]
    assert "possibly outside the oblast named (UA-65)" in flags[0].text
    assert "towns, not boundaries" in flags[0].text
    assert "UA-14" in flags[0].text
    assert "UA-65" in flags[0].text
    assert contradictions(_facts(latitude=lat, longitude=lon), oblast="UA-14", **none) == []
    assert contradictions(_facts(software="Lavf61.7.100"), oblast=None, **none) == []


def test_hostile_values_are_dropped():
    raw = {
        "format": "mov", "duration": float("nan"),
        "metadata": {"location": "+91.0000+200.0000/", "creation_time": "1904-01-01T00:00:00Z",
                     "make": ["not", "text"]},
        "streams": [{"type": "video", "width": -5, "height": 1e9, "rate": "fast"}],
    }  # fmt: skip
    facts = from_tools(raw, None)
    assert facts.state == READ
    assert facts.duration is None
    assert facts.width is None
    assert facts.height is None
    assert not facts.has_gps
    assert facts.recorded_at is None
    assert facts.make is None
    assert parse_iso6709("+50.4501+030.5234+150.0/") == (50.4501, 30.5234)
    assert parse_iso6709("+00.0000+000.0000/") is None
