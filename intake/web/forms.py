"""WTForms definitions of the testimony form (brief form.md, sections A-D) and the return pages.

Only the consent gate (A3), the recipient classes (A4) and the account (B1) are required; every
other question may stay empty, which is stored as "don't know / prefer not to say" (rule F5).
The files themselves are not WTForms fields: their bytes are sealed by the request class while
they arrive, and each group's questions live in a `FileGroupForm`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.i18n import get_translations as wtforms_translations
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from intake.web import choices as c
from intake.web.coordinates import parse_coordinates
from intake.web.fields import DayMonthYearField, RecipientsField
from intake.web.i18n import current_language
from protocol.fields import GROUP_FIELDS, SHORT_TEXT, TESTIMONY_FIELDS, FieldSpec

# The limits are protocol's (protocol.fields), so that the form cannot take what the schema
# refuses; cross-field rules (protocol.rules) run after these, in services.testimony.
_B = TESTIMONY_FIELDS
_C = GROUP_FIELDS
ACCOUNT_MAX = TESTIMONY_FIELDS["B1"].max_length
_VICTIMS_MIN = TESTIMONY_FIELDS["B7_min"]
_VICTIMS_MAX = TESTIMONY_FIELDS["B7_max"]


_SUMMARY_LABELS: dict[str, Any] = {
    "victims_max": _l("Number of victims, at most"),
    "time_to": _l("Time of day (Kyiv time), until"),
}
"""Fields whose label continues the one before it ("at most") and means nothing alone in the
error summary: there they are named by their whole question."""


def summary_label(field: Any) -> str:
    """The name a field goes by in the error summary, followed there by ": message".

    A closing "?" or ":" is dropped so the summary never reads "information?: Please choose".
    """
    label = _SUMMARY_LABELS.get(field.short_name, field.label.text)
    return str(label).rstrip(" ?:")


# WTForms ships no type information (mypy sees its classes as Any), hence the
# `type: ignore[misc]` on every subclass below: subclassing is how WTForms is used.
class _Form(Form):  # type: ignore[misc]
    """A form whose built-in messages ("Not a valid integer value") follow the page's language:
    WTForms ships Ukrainian and Russian catalogues for them."""

    class Meta:
        def get_translations(self, form: Form) -> Any:
            return wtforms_translations([current_language()])


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    """A list of checkboxes; values are the option codes that were ticked."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _TextLength(Length):  # type: ignore[misc]
    """Length as protocol counts it: a browser sends each new line as CR LF, and the answer
    keeps it as LF (services.answers), so a line break is one character, not two."""

    def __call__(self, form: Form, field: Any) -> None:
        data = field.data
        if isinstance(data, str):
            field.data = data.replace("\r\n", "\n").replace("\r", "\n")
        try:
            super().__call__(form, field)
        finally:
            field.data = data


def _limit(field_id: str | None, specs: Mapping[str, FieldSpec]) -> int:
    """The answer's length limit, protocol's (a field protocol does not know: a short one)."""
    return SHORT_TEXT if field_id is None else specs[field_id].max_length


def _short(label: Any, field_id: str | None, specs: Mapping[str, FieldSpec] = _B) -> StringField:
    return StringField(label, [Optional(), _TextLength(max=_limit(field_id, specs))])


def _long(label: Any, field_id: str | None, specs: Mapping[str, FieldSpec] = _B) -> TextAreaField:
    return TextAreaField(label, [Optional(), _TextLength(max=_limit(field_id, specs))])


def _pick(label: Any, list_name: str) -> SelectField:
    return SelectField(label, choices=c.with_unknown(list_name), default=c.UNKNOWN)


def _many(label: Any, list_name: str) -> MultiCheckboxField:
    return MultiCheckboxField(label, choices=c.choices(list_name), default=[])


class FileGroupForm(_Form):
    """The questions about one group of files (C2, C3, C4, C10, C11)."""

    shows = _long(_l("What do these files show?"), "C2", _C)
    recorded_by = _pick(_l("Who recorded them?"), "recorded_by")
    recorded_by_detail = _short(_l("More about who recorded them (optional)"), "C3_detail", _C)
    generation = _pick(_l("Are they originals or copies?"), "file_generation")
    original_kept = _pick(_l("Do you or someone else still have the originals?"), "yes_no_unsure")
    graphic = _pick(_l("Do they contain graphic violence?"), "yes_no_unsure")
    risk = _pick(
        _l("Could anyone in them be put at risk if they were shown (faces, names, addresses)?"),
        "yes_no_unsure",
    )


class TestimonyForm(_Form):
    """The whole testimony on one page."""

    consent = BooleanField(
        _l("I have read the information above and want to send my testimony"),
        [InputRequired(message=_l("Please confirm that you want to send your testimony."))],
    )
    recipients = RecipientsField(
        _l("Who may receive your information?"), choices=c.choices("recipient_class"), default=[]
    )
    account = TextAreaField(
        _l("Describe what happened, in your own words"),
        [
            InputRequired(message=_l("Please describe what happened.")),
            _TextLength(max=ACCOUNT_MAX),
        ],
    )
    source = _pick(_l("How do you know this?"), "source_type")
    source_detail = _short(_l("More about how you know (optional)"), "B2_detail")
    incident_types = _many(_l("What kind of incident was it?"), "incident_type")
    incident_other = _short(_l("If other, what was it?"), "B3_other")
    event_date = DayMonthYearField(_l("Date of the event"), [Optional()])
    date_precision = _pick(_l("How exact is this date?"), "date_precision")
    time_from = TimeField(_l("Time of day (Kyiv time), from"), [Optional()])
    time_to = TimeField(_l("until (optional)"), [Optional()])
    time_approximate = BooleanField(_l("The time is approximate"))
    oblast = _pick(_l("Oblast"), "oblast")
    settlement = _short(_l("Settlement or hromada"), "B6_settlement")
    place = _long(_l("Describe the place"), "B6_description")
    coordinates = _short(_l("Coordinates, if you know them (latitude, longitude)"), None)
    coordinates_precision = _pick(_l("How exact are the coordinates?"), "location_precision")
    victims_min = IntegerField(
        _l("Number of victims, at least"),
        [Optional(), NumberRange(_VICTIMS_MIN.low, _VICTIMS_MIN.high)],
    )
    victims_max = IntegerField(
        _l("at most"), [Optional(), NumberRange(_VICTIMS_MAX.low, _VICTIMS_MAX.high)]
    )
    victim_categories = _many(_l("Who were the victims?"), "victim_category")
    victim_details = _long(
        _l("Details that identify the victims (only if it is safe)"), "B7_details"
    )
    perpetrators = _long(_l("Who did it? Describe them"), "B8_description")
    force = _pick(_l("Which force?"), "force")
    unit = _short(_l("Unit name or number"), "B8_unit")
    call_signs = _long(_l("Call-signs you heard (one per line)"), "B8_callsigns")
    insignia = _short(_l("Uniforms, insignia or patches"), "B8_insignia")
    vehicles = _short(_l("Vehicles and their markings"), "B8_vehicles")
    order_heard = _pick(_l("Did you hear an order being given?"), "yes_no_unsure")
    orders = _long(_l("Who ordered what? Use the words you heard"), "B8_orders")
    other_witnesses = _long(_l("Other witnesses or evidence you know of"), "B9")
    reported_elsewhere = _many(_l("Have you reported this elsewhere?"), "reported_elsewhere")
    report_refs = _short(_l("Reference numbers of those reports"), "B10_refs")
    group1 = FormField(FileGroupForm)
    group2 = FormField(FileGroupForm)
    group3 = FormField(FileGroupForm)
    identify = RadioField(
        _l("Would you like to tell us who you are?"), choices=c.NO_YES, default="no"
    )
    name = _short(_l("Your name, or how investigators may refer to you"), "D1")
    role = _pick(_l("Your role at the time"), "witness_role")
    contact = RadioField(_l("May investigators contact you?"), choices=c.NO_YES, default="no")
    contact_how = RadioField(
        _l("How?"), choices=c.choices("contact_method"), default="receipt-code"
    )
    contact_other = _long(_l("The other way to reach you"), "D4_other")
    contact_notes = _long(_l("Safe times, or what we must know before contacting you"), "D5")
    testify = _pick(
        _l("Would you be willing to give a formal statement or testify?"), "willing_to_testify"
    )
    support_info = BooleanField(_l("Show me where to find psychological, medical or legal support"))

    def validate_recipients(self, field: MultiCheckboxField) -> None:
        """A4 is required: at least one class of recipient."""
        if not field.data:
            raise ValidationError(_l("Please choose at least one recipient."))

    def validate_event_date(self, field: DateField) -> None:
        """A date in the future is a typing slip worth pointing out."""
        if field.data is not None and field.data > dt.datetime.now(dt.UTC).date():
            raise ValidationError(_l("This date is in the future."))

    def validate_coordinates(self, field: StringField) -> None:
        """Two decimal numbers, so that the investigators can map them; never a guess."""
        if field.data and field.data.strip() and parse_coordinates(field.data) is None:
            raise ValidationError(
                _l(
                    "Write latitude and longitude as two numbers, for example 50.4501, 30.5234 "
                    "(with decimal commas: 50,4501; 30,5234)."
                )
            )


class FollowUpForm(_Form):
    """More text and files for an earlier submission, from a returning witness."""

    parent = SelectField(_l("Which of your submissions does this add to?"), choices=[])
    account = TextAreaField(
        _l("What would you like to add?"), [Optional(), _TextLength(max=ACCOUNT_MAX)]
    )
    group1 = FormField(FileGroupForm)
    # The investigators' reply this answers (R-…), set by "Answer this reply"; the service
    # checks that the reply was sent to this witness.
    in_reply_to = HiddenField(validators=[Optional(), Length(max=40)])


class ConsentForm(_Form):
    """Withdraw or narrow the consent given with a submission (sealed like a follow-up)."""

    parent = SelectField(_l("Which submission does this change apply to?"), choices=[])
    recipients = RecipientsField(
        _l("Who may receive your information from now on?"),
        choices=c.choices("recipient_class"),
        default=[],
    )
    withdraw = BooleanField(_l("Withdraw my consent completely: do not use this testimony"))
    # Required by the view unless the session confirmed this testimony in the last 10 minutes.
    codename = StringField(
        _l("Your codename, to confirm this change"),
        [Length(max=400)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )

    def validate_recipients(self, field: MultiCheckboxField) -> None:
        """Either some recipients remain, or consent is withdrawn."""
        if not field.data and not self.withdraw.data:
            raise ValidationError(_l("Choose who may still receive it, or withdraw completely."))


class LoginForm(_Form):
    """The codename given on the receipt."""

    codename = StringField(
        _l("Your codename"),
        [InputRequired(message=_l("Please type your codename.")), Length(max=400)],
        # Browsers must not remember, complete or "correct" a codename.
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )


class StartForm(_Form):
    """The codename step's button, and the bot trap.

    The trap is here, not on the testimony form: a filled trap gets a decoy codename before a
    single answer is typed, so browser autofill or an assistive tool that fills hidden fields
    can never cost a person their testimony, only a second click.
    """

    # Hidden from people by CSS; bots that fill every field fill this one (SecureDrop #6302).
    website = StringField(_l("Leave this field empty"), [Length(max=SHORT_TEXT)])


class ConfirmCodenameForm(_Form):
    """Two words of the codename typed back (intake.web.services.start says why two)."""

    word1 = StringField(
        _l("First word asked for"),
        [InputRequired(message=_l("Please type this word of your codename.")), Length(max=64)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    word2 = StringField(
        _l("Second word asked for"),
        [InputRequired(message=_l("Please type this word of your codename.")), Length(max=64)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
