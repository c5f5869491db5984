"""The submission's rules as data: its field limits (protocol.fields) and its cross-field rules.

One checker, `violations`, judges answers against both and says what is wrong as data (a field
path and a rule id), never as a sentence: the witness site turns each into a translated field
error before anything is committed, and triage runs the same checker on what it imports.

Cross-field rules are not part of `Submission`'s own validity: sites before them sealed some
documents they now refuse (contact notes without the contact tick, "other" without its text),
and such a document must still import; triage names them instead (docs/bundles.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from protocol.fields import (
    FOLLOW_UP_FIELDS,
    GROUP_FIELDS,
    TESTIMONY_FIELDS,
    AnswerValue,
    FieldSpec,
)
from protocol.schema import Submission

__all__ = [
    "CROSS_FIELD_RULES",
    "GROUP_RULE",
    "RANGE_ORDER",
    "AnswerIf",
    "GroupInput",
    "Rule",
    "Violation",
    "sealed_violations",
    "violations",
]

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class AnswerIf:
    """A condition on one answer: answered at all (`value` None), equal to `value` (a bool or
    a code) or, for a list of codes, holding it."""

    field: str
    value: AnswerValue | None = None

    def holds(self, answers: Mapping[str, object]) -> bool:
        given = answers.get(self.field)
        if self.value is None:
            return _answered(given)
        if isinstance(given, list | tuple):
            return self.value in given
        # type() too: 1 == True in Python, and a count is not a tick.
        return type(given) is type(self.value) and given == self.value


def _answered(value: object) -> bool:
    if value is None or value is False:
        return False
    return not (isinstance(value, str | list | tuple) and not value)


@dataclass(frozen=True)
class Rule:
    """If every condition of `when` holds, `then` must hold; otherwise `blame` (a field id) is
    refused with `rule_id`. The blamed field is the one the witness should change."""

    rule_id: str
    when: tuple[AnswerIf, ...]
    then: AnswerIf
    blame: str


@dataclass(frozen=True)
class Violation:
    """`path` names the answer: ("answers", "B6_lat") or ("groups", 2, "C2")."""

    path: Path
    rule_id: str


_CONSENTED = AnswerIf("D3", True)
CROSS_FIELD_RULES: tuple[Rule, ...] = (
    # Contact details need the "you may contact me" tick (D3); a name needs D0's "yes".
    Rule("contact-needs-consent", (AnswerIf("D4"),), _CONSENTED, "D4"),
    Rule("contact-needs-consent", (AnswerIf("D4_other"),), _CONSENTED, "D4_other"),
    Rule("contact-needs-consent", (AnswerIf("D5"),), _CONSENTED, "D5"),
    Rule("name-needs-consent", (AnswerIf("D1"),), AnswerIf("D0", True), "D1"),
    # "Other" needs its text, and the text of "another way" needs that choice. The way to be
    # contacted matters only once contact is consented to: before that, the one thing to fix
    # is the consent (above), and a second message would push someone who said No to type
    # contact details.
    Rule("other-needs-text", (AnswerIf("B3", "other"),), AnswerIf("B3_other"), "B3_other"),
    Rule(
        "other-needs-text",
        (_CONSENTED, AnswerIf("D4", "other-channel")),
        AnswerIf("D4_other"),
        "D4_other",
    ),
    Rule(
        "text-needs-other",
        (_CONSENTED, AnswerIf("D4_other")),
        AnswerIf("D4", "other-channel"),
        "D4_other",
    ),
)

GROUP_RULE = "group-needs-file"
"""A file group's answers describe its files: answers for a group without one are refused."""

RANGE_ORDER = "range-order"
"""B7_min above B7_max (also refused by Submission itself, which never accepted it)."""


@dataclass(frozen=True)
class GroupInput:
    """One file group as the checker sees it: its answers and how many files it holds."""

    answers: Mapping[str, object]
    files: int


def _field_violations(
    answers: Mapping[str, object], specs: Mapping[str, FieldSpec], prefix: Path
) -> list[Violation]:
    found: list[Violation] = []
    for field_id, value in answers.items():
        spec = specs.get(field_id)
        rule = "unknown-field" if spec is None else spec.violation(value)
        if rule is not None:
            found.append(Violation((*prefix, field_id), rule))
    return found


def _cross_field(answers: Mapping[str, object], rules: tuple[Rule, ...]) -> list[Violation]:
    found: list[Violation] = []
    for rule in rules:
        if all(c.holds(answers) for c in rule.when) and not rule.then.holds(answers):
            violation = Violation(("answers", rule.blame), rule.rule_id)
            if violation not in found:
                found.append(violation)
    low, high = answers.get("B7_min"), answers.get("B7_max")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        found.append(Violation(("answers", "B7_max"), RANGE_ORDER))
    return found


def _group_violations(number: int, group: GroupInput) -> list[Violation]:
    found = _field_violations(group.answers, GROUP_FIELDS, ("groups", number))
    answered = [key for key, value in group.answers.items() if _answered(value)]
    if answered and group.files == 0:
        found.append(Violation(("groups", number, answered[0]), GROUP_RULE))
    return found


def violations(
    answers: Mapping[str, object],
    groups: Mapping[int, GroupInput] | None = None,
    *,
    fields: Mapping[str, FieldSpec] = TESTIMONY_FIELDS,
    rules: tuple[Rule, ...] = CROSS_FIELD_RULES,
) -> tuple[Violation, ...]:
    """Every rule the answers break, field rules first, in a stable order; empty when valid.

    `fields` and `rules` default to a testimony's; a follow-up passes its own fields and no
    cross-field rules. Never raises for any JSON-like input.
    """
    found = _field_violations(answers, fields, ("answers",))
    found += _cross_field(answers, rules)
    for number, group in sorted((groups or {}).items()):
        found += _group_violations(number, group)
    return tuple(found)


def sealed_violations(submission: Submission) -> tuple[Violation, ...]:
    """The rules an opened submission breaks, as the witness site judges them today.

    Field rules are already Submission's own (it would not have parsed); what remains are the
    cross-field rules, which a site before them did not apply. A follow-up has only B1.
    """
    groups: dict[int, GroupInput] = {}
    for entry in submission.files:
        held = groups.get(entry.group)
        count = 1 if held is None else held.files + 1
        groups[entry.group] = GroupInput(entry.group_answers.values, count)
    if submission.kind == "testimony":
        return violations(submission.answers.values, groups)
    return violations(submission.answers.values, groups, fields=FOLLOW_UP_FIELDS, rules=())
