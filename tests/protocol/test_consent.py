"""The one consent rule, shared by triage's import and the server's account page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from protocol.consent import Effective, Sent, effective_consent
from protocol.entries import ConsentChange

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GIVEN = ("investigators", "icc-otp")


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _change(sid: str, minutes: int, action: str, *recipients: str) -> Sent:
    change = (
        ConsentChange("withdraw") if action == "withdraw" else ConsentChange("narrow", recipients)
    )
    return Sent(sid, _at(minutes), parent_id="T1", change=change)


def test_without_changes_the_consent_is_as_given() -> None:
    result = effective_consent([Sent("T1", T0, GIVEN)])
    assert result == {"T1": Effective(("icc-otp", "investigators"), (), None, GIVEN)}


def test_a_withdrawal_is_final_even_after_a_later_narrow() -> None:
    result = effective_consent(
        [
            Sent("T1", T0, GIVEN),
            _change("C1", 1, "withdraw"),
            _change("C2", 2, "narrow", "publication-anonymised"),
        ]
    )
    assert result["T1"].withdrawn_by == "C1"
    assert result["T1"].applied == ("C1", "C2")


def test_a_narrow_never_adds_a_class_outside_the_consent() -> None:
    # Nothing of the narrow was in the consent: only this service's investigators remain.
    result = effective_consent([Sent("T1", T0, GIVEN), _change("C1", 1, "narrow", "un-bodies")])
    assert result["T1"].recipients == ("investigators",)
    assert result["T1"].withdrawn_by is None


def test_a_change_applies_to_every_testimony_sent_before_it_and_not_after() -> None:
    sent = [
        Sent("T1", T0, GIVEN),
        Sent("T2", _at(1), GIVEN),
        _change("C1", 2, "narrow", "icc-otp"),  # made about T1
        Sent("T3", _at(3), GIVEN),
    ]
    result = effective_consent(sent)
    assert result["T1"].recipients == ("icc-otp",)
    assert result["T2"].recipients == ("icc-otp",)
    assert result["T3"].recipients == ("icc-otp", "investigators")
    assert result["T3"].applied == ()


def test_a_follow_up_takes_its_testimonys_consent_and_every_change_since() -> None:
    sent = [
        Sent("T1", T0, GIVEN),
        _change("C1", 1, "narrow", "investigators"),
        Sent("F1", _at(2), (), parent_id="T1"),
    ]
    result = effective_consent(sent)
    assert result["F1"] == Effective(("investigators",), ("C1",), None, GIVEN)


def test_the_order_changes_arrive_in_does_not_matter() -> None:
    sent = [
        Sent("T1", T0, GIVEN),
        _change("C1", 1, "narrow", "investigators", "icc-otp"),
        _change("C2", 2, "narrow", "icc-otp"),
    ]
    assert effective_consent(sent) == effective_consent(list(reversed(sent)))
