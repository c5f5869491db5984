"""The form's answer fields (form.md 2.2): each field id, its value type and its code list."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from protocol import codes
from protocol._json import is_unicode
from protocol.errors import ProtocolError

__all__ = [
    "ACCOUNT_TEXT",
    "FIELD_RULES",
    "FOLLOW_UP_FIELDS",
    "GROUP_FIELDS",
    "LONG_TEXT",
    "MAX_LIST_ITEMS",
    "MAX_TEXT",
    "SHORT_TEXT",
    "TESTIMONY_FIELDS",
    "AnswerValue",
    "FieldSpec",
]

FieldKind = Literal["text", "texts", "code", "codes", "bool", "int", "number", "date", "time"]
AnswerValue = str | bool | int | float | tuple[str, ...]

# The witness form's limits are these, not a copy of them (intake.web.forms reads them), so the
# form cannot accept what the schema refuses. Generous, and they bound memory.
SHORT_TEXT = 500
"""Characters in a one-line answer (a unit name, a settlement, one call-sign)."""
LONG_TEXT = 20_000
"""Characters in a secondary free-text answer."""
ACCOUNT_TEXT = 100_000
"""Characters in the account B1: SecureDrop caps a message at 100,000 too."""
MAX_TEXT = 200_000
"""The cap of a FieldSpec that names none; every field of the form names its own."""
MAX_LIST_ITEMS = 100

# Why a value is refused, as stable ids: the witness site keys its translated messages by them
# and triage names them; never renamed once released.
FIELD_RULES = (
    "wrong-type",  # not the JSON type of its kind (a list for a text, a string for a number)
    "too-long",  # a text over its field's max_length
    "control-character",  # a NUL: PostgreSQL text cannot hold it, and no witness types one
    "not-unicode",  # a lone surrogate: not encodable as UTF-8
    "out-of-range",  # a number outside [low, high], or not finite
    "unknown-code",  # a code not in the field's list
    "bad-list",  # more than MAX_LIST_ITEMS items, or an item repeated
    "bad-date",  # not YYYY, YYYY-MM or YYYY-MM-DD
    "bad-time",  # not HH:MM
)
# [0-9], not \d: in a str pattern \d matches every Unicode digit ("٢٠٢٤" would pass).
_DATE_RE = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")
_TIME_RE = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


@dataclass(frozen=True)
class FieldSpec:
    """One answer field. Free text stays free text; coded fields accept their list's codes and,
    unless `required_code`, the non-answers "dont-know" / "prefer-not-to-say" (form rule F5)."""

    kind: FieldKind
    code_list: str | None = None
    required_code: bool = False
    low: float | None = None
    high: float | None = None
    max_length: int = MAX_TEXT

    def check(self, field_id: str, value: object) -> AnswerValue:
        """The value in its typed form. Raises ProtocolError("schema")."""
        result = _CHECKERS[self.kind](self, value)
        if isinstance(result, _Refused):
            raise ProtocolError(
                "schema", f"answer {field_id} is not a valid {self.kind} value ({result.rule})"
            )
        return result

    def violation(self, value: object) -> str | None:
        """The id (one of FIELD_RULES) of the first rule `value` breaks, or None."""
        result = _CHECKERS[self.kind](self, value)
        return result.rule if isinstance(result, _Refused) else None

    def allows(self, code: object) -> bool:
        assert self.code_list is not None  # noqa: S101 - every coded FieldSpec names its list
        if isinstance(code, str) and codes.is_valid(self.code_list, code):
            return True
        return not self.required_code and code in codes.NON_ANSWERS


@dataclass(frozen=True)
class _Refused:
    rule: str  # one of FIELD_RULES


_Checked = AnswerValue | _Refused
_WRONG_TYPE = _Refused("wrong-type")


def _text(spec: FieldSpec, value: object) -> _Checked:
    if not isinstance(value, str):
        return _WRONG_TYPE
    if len(value) > spec.max_length:
        return _Refused("too-long")
    if "\x00" in value:
        return _Refused("control-character")
    return value if is_unicode(value) else _Refused("not-unicode")


def _strings(value: object) -> tuple[str, ...] | _Refused:
    if not isinstance(value, list | tuple) or not all(isinstance(i, str) for i in value):
        return _WRONG_TYPE
    if len(value) > MAX_LIST_ITEMS or len(set(value)) != len(value):
        return _Refused("bad-list")
    return tuple(value)


def _texts(spec: FieldSpec, value: object) -> _Checked:
    items = _strings(value)
    if isinstance(items, _Refused):
        return items
    refused = [r for r in (_text(spec, item) for item in items) if isinstance(r, _Refused)]
    return refused[0] if refused else items


def _code(spec: FieldSpec, value: object) -> _Checked:
    if not isinstance(value, str):
        return _WRONG_TYPE
    return value if spec.allows(value) else _Refused("unknown-code")


def _codes(spec: FieldSpec, value: object) -> _Checked:
    items = _strings(value)
    if isinstance(items, _Refused) or all(spec.allows(item) for item in items):
        return items
    return _Refused("unknown-code")


def _bool(_spec: FieldSpec, value: object) -> _Checked:
    return value if isinstance(value, bool) else _WRONG_TYPE


def _in_range(spec: FieldSpec, number: float) -> bool:
    low = -math.inf if spec.low is None else spec.low
    high = math.inf if spec.high is None else spec.high
    return math.isfinite(number) and low <= number <= high


def _int(spec: FieldSpec, value: object) -> _Checked:
    # bool is an int in Python; JSON true is not a count.
    if not isinstance(value, int) or isinstance(value, bool):
        return _WRONG_TYPE
    return value if _in_range(spec, value) else _Refused("out-of-range")


def _number(spec: FieldSpec, value: object) -> _Checked:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _WRONG_TYPE
    return float(value) if _in_range(spec, float(value)) else _Refused("out-of-range")


def _date(_spec: FieldSpec, value: object) -> _Checked:
    # "YYYY", "YYYY-MM" or "YYYY-MM-DD": precision "month only" has no day.
    if not isinstance(value, str):
        return _WRONG_TYPE
    return value if _DATE_RE.fullmatch(value) else _Refused("bad-date")


def _time(_spec: FieldSpec, value: object) -> _Checked:
    if not isinstance(value, str):
        return _WRONG_TYPE
    return value if _TIME_RE.fullmatch(value) else _Refused("bad-time")


_CHECKERS = {
    "text": _text,
    "texts": _texts,
    "code": _code,
    "codes": _codes,
    "bool": _bool,
    "int": _int,
    "number": _number,
    "date": _date,
    "time": _time,
}

SHORT = FieldSpec("text", max_length=SHORT_TEXT)
LONG = FieldSpec("text", max_length=LONG_TEXT)
ACCOUNT = FieldSpec("text", max_length=ACCOUNT_TEXT)
FLAG = FieldSpec("bool")


def _coded(code_list: str, *, many: bool = False, required: bool = False) -> FieldSpec:
    return FieldSpec("codes" if many else "code", code_list, required_code=required)


_YNU = _coded("yes_no_unsure")

# Field ids follow form.md; sub-fields of one question carry a suffix.
TESTIMONY_FIELDS: Mapping[str, FieldSpec] = MappingProxyType(
    {
        "A3": FLAG,
        "A4": _coded("recipient_class", many=True, required=True),
        "B1": ACCOUNT,
        "B2": _coded("source_type"),
        "B2_detail": SHORT,
        "B3": _coded("incident_type", many=True),
        "B3_other": SHORT,
        "B4_date": FieldSpec("date"),
        "B4_precision": _coded("date_precision"),
        "B5_from": FieldSpec("time"),
        "B5_to": FieldSpec("time"),
        "B5_approximate": FLAG,
        "B5_timezone": SHORT,
        "B6_oblast": _coded("oblast"),
        "B6_settlement": SHORT,
        "B6_description": LONG,
        "B6_lat": FieldSpec("number", low=-90.0, high=90.0),
        "B6_lon": FieldSpec("number", low=-180.0, high=180.0),
        "B6_precision": _coded("location_precision"),
        "B7_min": FieldSpec("int", low=0, high=10**9),
        "B7_max": FieldSpec("int", low=0, high=10**9),
        "B7_categories": _coded("victim_category", many=True),
        "B7_details": LONG,
        "B8_description": LONG,
        "B8_force": _coded("force"),
        "B8_unit": SHORT,
        # Per call-sign: the form's box holds 2,000 characters, and sites before this
        # limit sealed a single line of that length, which must still parse.
        "B8_callsigns": FieldSpec("texts", max_length=4 * SHORT_TEXT),
        "B8_insignia": SHORT,
        "B8_vehicles": SHORT,
        "B8_order_heard": _YNU,
        "B8_orders": LONG,
        "B9": LONG,
        "B10": _coded("reported_elsewhere", many=True),
        "B10_refs": SHORT,
        "D0": FLAG,
        "D1": SHORT,
        "D2": _coded("witness_role"),
        "D3": FLAG,
        "D4": _coded("contact_method"),
        "D4_other": LONG,
        "D5": LONG,
        "D6": _coded("willing_to_testify"),
        "D7": FLAG,
    }
)

# A follow-up is more words (and more files) from the same witness.
FOLLOW_UP_FIELDS: Mapping[str, FieldSpec] = MappingProxyType({"B1": ACCOUNT})

# Section C, asked once per file group and stored with each file of the group.
GROUP_FIELDS: Mapping[str, FieldSpec] = MappingProxyType(
    {
        "C2": LONG,
        "C3": _coded("recorded_by"),
        "C3_detail": SHORT,
        "C4": _coded("file_generation"),
        "C4_original_kept": _YNU,
        "C5": LONG,
        "C6": _YNU,
        "C6_how": LONG,
        "C7": LONG,
        "C8": _coded("capture_device"),
        "C9": LONG,
        "C10": _YNU,
        "C11": _YNU,
    }
)
