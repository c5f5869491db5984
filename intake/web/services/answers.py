"""From the validated WTForms forms to protocol's `Answers`, keyed by the form.md field ids.

An empty answer is left out (absent means "not answered", which is what "don't know / prefer
not to say" stores); free text is kept exactly as typed (rule F7), only line endings unified.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from wtforms import Form

from intake.web.coordinates import parse_coordinates
from protocol.entries import Answers
from protocol.fields import FOLLOW_UP_FIELDS, GROUP_FIELDS, TESTIMONY_FIELDS, AnswerValue
from protocol.rules import GroupInput, violations

__all__ = [
    "KYIV_TIME_ZONE",
    "SchemaSlip",
    "follow_up_answers",
    "group_answers",
    "schema_slips",
    "testimony_answers",
]

KYIV_TIME_ZONE = "Europe/Kyiv"
"""B5: times are asked in Kyiv time (form.md), and the zone travels with them."""


# form.md field id -> the WTForms field that answers it.
_TESTIMONY: Mapping[str, str] = {
    "A3": "consent",
    "A4": "recipients",
    "B1": "account",
    "B2": "source",
    "B2_detail": "source_detail",
    "B3": "incident_types",
    "B3_other": "incident_other",
    "B4_date": "event_date",
    "B4_precision": "date_precision",
    "B5_from": "time_from",
    "B5_to": "time_to",
    "B5_approximate": "time_approximate",
    "B6_oblast": "oblast",
    "B6_settlement": "settlement",
    "B6_description": "place",
    "B6_precision": "coordinates_precision",
    "B7_min": "victims_min",
    "B7_max": "victims_max",
    "B7_categories": "victim_categories",
    "B7_details": "victim_details",
    "B8_description": "perpetrators",
    "B8_force": "force",
    "B8_unit": "unit",
    "B8_insignia": "insignia",
    "B8_vehicles": "vehicles",
    "B8_order_heard": "order_heard",
    "B8_orders": "orders",
    "B9": "other_witnesses",
    "B10": "reported_elsewhere",
    "B10_refs": "report_refs",
    "D2": "role",
    "D5": "contact_notes",
    "D6": "testify",
}

_GROUP: Mapping[str, str] = {
    "C2": "shows",
    "C3": "recorded_by",
    "C3_detail": "recorded_by_detail",
    "C4": "generation",
    "C4_original_kept": "original_kept",
    "C10": "graphic",
    "C11": "risk",
}


def _text(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _value(data: Any) -> AnswerValue | None:
    """A WTForms value as an answer, or None when it is empty (= not answered)."""
    answer: AnswerValue | None = None
    if isinstance(data, bool):
        answer = data or None
    elif isinstance(data, int):
        answer = data
    elif isinstance(data, date):
        answer = data.isoformat()
    elif isinstance(data, time):
        answer = data.strftime("%H:%M")
    elif isinstance(data, list):
        answer = tuple(dict.fromkeys(str(item) for item in data)) or None
    elif isinstance(data, str) and data.strip():
        answer = _text(data)
    return answer


def _collect(form: Form, mapping: Mapping[str, str]) -> dict[str, AnswerValue]:
    answers: dict[str, AnswerValue] = {}
    for field_id, name in mapping.items():
        value = _value(form[name].data)
        if value is not None:
            answers[field_id] = value
    return answers


def _coordinates(text: str | None) -> dict[str, AnswerValue]:
    # The form refuses what parse_coordinates cannot read one way only.
    parsed = parse_coordinates(text or "")
    if parsed is None:
        return {}
    return {"B6_lat": parsed[0], "B6_lon": parsed[1]}


def _month_only(answers: dict[str, AnswerValue]) -> None:
    """Precision "month only": the day the date input forced on the witness is not a claim."""
    day = answers.get("B4_date")
    if answers.get("B4_precision") == "month" and isinstance(day, str):
        answers["B4_date"] = day[:7]


def _testimony_values(form: Form) -> dict[str, AnswerValue]:
    answers = _collect(form, _TESTIMONY)
    answers.update(_coordinates(form["coordinates"].data))
    _month_only(answers)
    if "B5_from" in answers or "B5_to" in answers:
        answers["B5_timezone"] = KYIV_TIME_ZONE
    signs = [line.strip() for line in (form["call_signs"].data or "").splitlines()]
    if any(signs):
        answers["B8_callsigns"] = tuple(dict.fromkeys(sign for sign in signs if sign))
    answers["D0"] = form["identify"].data == "yes"
    answers["D3"] = form["contact"].data == "yes"
    # Everything typed is an answer, whatever was ticked: protocol.rules refuses a name or
    # contact details without their "yes" as a field error, never dropping them in silence.
    # The way to be contacted is a radio, not typed text: without JavaScript it cannot be
    # cleared, so after a No it is no answer (and no error) at all.
    if answers["D3"]:
        answers["D4"] = form["contact_how"].data
    for field_id, name in (("D1", "name"), ("D4_other", "contact_other")):
        if (value := _value(form[name].data)) is not None:
            answers[field_id] = value
    return answers


def testimony_answers(form: Form) -> Answers:
    """The testimony's answers (sections A, B and D); raises ProtocolError on a schema slip
    (callers run `schema_slips` first, so that none reaches them).

    D7 (support information) is deliberately absent: form.md says nothing about it is stored.
    """
    return Answers.parse(_testimony_values(form), TESTIMONY_FIELDS)


# Answers not read from one same-named field: which field the witness should correct.
_DERIVED: Mapping[str, str] = {
    "B6_lat": "coordinates",
    "B6_lon": "coordinates",
    "B8_callsigns": "call_signs",
    "D1": "name",
    "D4": "contact_how",
    "D4_other": "contact_other",
}


@dataclass(frozen=True)
class SchemaSlip:
    """An answer protocol.rules refuses, named by the WTForms field the witness should change."""

    field: str
    """The WTForms field's name in the form (group fields: "group1-shows")."""
    rule_id: str
    """The protocol.rules (or protocol.fields.FIELD_RULES) id, which chooses the message."""


def _field_name(path: tuple[str | int, ...], names: Mapping[str, str]) -> str:
    if path[0] == "groups":
        return f"group{path[1]}-{_GROUP.get(str(path[2]), str(path[2]))}"
    return names.get(str(path[1]), str(path[1]))


def _groups(
    form: Form, numbers: tuple[int, ...], files: Mapping[int, int]
) -> dict[int, GroupInput]:
    return {
        n: GroupInput(_collect(form[f"group{n}"].form, _GROUP), files.get(n, 0)) for n in numbers
    }


def schema_slips(
    form: Form, files: Mapping[int, int], *, follow_up: bool = False
) -> list[SchemaSlip]:
    """Every answer of a testimony (or follow-up) form that protocol.rules refuses.

    `files` is how many files each group holds (this request's and the draft's). The rules are
    protocol's: the same checker runs when triage imports, so what passes here seals.
    """
    if follow_up:
        value = _value(form["account"].data)
        found = violations(
            {} if value is None else {"B1": value},
            _groups(form, (1,), files),
            fields=FOLLOW_UP_FIELDS,
            rules=(),
        )
        names: Mapping[str, str] = {"B1": "account"}
    else:
        found = violations(_testimony_values(form), _groups(form, (1, 2, 3), files))
        names = {**_TESTIMONY, **_DERIVED}
    return [SchemaSlip(_field_name(v.path, names), v.rule_id) for v in found]


def group_answers(group_form: Form) -> Answers:
    """One file group's answers (C2-C4, C10, C11), stored with each of its files."""
    return Answers.parse(_collect(group_form, _GROUP), GROUP_FIELDS)


def follow_up_answers(form: Form) -> Answers:
    """A follow-up's text (B1), if any."""
    value = _value(form["account"].data)
    return Answers.parse({} if value is None else {"B1": value}, FOLLOW_UP_FIELDS)
