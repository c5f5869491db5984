"""The witness's coordinates (B6) read as latitude and longitude, or refused as ambiguous.

Ukrainian and Russian keyboards write decimals with a comma, so "50,45" may be one number
(50.45) or two (50 and 45). Evidence must not be sealed at a guessed place: what cannot be
read one way only is refused, and the witness is shown how to write it.
"""

from __future__ import annotations

import re

__all__ = ["parse_coordinates"]

# [0-9], not \d: in a str pattern \d matches every Unicode digit.
_POINT = r"-?[0-9]{1,3}(?:\.[0-9]+)?"
_EITHER = r"-?[0-9]{1,3}(?:[.,][0-9]+)?"
# "50.45, 30.52", "50.45,30.52", "50, 30": decimals with a point, a comma between.
_BY_COMMA = re.compile(rf"({_POINT})\s*,(\s*)({_POINT})")
# "50,45; 30,52", "50.45; 30.52", "50,45 30,52": either decimal mark, a semicolon or a space
# between (neither can be part of a number).
_BY_OTHER = re.compile(rf"({_EITHER})\s*;\s*({_EITHER})|({_EITHER})\s+({_EITHER})")


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """(latitude, longitude) from what the witness typed, or None when it is not two numbers
    or could be read two ways ("50,45": 50.45 alone, or 50 and 45?)."""
    text = text.strip()
    if match := _BY_COMMA.fullmatch(text):
        low, space, high = match.groups()
        if "." not in low + high and not space:
            return None  # "50,45": a decimal comma or two whole numbers, we cannot tell
        return float(low), float(high)
    if match := _BY_OTHER.fullmatch(text):
        first, second = [g for g in match.groups() if g is not None]
        return _number(first), _number(second)
    return None
