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
    "FOLLOW_UP_FIELDS",
    "GROUP_FIELDS",
    "MAX_LIST_ITEMS",
    "MAX_TEXT",
    "TESTIMONY_FIELDS",
    "AnswerValue",
    "FieldSpec",
]

FieldKind = Literal["text", "texts", "code", "codes", "bool", "int", "number", "date", "time"]
AnswerValue = str | bool | int | float | tuple[str, ...]

# Caps far above what the witness site accepts (it has its own, smaller ones): the schema's job
# is only to refuse absurd documents before anything else reads them.
MAX_TEXT = 200_000
MAX_LIST_ITEMS = 100
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

    def check(self, field_id: str, value: object) -> AnswerValue:
        """The value in its typed form. Raises ProtocolError("schema")."""
        checker = _CHECKERS[self.kind]
        result = checker(self, value)
        if result is None:
            raise ProtocolError("schema", f"answer {field_id} is not a valid {self.kind} value")
        return result

    def allows(self, code: object) -> bool:
        assert self.code_list is not None  # noqa: S101 - every coded FieldSpec names its list
        if isinstance(code, str) and codes.is_valid(self.code_list, code):
            return True
        return not self.required_code and code in codes.NON_ANSWERS


def _text(_spec: FieldSpec, value: object) -> AnswerValue | None:
    if isinstance(value, str) and len(value) <= MAX_TEXT and "\x00" not in value:
        return value if is_unicode(value) else None
    return None


def _strings(value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list | tuple) or len(value) > MAX_LIST_ITEMS:
        return None
    if not all(isinstance(item, str) for item in value) or len(set(value)) != len(value):
        return None
    return tuple(value)


def _texts(spec: FieldSpec, value: object) -> AnswerValue | None:
    items = _strings(value)
    ok = items is not None and all(_text(spec, item) is not None for item in items)
    return items if ok else None


def _code(spec: FieldSpec, value: object) -> AnswerValue | None:
    return value if isinstance(value, str) and spec.allows(value) else None


def _codes(spec: FieldSpec, value: object) -> AnswerValue | None:
    items = _strings(value)
    return items if items is not None and all(spec.allows(item) for item in items) else None


def _bool(_spec: FieldSpec, value: object) -> AnswerValue | None:
    return value if isinstance(value, bool) else None


def _in_range(spec: FieldSpec, number: float) -> bool:
    low = -math.inf if spec.low is None else spec.low
    high = math.inf if spec.high is None else spec.high
    return math.isfinite(number) and low <= number <= high


def _int(spec: FieldSpec, value: object) -> AnswerValue | None:
    # bool is an int in Python; JSON true is not a count.
    if isinstance(value, int) and not isinstance(value, bool) and _in_range(spec, value):
        return value
    return None


def _number(spec: FieldSpec, value: object) -> AnswerValue | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if _in_range(spec, float(value)) else None


def _date(_spec: FieldSpec, value: object) -> AnswerValue | None:
    # "YYYY", "YYYY-MM" or "YYYY-MM-DD": precision "month only" has no day.
    return value if isinstance(value, str) and _DATE_RE.fullmatch(value) else None


def _time(_spec: FieldSpec, value: object) -> AnswerValue | None:
    return value if isinstance(value, str) and _TIME_RE.fullmatch(value) else None


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

TEXT = FieldSpec("text")
FLAG = FieldSpec("bool")


def _coded(code_list: str, *, many: bool = False, required: bool = False) -> FieldSpec:
    return FieldSpec("codes" if many else "code", code_list, required_code=required)


_YNU = _coded("yes_no_unsure")

# Field ids follow form.md; sub-fields of one question carry a suffix.
TESTIMONY_FIELDS: Mapping[str, FieldSpec] = MappingProxyType(
    {
        "A3": FLAG,
        "A4": _coded("recipient_class", many=True, required=True),
        "B1": TEXT,
        "B2": _coded("source_type"),
        "B2_detail": TEXT,
        "B3": _coded("incident_type", many=True),
        "B3_other": TEXT,
        "B4_date": FieldSpec("date"),
        "B4_precision": _coded("date_precision"),
        "B5_from": FieldSpec("time"),
        "B5_to": FieldSpec("time"),
        "B5_approximate": FLAG,
        "B5_timezone": TEXT,
        "B6_oblast": _coded("oblast"),
        "B6_settlement": TEXT,
        "B6_description": TEXT,
        "B6_lat": FieldSpec("number", low=-90.0, high=90.0),
        "B6_lon": FieldSpec("number", low=-180.0, high=180.0),
        "B6_precision": _coded("location_precision"),
        "B7_min": FieldSpec("int", low=0, high=10**9),
        "B7_max": FieldSpec("int", low=0, high=10**9),
        "B7_categories": _coded("victim_category", many=True),
        "B7_details": TEXT,
        "B8_description": TEXT,
        "B8_force": _coded("force"),
        "B8_unit": TEXT,
        "B8_callsigns": FieldSpec("texts"),
        "B8_insignia": TEXT,
        "B8_vehicles": TEXT,
        "B8_order_heard": _YNU,
        "B8_orders": TEXT,
        "B9": TEXT,
        "B10": _coded("reported_elsewhere", many=True),
        "B10_refs": TEXT,
        "D0": FLAG,
        "D1": TEXT,
        "D2": _coded("witness_role"),
        "D3": FLAG,
        "D4": _coded("contact_method"),
        "D4_other": TEXT,
        "D5": TEXT,
        "D6": _coded("willing_to_testify"),
        "D7": FLAG,
    }
)

# A follow-up is more words (and more files) from the same witness.
FOLLOW_UP_FIELDS: Mapping[str, FieldSpec] = MappingProxyType({"B1": TEXT})

# Section C, asked once per file group and stored with each file of the group.
GROUP_FIELDS: Mapping[str, FieldSpec] = MappingProxyType(
    {
        "C2": TEXT,
        "C3": _coded("recorded_by"),
        "C3_detail": TEXT,
        "C4": _coded("file_generation"),
        "C4_original_kept": _YNU,
        "C5": TEXT,
        "C6": _YNU,
        "C6_how": TEXT,
        "C7": TEXT,
        "C8": _coded("capture_device"),
        "C9": TEXT,
        "C10": _YNU,
        "C11": _YNU,
    }
)
