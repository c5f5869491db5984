"""protocol.rules on the witness form (issue 14, item 7): every rule the checker names is a
translated field error on the page sent back, what was typed stays, the file stays in the draft,
and nothing typed is dropped in silence."""

from __future__ import annotations

import gettext
import html as html_lib
import io
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from wtforms.validators import Length, NumberRange

from intake.models import DraftBlob, Submission
from intake.web import forms
from intake.web.coordinates import parse_coordinates
from intake.web.i18n import TRANSLATIONS_DIR
from intake.web.rule_messages import _BY_FIELD, MESSAGES
from intake.web.services import answers as answers_module
from protocol.fields import FIELD_RULES, GROUP_FIELDS, TESTIMONY_FIELDS
from protocol.rules import CROSS_FIELD_RULES, GROUP_RULE, RANGE_ORDER
from protocol.schema import Submission as Sealed
from tests.intake.web.conftest import (
    Site,
    form_action,
    minimal_testimony,
    post_multipart,
    start_witness,
)

CASES: list[tuple[dict[str, Any], str, str]] = [
    ({"contact_notes": "after six only"}, "contact_notes", "May investigators contact you?"),
    # Typed contact details after a No: the tick is what to fix, whatever radio was clicked.
    (
        {"contact_how": "other-channel", "contact_other": "Signal, +380"},
        "contact_other",
        'answer "Yes" to "May investigators contact you?"',
    ),
    ({"name": "Olena"}, "name", "Would you like to tell us who you are?"),
    ({"incident_types": ["other"]}, "incident_other", "please say what it is"),
    (
        {"contact": "yes", "contact_how": "other-channel"},
        "contact_other",
        'You chose "Another way (describe it below)": please say what it is',
    ),
    ({"call_signs": "\n".join(f"Grom-{n}" for n in range(101))}, "call_signs", "at most 100 lines"),
    ({"coordinates": "50,45"}, "coordinates", "50,4501; 30,5234"),
    ({"coordinates": "50,45,30,52"}, "coordinates", "50,4501; 30,5234"),
    (
        {"contact": "yes", "contact_other": "Signal, +380"},
        "contact_other",
        'choose "Another way (describe it below)" above',
    ),
    ({"group2-shows": "the convoy"}, "group2-shows", "this group has none"),
    ({"victims_min": "5", "victims_max": "2"}, "victims_max", "smaller than the smallest"),
    ({"victims_max": "2000000000"}, "victims_max", "between 0 and"),
    ({"coordinates": "95, 200"}, "coordinates", "not on Earth"),
    ({"account": "I saw\x00 soldiers"}, "account", "invisible control character"),
    ({"group1-shows": "the yard\x00"}, "group1-shows", "invisible control character"),
    # Not the schema's to refuse, but out of range all the same: WTForms' own words.
    (
        {"event_date-day": "1", "event_date-month": "1", "event_date-year": "20000"},
        "event_date",
        "Write the year with four digits",
    ),
    ({"time_from": "24:00"}, "time_from", "Not a valid time value"),
]


def _sealed(site: Site) -> Sealed:
    with site.services.sessions() as session:
        [row] = session.scalars(select(Submission))
        return Sealed.from_json(site.open_blob(row.manifest_blob))


def _send(client: FlaskClient, extra: dict[str, Any], *, file: bool = True) -> Any:
    _codename, page = start_witness(client)
    data = minimal_testimony(**extra)
    if file:
        data["group1-files"] = [(io.BytesIO(b"frame" * 1000), "clip.mp4", "video/mp4")]
    return post_multipart(client, form_action(page.get_data(as_text=True), "testimony-form"), data)


@pytest.mark.parametrize(("extra", "field", "message"), CASES)
def test_a_broken_rule_is_a_field_error_that_keeps_everything(
    site: Site, client: FlaskClient, extra: dict[str, Any], field: str, message: str
) -> None:
    response = _send(client, extra)
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[-3000:]
    errors = re.findall(rf'class="error" id="{re.escape(field)}-error">([^<]*)<', html)
    assert len(errors) == 1, html[-3000:]  # one mistake, one message
    assert message in html_lib.unescape(errors[0])
    for value in extra.values():
        if isinstance(value, str) and "\x00" not in value:
            # What was typed comes back (the page escapes it); a NUL is kept in the draft.
            assert html_lib.escape(value, quote=False).split("\n")[0] in html
    assert "clip.mp4" in html
    with site.services.sessions() as session:
        assert list(session.scalars(select(Submission))) == []
        assert len(list(session.scalars(select(DraftBlob)))) == 1


def test_the_same_answers_with_their_yes_are_accepted(site: Site, client: FlaskClient) -> None:
    extra = {
        "identify": "yes",
        "name": "Olena",
        "contact": "yes",
        "contact_how": "other-channel",
        "contact_other": "Signal",
        "contact_notes": "after six only",
        "incident_types": ["other"],
        "incident_other": "they burned the school",
        "group1-shows": "the convoy",
    }
    response = _send(client, extra)
    assert response.status_code == 200, response.get_data(as_text=True)[-3000:]
    answers = _sealed(site).answers.values
    assert answers["D1"] == "Olena"
    assert answers["D4_other"] == "Signal"
    assert answers["D5"] == "after six only"
    assert answers["B3_other"] == "they burned the school"


def test_a_group_whose_file_is_already_in_the_draft_may_be_described(
    site: Site, client: FlaskClient
) -> None:
    _codename, page = start_witness(client)
    action = form_action(page.get_data(as_text=True), "testimony-form")
    first = minimal_testimony(coordinates="95, 200")
    first["group2-files"] = [(io.BytesIO(b"photo" * 500), "yard.jpg", "image/jpeg")]
    assert post_multipart(client, action, first).status_code == 422
    # Back, without choosing the file again: the draft has group 2's file.
    again = post_multipart(client, action, minimal_testimony(**{"group2-shows": "the yard"}))
    assert again.status_code == 200, again.get_data(as_text=True)[-3000:]
    [entry] = _sealed(site).files
    assert entry.group == 2
    assert entry.group_answers.values["C2"] == "the yard"


def test_every_rule_has_a_translated_message() -> None:
    ids = {*FIELD_RULES, "unknown-field", GROUP_RULE, RANGE_ORDER}
    ids |= {rule.rule_id for rule in CROSS_FIELD_RULES}
    assert set(MESSAGES) == ids
    for lang in ("uk", "ru"):
        catalogue = gettext.translation("messages", TRANSLATIONS_DIR, languages=[lang])
        for rule_id, message in MESSAGES.items():
            msgid = message._args[0]
            assert catalogue.gettext(msgid) != msgid, (lang, rule_id)


def test_the_form_takes_its_text_limits_from_protocol() -> None:
    testimony, group = forms.TestimonyForm(), forms.FileGroupForm()
    pairs = [
        *(
            (testimony[name], TESTIMONY_FIELDS[fid])
            for fid, name in answers_module._TESTIMONY.items()
        ),
        *((group[name], GROUP_FIELDS[fid]) for fid, name in answers_module._GROUP.items()),
        (testimony["name"], TESTIMONY_FIELDS["D1"]),
        (testimony["contact_other"], TESTIMONY_FIELDS["D4_other"]),
        (testimony["call_signs"], TESTIMONY_FIELDS["B8_callsigns"]),
    ]
    checked = 0
    for field, spec in pairs:
        if spec.kind not in {"text", "texts"}:
            continue
        [length] = [v for v in field.validators if isinstance(v, Length)]
        assert length.max == spec.max_length, field.name
        checked += 1
    assert checked >= 15


def test_a_follow_up_group_described_without_a_file(site: Site, client: FlaskClient) -> None:
    _codename, page = start_witness(client)
    action = form_action(page.get_data(as_text=True), "testimony-form")
    first = post_multipart(client, action, minimal_testimony())
    reference = re.search(r'id="reference">([^<]+)<', first.get_data(as_text=True))
    assert reference is not None
    add = client.get("/account/add").get_data(as_text=True)
    data = {
        "parent": reference.group(1).strip(),
        "account": "More words",
        "group1-shows": "the second video",
    }
    response = post_multipart(client, form_action(add, "follow-up-form"), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[-2000:]
    assert re.search(r'id="group1-shows-error">[^<]*this group has none', html)
    assert "More words" in html


def _errors(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for field, text in re.findall(r'class="error" id="([^"]+)-error">([^<]*)<', html):
        found.setdefault(field, []).append(html_lib.unescape(text))
    return found


def test_no_to_contact_ignores_the_way_clicked(site: Site, client: FlaskClient) -> None:
    """A radio cannot be cleared without JavaScript: after a No, the way clicked is no answer
    and no error (it used to be two, one asking for contact details)."""
    response = _send(client, {"contact": "no", "contact_how": "other-channel"})
    assert response.status_code == 200, _errors(response.get_data(as_text=True))
    answers = _sealed(site).answers.values
    assert answers["D3"] is False
    assert "D4" not in answers
    assert "D4_other" not in answers


def test_typed_contact_details_after_a_no_say_how_to_fix(site: Site, client: FlaskClient) -> None:
    extra = {"contact": "no", "contact_how": "other-channel", "contact_other": "Signal"}
    response = _send(client, extra)
    assert response.status_code == 422
    errors = _errors(response.get_data(as_text=True))
    assert set(errors) == {"contact_other"}, errors
    [message] = errors["contact_other"]
    assert 'answer "Yes" to "May investigators contact you?"' in message
    assert "Signal" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"victims_min": "-1"}, "victims_min"),
        ({"incident_types": ["no-such-code"]}, "incident_types"),
        ({"source": "no-such-code"}, "source"),
        ({"contact": "yes", "contact_how": ""}, "contact_how"),
        ({"contact": "yes", "contact_how": "no-such-way"}, "contact_how"),
    ],
)
def test_one_mistake_is_one_message(
    site: Site, client: FlaskClient, extra: dict[str, Any], field: str
) -> None:
    response = _send(client, extra)
    assert response.status_code == 422
    errors = _errors(response.get_data(as_text=True))
    assert set(errors) == {field}, errors
    assert len(errors[field]) == 1, errors


@pytest.mark.parametrize(
    ("typed", "lat", "lon"),
    [
        ("50.45, 30.52", 50.45, 30.52),
        ("50.45,30.52", 50.45, 30.52),
        ("50,45 30,52", 50.45, 30.52),
        ("50,45; 30,52", 50.45, 30.52),
        ("50.45 30.52", 50.45, 30.52),
        ("-33.9; 18.4", -33.9, 18.4),
    ],
)
def test_coordinates_with_either_decimal_mark(
    site: Site, client: FlaskClient, typed: str, lat: float, lon: float
) -> None:
    response = _send(client, {"coordinates": typed})
    assert response.status_code == 200, _errors(response.get_data(as_text=True))
    answers = _sealed(site).answers.values
    assert (answers["B6_lat"], answers["B6_lon"]) == (lat, lon)


@pytest.mark.parametrize("typed", ["50,45", "50,45,30,52", "50,45, 30,52", "50.45", "north"])
def test_coordinates_that_could_be_read_two_ways_are_refused(typed: str) -> None:
    assert parse_coordinates(typed) is None


def test_a_line_break_counts_once_as_in_protocol(site: Site, client: FlaskClient) -> None:
    """Browsers send CR LF; the answer keeps LF, and the limit counts it so."""
    limit = TESTIMONY_FIELDS["B7_details"].max_length
    typed = "ab\r\n" * (limit // 3)  # over the limit raw, under it as sealed
    assert len(typed) > limit >= len(typed.replace("\r\n", "\n"))
    response = _send(client, {"victim_details": typed})
    assert response.status_code == 200, _errors(response.get_data(as_text=True))
    assert _sealed(site).answers.values["B7_details"] == typed.replace("\r\n", "\n")


def test_the_victim_counts_take_their_own_ranges() -> None:
    form = forms.TestimonyForm()
    for name, field_id in (("victims_min", "B7_min"), ("victims_max", "B7_max")):
        [number_range] = [v for v in form[name].validators if isinstance(v, NumberRange)]
        spec = TESTIMONY_FIELDS[field_id]
        assert (number_range.min, number_range.max) == (spec.low, spec.high)


def test_field_messages_are_translated_and_generic_where_shared() -> None:
    assert "line" not in str(MESSAGES["too-long"]._args[0])
    for lang in ("uk", "ru"):
        catalogue = gettext.translation("messages", TRANSLATIONS_DIR, languages=[lang])
        for key, message in _BY_FIELD.items():
            msgid = message._args[0]
            assert catalogue.gettext(msgid) != msgid, (lang, key)
