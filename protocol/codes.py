"""Code lists both sides share: stable codes, English labels (the web layer translates them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "LISTS",
    "NON_ANSWERS",
    "CodeList",
    "codes",
    "is_valid",
    "label",
]

# Codes are stored in sealed submissions and typed at the triage CLI: they never change once
# released. Labels may be reworded freely. A new code is a form-version change.


@dataclass(frozen=True)
class CodeList:
    """An ordered list of (code, English label) pairs."""

    name: str
    entries: tuple[tuple[str, str], ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _label in self.entries)

    def __contains__(self, code: object) -> bool:
        return any(code == known for known, _label in self.entries)

    def label(self, code: str) -> str:
        """The English label. Raises KeyError for a code not in the list."""
        for known, text in self.entries:
            if known == code:
                return text
        raise KeyError(code)


def _list(name: str, *entries: tuple[str, str]) -> CodeList:
    return CodeList(name, entries)


_ALL = (
    _list("ui_language", ("en", "English"), ("uk", "Ukrainian"), ("ru", "Russian")),
    # A4. The witness's consent decides which export recipients may ever see the testimony.
    _list(
        "recipient_class",
        ("investigators", "This service's investigators only"),
        ("ua-prosecutors", "Ukrainian prosecutors and law enforcement"),
        ("icc-otp", "ICC Office of the Prosecutor"),
        ("foreign-prosecutors", "Prosecutors of other countries (universal jurisdiction, JITs)"),
        ("un-bodies", "UN investigative bodies"),
        ("partner-ngos", "Partner human-rights NGOs"),
        ("publication-anonymised", "Publication in anonymised form"),
    ),
    # B3, form.md 2.4: plain language for the witness; stored as the witness's claim only.
    _list(
        "incident_type",
        ("civilians-killed", "Civilians killed"),
        (
            "captives-killed",
            "Soldiers killed after surrendering, being captured or wounded",
        ),
        ("no-quarter-order", "An order or announcement to take no prisoners or kill captives"),
        ("torture", "Torture, beating, humiliation (including of prisoners)"),
        ("sexual-violence", "Sexual violence"),
        ("detention-disappearance", "Detention, abduction, person taken and missing"),
        ("deportation", "People (including children) deported or forcibly moved"),
        ("attack-civilians", "Attack on civilians, homes, civilian infrastructure"),
        (
            "attack-protected",
            "Attack on hospitals, ambulances, medics, schools, churches, cultural sites",
        ),
        ("looting-destruction", "Looting, destruction or seizure of property"),
        ("prohibited-weapons", "Prohibited weapons (poison, gas, etc.)"),
        ("human-shields", "Civilians used as human shields"),
        ("forced-service", "People forced to fight or serve for the enemy"),
        ("child-soldiers", "Children used as soldiers"),
        ("siege-starvation", "Aid blocked, siege, starvation"),
        ("other", "Other"),
        ("not-sure", "Not sure"),
    ),
    # ISO 3166-2:UA: 24 oblasts, the Autonomous Republic of Crimea and the two special cities.
    _list(
        "oblast",
        ("UA-71", "Cherkasy Oblast"),
        ("UA-74", "Chernihiv Oblast"),
        ("UA-77", "Chernivtsi Oblast"),
        ("UA-43", "Autonomous Republic of Crimea"),
        ("UA-12", "Dnipropetrovsk Oblast"),
        ("UA-14", "Donetsk Oblast"),
        ("UA-26", "Ivano-Frankivsk Oblast"),
        ("UA-63", "Kharkiv Oblast"),
        ("UA-65", "Kherson Oblast"),
        ("UA-68", "Khmelnytskyi Oblast"),
        ("UA-35", "Kirovohrad Oblast"),
        ("UA-30", "Kyiv (city)"),
        ("UA-32", "Kyiv Oblast"),
        ("UA-09", "Luhansk Oblast"),
        ("UA-46", "Lviv Oblast"),
        ("UA-48", "Mykolaiv Oblast"),
        ("UA-51", "Odesa Oblast"),
        ("UA-53", "Poltava Oblast"),
        ("UA-56", "Rivne Oblast"),
        ("UA-40", "Sevastopol (city)"),
        ("UA-59", "Sumy Oblast"),
        ("UA-61", "Ternopil Oblast"),
        ("UA-05", "Vinnytsia Oblast"),
        ("UA-07", "Volyn Oblast"),
        ("UA-21", "Zakarpattia Oblast"),
        ("UA-23", "Zaporizhzhia Oblast"),
        ("UA-18", "Zhytomyr Oblast"),
    ),
    # B2: how the witness knows; drives evidential weight.
    _list(
        "source_type",
        ("saw", "I saw it myself"),
        ("heard", "I heard it myself"),
        ("recorded", "I recorded it"),
        ("told", "Someone told me"),
        ("online", "I found it online"),
        ("other", "Other"),
    ),
    _list(
        "date_precision",
        ("exact", "Exact"),
        ("approximate", "Approximate"),
        ("month", "Month only"),
        ("unknown", "Unknown"),
    ),
    # B6, Atlos's precision levels.
    _list(
        "location_precision",
        ("exact", "Exact (about 10 m)"),
        ("vicinity", "Vicinity (about 100 m)"),
        ("locality", "Locality (about 1 km)"),
    ),
    _list(
        "victim_category",
        ("civilians", "Civilians"),
        ("children", "Children"),
        ("captured-soldiers", "Soldiers who surrendered or were captured"),
        ("wounded", "Wounded"),
        ("medical-staff", "Medical staff"),
        ("journalists", "Journalists"),
        ("other", "Other"),
    ),
    _list(
        "force",
        ("ru-armed-forces", "Russian armed forces"),
        ("ru-national-guard", "Russian National Guard (Rosgvardia)"),
        ("ru-security-services", "Russian security services"),
        ("private-military", "Private military company"),
        ("occupation-authorities", "Occupation authorities"),
        ("ua-forces", "Ukrainian forces"),
        ("other", "Other"),
        ("unknown", "Unknown"),
    ),
    _list("yes_no_unsure", ("yes", "Yes"), ("no", "No"), ("unsure", "Unsure")),
    # B10.
    _list(
        "reported_elsewhere",
        ("police", "Police (102)"),
        ("prosecutor-general", "Prosecutor General (warcrimes.gov.ua)"),
        ("sbu", "SBU"),
        ("ngo", "An NGO"),
        ("icc", "ICC"),
        ("eyewitness-app", "eyeWitness app"),
        ("media", "Media"),
        ("no", "No"),
    ),
    # D2.
    _list(
        "witness_role",
        ("civilian-resident", "Civilian resident"),
        ("displaced", "Displaced person"),
        ("military", "Military"),
        ("medical", "Medical"),
        ("journalist", "Journalist"),
        ("volunteer", "Volunteer"),
        ("official", "Official"),
    ),
    # D4: (a) is the recommended channel; (b) carries a warning on the form.
    _list(
        "contact_method",
        ("receipt-code", "Check back here with my codename"),
        ("other-channel", "Another channel"),
    ),
    _list("willing_to_testify", ("yes", "Yes"), ("no", "No"), ("maybe-later", "Maybe later")),
    # C3, C4, C8: per file group.
    _list(
        "recorded_by",
        ("me", "Me"),
        ("someone-i-know", "Someone I know"),
        ("unknown", "Unknown"),
        ("downloaded", "Downloaded"),
        ("received-in-chat", "Received in a chat or channel"),
    ),
    _list(
        "file_generation",
        ("original", "Original from the recording device"),
        ("copy-sent", "Copy someone sent me"),
        ("downloaded", "Downloaded"),
        ("screen-recording", "Screen recording"),
    ),
    _list(
        "capture_device",
        ("phone-camera", "Phone camera"),
        ("drone", "Drone"),
        ("body-camera", "Body camera"),
        ("radio-receiver", "Radio scanner or receiver"),
        ("eyewitness", "eyeWitness"),
        ("tella", "Tella"),
        ("proofmode", "ProofMode"),
        ("other", "Other"),
    ),
    # evidence-model 3.3. "duplicate-of" carries the other submission's id beside it.
    _list(
        "submission_status",
        ("new", "New"),
        ("triaged", "Triaged"),
        ("linked", "Linked to an incident"),
        ("closed", "Closed"),
        ("needs-info", "Needs information from the witness"),
        ("duplicate-of", "Duplicate of another submission"),
        ("rejected:spam", "Rejected: spam"),
        ("rejected:out-of-scope", "Rejected: out of scope"),
        ("hold:safety", "On hold: witness safety"),
        ("hold:legal", "On hold: legal"),
        ("withdrawn", "Consent withdrawn"),
    ),
    _list(
        "incident_status",
        ("open", "Open"),
        ("in-analysis", "In analysis"),
        ("ready-for-review", "Ready for review"),
        ("reviewed", "Reviewed"),
        ("ready-for-export", "Ready for export"),
        ("exported", "Exported"),
        ("archived", "Archived"),
    ),
    # Every optional pick-list also accepts these (form rule F5), so they are a list of their own.
    _list(
        "non_answer",
        ("dont-know", "I don't know"),
        ("prefer-not-to-say", "Prefer not to say"),
    ),
)

LISTS: Mapping[str, CodeList] = MappingProxyType({item.name: item for item in _ALL})
NON_ANSWERS = LISTS["non_answer"].codes


def _get(list_name: str) -> CodeList:
    try:
        return LISTS[list_name]
    except KeyError:
        raise KeyError(f"no code list named {list_name!r}") from None


def is_valid(list_name: str, code: str) -> bool:
    """Whether `code` is in the list. Raises KeyError for an unknown list (a programming error)."""
    return code in _get(list_name)


def codes(list_name: str) -> tuple[str, ...]:
    """The list's codes in display order."""
    return _get(list_name).codes


def label(list_name: str, code: str) -> str:
    """The English label of a code. Raises KeyError when the list or the code is unknown."""
    return _get(list_name).label(code)
