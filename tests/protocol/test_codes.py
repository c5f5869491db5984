"""Code lists: complete where the brief is exact, stable codes, English labels."""

from __future__ import annotations

import re

import pytest

from protocol.codes import LISTS, NON_ANSWERS, codes, is_valid, label


def test_oblasts_are_the_27_iso_subdivisions() -> None:
    oblasts = codes("oblast")
    assert len(oblasts) == 27
    assert all(re.fullmatch(r"UA-\d{2}", code) for code in oblasts)
    assert label("oblast", "UA-43") == "Autonomous Republic of Crimea"
    assert label("oblast", "UA-30") == "Kyiv (city)"
    assert label("oblast", "UA-40") == "Sevastopol (city)"
    assert label("oblast", "UA-23") == "Zaporizhzhia Oblast"
    assert sum(lbl.endswith("Oblast") for _c, lbl in LISTS["oblast"].entries) == 24


def test_recipient_classes_are_the_seven_of_a4() -> None:
    assert codes("recipient_class") == (
        "investigators",
        "ua-prosecutors",
        "icc-otp",
        "foreign-prosecutors",
        "un-bodies",
        "partner-ngos",
        "publication-anonymised",
    )


def test_incident_types_cover_b3_with_other_and_not_sure() -> None:
    types = codes("incident_type")
    assert len(types) == 17
    assert {"captives-killed", "no-quarter-order", "other", "not-sure"} <= set(types)


def test_statuses_follow_the_evidence_model() -> None:
    assert {"new", "triaged", "linked", "closed", "withdrawn", "duplicate-of"} <= set(
        codes("submission_status")
    )
    assert codes("incident_status")[0] == "open"
    assert codes("incident_status")[-1] == "archived"


@pytest.mark.parametrize("name", sorted(LISTS))
def test_every_list_has_unique_clean_codes_and_labels(name: str) -> None:
    entries = LISTS[name].entries
    assert entries
    assert len({code for code, _ in entries}) == len(entries)
    for code, text in entries:
        assert re.fullmatch(r"[A-Za-z0-9:-]+", code), code
        assert text
        assert text == text.strip()
        assert text.isprintable()


def test_is_valid_and_label() -> None:
    assert is_valid("incident_type", "torture")
    assert not is_valid("incident_type", "Torture")
    assert not is_valid("ui_language", "de")
    assert "dont-know" in NON_ANSWERS
    with pytest.raises(KeyError, match="no code list"):
        is_valid("colours", "red")
    with pytest.raises(KeyError):
        label("oblast", "UA-99")
