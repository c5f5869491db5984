"""The witness's words for each protocol rule id (protocol.rules, protocol.fields.FIELD_RULES).

Messages are keyed by rule id, not by check: when protocol adds a rule, a test fails until it
has a message here (and so in the catalogues). A few fields say more than their rule's message.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from protocol.fields import MAX_LIST_ITEMS

__all__ = ["MESSAGES", "rule_message"]

_CANNOT_STORE = _l("We cannot store this answer as it is. Please check it.")
_CONTROL = _l(
    "This answer contains an invisible control character we cannot store. Please type it "
    "again rather than pasting it."
)

MESSAGES: Mapping[str, LazyString] = {
    # protocol.fields.FIELD_RULES: the form's own validators catch most before these.
    "wrong-type": _CANNOT_STORE,
    "too-long": _l("This answer is too long. Please shorten it."),
    "control-character": _CONTROL,
    "not-unicode": _CONTROL,
    "out-of-range": _l("This number is outside what we can store. Please check it."),
    "unknown-code": _CANNOT_STORE,
    "bad-list": _CANNOT_STORE,
    "bad-date": _CANNOT_STORE,
    "bad-time": _CANNOT_STORE,
    "unknown-field": _CANNOT_STORE,
    # protocol.rules
    "contact-needs-consent": _l(
        'This is a way to contact you: answer "Yes" to "May investigators contact you?", or '
        "clear this answer."
    ),
    "name-needs-consent": _l(
        'To give your name, answer "Yes" to "Would you like to tell us who you are?", or clear '
        "this box."
    ),
    "other-needs-text": _l('You chose "Other": please say what it is.'),
    "text-needs-other": _l(
        'To be contacted this way, choose "Another way (describe it below)" above, or clear '
        "this box."
    ),
    "group-needs-file": _l(
        "These answers describe files, but this group has none: choose its files, or clear "
        "these answers."
    ),
    "range-order": _l("The largest number is smaller than the smallest."),
}

# (field, rule id) pairs whose message names the field's own terms.
_BY_FIELD: Mapping[tuple[str, str], LazyString] = {
    ("coordinates", "out-of-range"): _l(
        "These coordinates are not on Earth: latitude goes from -90 to 90 and longitude from "
        "-180 to 180, for example 49.99, 36.23."
    ),
    # The box takes one call-sign a line, and protocol keeps at most MAX_LIST_ITEMS of them.
    ("call_signs", "bad-list"): _l(
        "Please write at most %(number)s lines here, one call-sign on each.",
        number=MAX_LIST_ITEMS,
    ),
    # D4's own option, quoted as the page shows it.
    ("contact_other", "other-needs-text"): _l(
        'You chose "Another way (describe it below)": please say what it is.'
    ),
    # A radio cannot be cleared without JavaScript: say which answer to choose.
    ("contact_how", "contact-needs-consent"): _l(
        'To be contacted this way, answer "Yes" to "May investigators contact you?".'
    ),
}


def rule_message(field: str, rule_id: str) -> LazyString:
    """The translated message for `rule_id` on the form field named `field`."""
    return _BY_FIELD.get((field, rule_id)) or MESSAGES.get(rule_id, _CANNOT_STORE)
