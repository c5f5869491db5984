"""A testimony laid out for people: section by section, codes as labels, text verbatim."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from protocol import codes
from protocol.fields import GROUP_FIELDS, TESTIMONY_FIELDS, AnswerValue, FieldSpec
from protocol.schema import Submission

__all__ = ["LABELS", "Line", "group_lines", "answer_sections"]

LABELS = {
    "A3": "Agreed to submit", "A4": "May receive it",
    "B1": "What happened", "B2": "How they know", "B2_detail": "How (details)",
    "B3": "Incident type (witness's claim)", "B3_other": "Incident type (other)",
    "B4_date": "Date", "B4_precision": "Date precision", "B5_from": "Time from",
    "B5_to": "Time to", "B5_approximate": "Time approximate", "B5_timezone": "Time zone",
    "B6_oblast": "Oblast", "B6_settlement": "Settlement", "B6_description": "Place",
    "B6_lat": "Latitude", "B6_lon": "Longitude", "B6_precision": "Place precision",
    "B7_min": "Victims (at least)", "B7_max": "Victims (at most)",
    "B7_categories": "Victims were", "B7_details": "About the victims",
    "B8_description": "Who did it", "B8_force": "Force", "B8_unit": "Unit",
    "B8_callsigns": "Call-signs", "B8_insignia": "Uniforms, insignia",
    "B8_vehicles": "Vehicles, markings", "B8_order_heard": "Heard an order",
    "B8_orders": "Orders heard", "B9": "Other witnesses or evidence",
    "B10": "Reported elsewhere", "B10_refs": "References",
    "D0": "Tells who they are", "D1": "Name or how to refer to them", "D2": "Role",
    "D3": "May be contacted", "D4": "Contact method", "D4_other": "Other channel",
    "D5": "Before contacting", "D6": "Willing to testify", "D7": "Wants support information",
    "C2": "What it shows", "C3": "Recorded by", "C3_detail": "Recorded by (details)",
    "C4": "Original or copy", "C4_original_kept": "Original still kept", "C5": "Link",
    "C6": "Edited", "C6_how": "How edited", "C7": "Recorded when/where", "C8": "Device or app",
    "C9": "Intercept details", "C10": "Graphic violence", "C11": "People at risk",
}  # fmt: skip
SECTIONS = (("A", "Consent"), ("B", "What happened"), ("D", "About the witness"))
IDENTITY_SECTION = "D"


@dataclass(frozen=True)
class Line:
    """One answer: its field id, label, and value as text; `free` when the witness typed it."""

    field_id: str
    label: str
    value: str
    free: bool


def _code_text(spec: FieldSpec, code: str) -> str:
    for name in (spec.code_list, "non_answer"):
        if name is not None and codes.is_valid(name, code):
            return codes.label(name, code)
    return code


def _value_text(spec: FieldSpec, value: AnswerValue) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if spec.code_list is not None:
        items = value if isinstance(value, tuple) else (str(value),)
        return "; ".join(_code_text(spec, code) for code in items)
    if isinstance(value, tuple):
        return "; ".join(value)
    return str(value)


def _lines(values: Mapping[str, AnswerValue], specs: Mapping[str, FieldSpec]) -> Iterator[Line]:
    for field_id, spec in specs.items():  # the form's order, not alphabetical
        if field_id in values:
            free = spec.kind in ("text", "texts")
            text = _value_text(spec, values[field_id])
            yield Line(field_id, LABELS.get(field_id, field_id), text, free)


def answer_sections(
    submission: Submission, *, withhold_identity: bool = False
) -> Iterator[tuple[str, list[Line]]]:
    """(section title, lines) for each section with answers; section D left out on request."""
    lines = list(_lines(submission.answers.values, TESTIMONY_FIELDS))
    for letter, title in SECTIONS:
        if letter == IDENTITY_SECTION and withhold_identity:
            continue
        found = [line for line in lines if line.field_id.startswith(letter)]
        if found:
            yield title, found


def group_lines(group_answers_json: str) -> list[Line]:
    """The section C answers stored with one file."""
    values = json.loads(group_answers_json)
    typed = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return list(_lines(typed, GROUP_FIELDS))
