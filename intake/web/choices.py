"""Translated labels for the form's pick-lists, keyed by the codes of `protocol.codes`.

The codes (and their order) are protocol's: they are what the sealed submission.json carries.
This module only says them in the witness's language; a test checks that every code of every
list the form uses has a label here and that there is no label without a code. The witness's
choice is stored as a claim (form rule F6): the labels are aids, never a finding.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from wtforms import SelectChoice

from protocol import codes

Choices = list[SelectChoice]

UNKNOWN = ""
"""The value of "don't know / prefer not to say", first in every optional list (rule F5)."""

DONT_KNOW: LazyString = _l("Don't know / prefer not to say")

LABELS: dict[str, dict[str, LazyString]] = {
    "recipient_class": {
        "investigators": _l("This service's investigators only"),
        "ua-prosecutors": _l("Ukrainian prosecutors and law enforcement"),
        "icc-otp": _l("The Office of the Prosecutor of the International Criminal Court"),
        "foreign-prosecutors": _l("Prosecutors of other countries (joint investigations)"),
        "un-bodies": _l("United Nations investigative bodies"),
        "partner-ngos": _l("Partner human-rights organisations"),
        "publication-anonymised": _l("Publication in anonymised form"),
    },
    "source_type": {
        "saw": _l("I saw it myself"),
        "heard": _l("I heard it myself"),
        "recorded": _l("I recorded it"),
        "told": _l("Someone told me"),
        "online": _l("I found it online"),
        "other": _l("Other"),
    },
    "incident_type": {
        "civilians-killed": _l("Civilians killed"),
        "captives-killed": _l("Soldiers killed after surrendering, being captured or wounded"),
        "no-quarter-order": _l("An order or announcement to take no prisoners or to kill captives"),
        "torture": _l("Torture, beating, humiliation (including of prisoners)"),
        "sexual-violence": _l("Sexual violence"),
        "detention-disappearance": _l("Detention, abduction, a person taken and missing"),
        "deportation": _l("People (including children) deported or forcibly moved"),
        "attack-civilians": _l("Attack on civilians, homes or civilian infrastructure"),
        "attack-protected": _l(
            "Attack on hospitals, ambulances, medics, schools, churches or cultural sites"
        ),
        "looting-destruction": _l("Looting, destruction or seizure of property"),
        "prohibited-weapons": _l("Prohibited weapons (poison, gas and similar)"),
        "human-shields": _l("Civilians used as human shields"),
        "forced-service": _l("People forced to fight or serve for the enemy"),
        "child-soldiers": _l("Children used as soldiers"),
        "siege-starvation": _l("Aid blocked, siege, starvation"),
        "other": _l("Other"),
        "not-sure": _l("Not sure"),
    },
    "date_precision": {
        "exact": _l("Exact day"),
        "approximate": _l("Approximate"),
        "month": _l("Only the month is right"),
        "unknown": _l("I do not know the date"),
    },
    "oblast": {
        "UA-71": _l("Cherkasy oblast"),
        "UA-74": _l("Chernihiv oblast"),
        "UA-77": _l("Chernivtsi oblast"),
        "UA-43": _l("Autonomous Republic of Crimea"),
        "UA-12": _l("Dnipropetrovsk oblast"),
        "UA-14": _l("Donetsk oblast"),
        "UA-26": _l("Ivano-Frankivsk oblast"),
        "UA-63": _l("Kharkiv oblast"),
        "UA-65": _l("Kherson oblast"),
        "UA-68": _l("Khmelnytskyi oblast"),
        "UA-35": _l("Kirovohrad oblast"),
        "UA-30": _l("Kyiv (city)"),
        "UA-32": _l("Kyiv oblast"),
        "UA-09": _l("Luhansk oblast"),
        "UA-46": _l("Lviv oblast"),
        "UA-48": _l("Mykolaiv oblast"),
        "UA-51": _l("Odesa oblast"),
        "UA-53": _l("Poltava oblast"),
        "UA-56": _l("Rivne oblast"),
        "UA-40": _l("Sevastopol (city)"),
        "UA-59": _l("Sumy oblast"),
        "UA-61": _l("Ternopil oblast"),
        "UA-05": _l("Vinnytsia oblast"),
        "UA-07": _l("Volyn oblast"),
        "UA-21": _l("Zakarpattia oblast"),
        "UA-23": _l("Zaporizhzhia oblast"),
        "UA-18": _l("Zhytomyr oblast"),
    },
    "location_precision": {
        "exact": _l("Exact (about 10 m)"),
        "vicinity": _l("Vicinity (about 100 m)"),
        "locality": _l("Locality (about 1 km)"),
    },
    "victim_category": {
        "civilians": _l("Civilians"),
        "children": _l("Children"),
        "captured-soldiers": _l("Soldiers who had surrendered or were captured"),
        "wounded": _l("Wounded"),
        "medical-staff": _l("Medical staff"),
        "journalists": _l("Journalists"),
        "other": _l("Other"),
    },
    "force": {
        "ru-armed-forces": _l("Russian armed forces"),
        "ru-national-guard": _l("Russian National Guard (Rosgvardia)"),
        "ru-security-services": _l("Russian security services (FSB and others)"),
        "private-military": _l("Private military company"),
        "occupation-authorities": _l("Occupation authorities or police"),
        "ua-forces": _l("Ukrainian forces"),
        "other": _l("Other"),
        "unknown": _l("I could not tell"),
    },
    "yes_no_unsure": {"yes": _l("Yes"), "no": _l("No"), "unsure": _l("Not sure")},
    "reported_elsewhere": {
        "police": _l("Police (102)"),
        "prosecutor-general": _l("Prosecutor General (warcrimes.gov.ua)"),
        "sbu": _l("Security Service of Ukraine (SBU)"),
        "ngo": _l("A human-rights organisation"),
        "icc": _l("International Criminal Court"),
        "eyewitness-app": _l("The eyeWitness app"),
        "media": _l("Journalists or media"),
        "no": _l("Nowhere else"),
    },
    "witness_role": {
        "civilian-resident": _l("Civilian resident"),
        "displaced": _l("Displaced person"),
        "military": _l("Military"),
        "medical": _l("Medical worker"),
        "journalist": _l("Journalist"),
        "volunteer": _l("Volunteer"),
        "official": _l("Official"),
    },
    "contact_method": {
        "receipt-code": _l("I will check back here with my codename (recommended)"),
        "other-channel": _l("Another way (describe it below)"),
    },
    "willing_to_testify": {"yes": _l("Yes"), "no": _l("No"), "maybe-later": _l("Maybe later")},
    "recorded_by": {
        "me": _l("Me"),
        "someone-i-know": _l("Someone I know"),
        "unknown": _l("Someone I do not know"),
        "downloaded": _l("I downloaded it"),
        "received-in-chat": _l("I received it in a chat or channel"),
    },
    "file_generation": {
        "original": _l("The original from the recording device"),
        "copy-sent": _l("A copy someone sent me"),
        "downloaded": _l("Downloaded"),
        "screen-recording": _l("A screen recording or screenshot"),
    },
}

NO_YES: Choices = [SelectChoice("no", _l("No")), SelectChoice("yes", _l("Yes"))]
"""D0 and D3: a plain answer whose default is "no" (form.md)."""


def choices(list_name: str) -> Choices:
    """The protocol list `list_name` as (code, translated label) choices, in protocol's order."""
    labels = LABELS[list_name]
    return [SelectChoice(code, labels[code]) for code in codes.codes(list_name)]


def with_unknown(list_name: str) -> Choices:
    """`choices(list_name)` preceded by "don't know / prefer not to say" (the default)."""
    return [SelectChoice(UNKNOWN, DONT_KNOW), *choices(list_name)]


def plain(values: tuple[str, ...]) -> Choices:
    """Choices whose label is their value (submission references)."""
    return [SelectChoice(value, value) for value in values]
