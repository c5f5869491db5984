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
from wtforms.validators import Length

from intake.models import DraftBlob, Submission
from intake.web import forms
from intake.web.i18n import TRANSLATIONS_DIR
from intake.web.rule_messages import MESSAGES
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
    ({"contact_how": "other-channel"}, "contact_how", "May investigators contact you?"),
    ({"name": "Olena"}, "name", "Would you like to tell us who you are?"),
    ({"incident_types": ["other"]}, "incident_other", "please say what it is"),
    (
        {"contact": "yes", "contact_how": "other-channel"},
        "contact_other",
        "please say what it is",
    ),
    (
        {"contact": "yes", "contact_other": "Signal, +380"},
        "contact_other",
        'choose "Another way"',
    ),
    ({"group2-shows": "the convoy"}, "group2-shows", "this group has none"),
    ({"victims_min": "5", "victims_max": "2"}, "victims_max", "smaller than the smallest"),
    ({"victims_max": "2000000000"}, "victims_max", "between 0 and"),
    ({"coordinates": "95, 200"}, "coordinates", "not on Earth"),
    ({"account": "I saw\x00 soldiers"}, "account", "invisible control character"),
    ({"group1-shows": "the yard\x00"}, "group1-shows", "invisible control character"),
    # Not the schema's to refuse, but out of range all the same: WTForms' own words.
    ({"event_date": "20000-01-01"}, "event_date", "Not a valid date value"),
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
    error = re.search(rf'class="error" id="{re.escape(field)}-error">([^<]*)<', html)
    assert error is not None, html[-3000:]
    assert message in error.group(1)
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
