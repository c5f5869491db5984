"""protocol.rules: the field limits and cross-field rules as data, and the one checker."""

from __future__ import annotations

import pytest

from protocol.fields import (
    FIELD_RULES,
    GROUP_FIELDS,
    SHORT_TEXT,
    TESTIMONY_FIELDS,
)
from protocol.rules import (
    CROSS_FIELD_RULES,
    GROUP_RULE,
    RANGE_ORDER,
    GroupInput,
    Violation,
    violations,
)

BASE = {"A3": True, "A4": ["investigators"], "B1": "what happened", "D0": False, "D3": False}


def _ids(found: tuple[Violation, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    return [(v.path, v.rule_id) for v in found]


def test_a_valid_testimony_breaks_nothing() -> None:
    answers = {**BASE, "D3": True, "D4": "other-channel", "D4_other": "Signal", "D5": "evenings"}
    groups = {1: GroupInput({"C2": "the yard"}, 2), 2: GroupInput({}, 0)}
    assert violations(answers, groups) == ()


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("B6_lat", 95.0, "out-of-range"),
        ("B6_lon", 200.0, "out-of-range"),
        ("B6_lat", float("nan"), "out-of-range"),
        ("B7_max", 10**9 + 1, "out-of-range"),
        ("B1", "a\x00b", "control-character"),
        ("B1", "\ud800", "not-unicode"),
        ("B8_unit", "x" * (SHORT_TEXT + 1), "too-long"),
        ("B8_callsigns", ["ok", "y" * (4 * SHORT_TEXT + 1)], "too-long"),
        ("B8_callsigns", ["same", "same"], "bad-list"),
        ("B2", "invented", "unknown-code"),
        ("B4_date", "24-01-01", "bad-date"),
        ("B5_from", "25:00", "bad-time"),
        ("B6_lat", "50", "wrong-type"),
        ("B7_min", True, "wrong-type"),
        ("Z9", "x", "unknown-field"),
    ],
)
def test_each_field_rule_is_named(field: str, value: object, rule: str) -> None:
    assert _ids(violations({**BASE, field: value})) == [(("answers", field), rule)]
    assert rule in (*FIELD_RULES, "unknown-field")


def test_every_text_field_states_its_limit() -> None:
    for specs in (TESTIMONY_FIELDS, GROUP_FIELDS):
        for field_id, spec in specs.items():
            if spec.kind in {"text", "texts"}:
                assert spec.max_length <= 100_000, field_id


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"D5": "after six"}, [(("answers", "D5"), "contact-needs-consent")]),
        (
            {"D4": "other-channel", "D4_other": "Signal"},
            [
                (("answers", "D4"), "contact-needs-consent"),
                (("answers", "D4_other"), "contact-needs-consent"),
            ],
        ),
        ({"D1": "Olena"}, [(("answers", "D1"), "name-needs-consent")]),
        ({"B3": ["torture", "other"]}, [(("answers", "B3_other"), "other-needs-text")]),
        (
            {"D3": True, "D4": "other-channel"},
            [(("answers", "D4_other"), "other-needs-text")],
        ),
        (
            {"D3": True, "D4": "receipt-code", "D4_other": "Signal"},
            [(("answers", "D4_other"), "text-needs-other")],
        ),
        ({"B7_min": 5, "B7_max": 2}, [(("answers", "B7_max"), RANGE_ORDER)]),
    ],
)
def test_each_cross_field_rule(extra: dict[str, object], expected: list[object]) -> None:
    assert _ids(violations({**BASE, **extra})) == expected


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # Without consent, the way to be contacted is judged only by consent: one message.
        ({"D4": "other-channel"}, [(("answers", "D4"), "contact-needs-consent")]),
        ({"D4_other": "Signal"}, [(("answers", "D4_other"), "contact-needs-consent")]),
        (
            {"D3": False, "D4": "receipt-code", "D4_other": "Signal"},
            [
                (("answers", "D4"), "contact-needs-consent"),
                (("answers", "D4_other"), "contact-needs-consent"),
            ],
        ),
    ],
)
def test_the_way_to_be_contacted_needs_consent_first(
    extra: dict[str, object], expected: list[object]
) -> None:
    assert _ids(violations({**BASE, **extra})) == expected


def test_what_satisfies_the_cross_field_rules() -> None:
    ok = {
        "D0": True,
        "D1": "Olena",
        "B3": ["other"],
        "B3_other": "burned the school",
        "B7_min": 0,
        "B7_max": 0,
    }
    assert violations({**BASE, **ok}) == ()


def test_a_group_answer_without_a_file() -> None:
    groups = {
        1: GroupInput({"C2": "ok"}, 1),
        3: GroupInput({"C2": "", "C3": "me"}, 0),
        2: GroupInput({"C2": "x\x00"}, 1),
    }
    assert _ids(violations(BASE, groups)) == [
        (("groups", 2, "C2"), "control-character"),
        (("groups", 3, "C3"), GROUP_RULE),
    ]


def test_the_rules_are_data() -> None:
    ids = {rule.rule_id for rule in CROSS_FIELD_RULES}
    assert ids == {"contact-needs-consent", "name-needs-consent", "other-needs-text"} | {
        "text-needs-other"
    }
    for rule in CROSS_FIELD_RULES:
        for field_id in (*(c.field for c in rule.when), rule.then.field, rule.blame):
            assert field_id in TESTIMONY_FIELDS
