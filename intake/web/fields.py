"""Two testimony-form fields whose HTML is more than one input (issue 18, item 2).

`DayMonthYearField`: a date as a day box, a month chosen by its name and a year box. A single
`<input type=date>` shows its digits in the browser's order, and Tor Browser reports en-US to
every site, so a witness in Kyiv would see 03/04/2022 for the 4th of March; a month by name
cannot be read the wrong way round, and the three parts need no JavaScript.

`RecipientsField`: "this service's investigators only" is a choice of its own (two radio
buttons, "only them" or "them and those I tick"), not one checkbox among the others, where it
could be ticked together with the International Criminal Court.

Both still accept the single value older drafts and clients send (`event_date=2022-03-04`,
`recipients=investigators`), so nothing kept before this change is lost.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import get_month_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectMultipleField
from wtforms.utils import unset_value
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

__all__ = ["DAY_MONTH_YEAR", "DayMonthYearField", "RecipientsField", "answered"]

DAY_MONTH_YEAR = ("day", "month", "year")
"""The suffixes of the three inputs' names (`event_date-day`, ...)."""

MIN_YEAR = 1900
"""The earliest year a date may give: anything before is a slip (a two-digit year, say)."""

ONLY = "investigators"
"""The recipient code meaning "this service's investigators only"."""


class DayMonthYearField(DateField):  # type: ignore[misc]
    """A date typed as day, month (by name) and year; empty when all three are."""

    data: Any
    parts: tuple[str, str, str] = ("", "", "")
    month_only: bool = False

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        names = [f"{self.name}-{suffix}" for suffix in DAY_MONTH_YEAR]
        if formdata is None or not any(name in formdata for name in names):
            super().process(formdata, data, extra_filters)
            if self.data is not None:
                self.parts = (str(self.data.day), str(self.data.month), str(self.data.year))
            return
        self.process_errors = []
        self.object_data = data
        day, month, year = (str(formdata.get(name, "")).strip() for name in names)
        self.parts = (day, month, year)
        self.data = None
        # Optional() lets an empty raw_data through without a word, so only a date with at
        # least one part typed has raw_data to check.
        self.raw_data = [f"{year}-{month}-{day}"] if day or month or year else []
        if not self.raw_data:
            return
        if not (month and year):
            self.process_errors.append(
                _l("Give the day, the month and the year, or leave all three empty.")
            )
            return
        if not (len(year) == 4 and year.isascii() and year.isdigit() and int(year) >= MIN_YEAR):
            # "22" on a phone means 2022, never the year 22: ask rather than guess.
            self.process_errors.append(_l("Write the year with four digits, for example 2022."))
            return
        if not all(part.isascii() and part.isdigit() for part in (day or "1", month)):
            self.process_errors.append(_l("This date does not exist. Please check it."))
            return
        # A month and year alone stand for the month: the form's precision question must then
        # say "only the month is right" (pre_validate), and the answers keep only "YYYY-MM".
        self.month_only = not day
        try:
            self.data = dt.date(int(year), int(month), int(day or "1"))
        except ValueError:
            self.process_errors.append(_l("This date does not exist. Please check it."))

    def pre_validate(self, form: Any) -> None:
        precision = getattr(form, "date_precision", None)
        if self.month_only and self.data and precision is not None and precision.data != "month":
            raise ValidationError(
                _l("Give the day too, or answer “Only the month is right” to the next question.")
            )

    def months(self) -> list[tuple[str, str]]:
        """(number, name) of each month in the page's language, for the month's list."""
        names = get_month_names("wide", context="stand-alone", locale=get_locale())
        return [(str(number), str(names[number])) for number in range(1, 13)]


class RecipientsField(SelectMultipleField):  # type: ignore[misc]
    """The recipient classes: "investigators only" by a radio button, or the others ticked."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
    data: Any
    scope: str = ""
    conflict: bool = False

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        super().process(formdata, data, extra_filters)
        self.scope = str(formdata.get(self.scope_name, "")) if formdata is not None else ""
        ticked = [code for code in (self.data or []) if code != ONLY]
        self.conflict = self.scope == "only" and bool(ticked)
        if self.scope == "only" and not ticked:
            self.data = [ONLY]
        elif self.scope == "more":
            self.data = ticked

    @property
    def scope_name(self) -> str:
        return f"{self.name}-scope"

    def chosen_scope(self) -> str:
        """Which radio button to show checked: "only", "more" or neither."""
        if self.scope in ("only", "more"):
            return self.scope
        if self.data == [ONLY]:
            return "only"
        return "more" if self.data else ""

    def others(self) -> list[Any]:
        """The checkbox options other than "investigators only"."""
        return [option for option in self if option.data != ONLY]

    def pre_validate(self, form: Any) -> None:
        super().pre_validate(form)
        if self.conflict:
            raise ValidationError(
                _l(
                    "You chose this service's investigators only, and also ticked others. "
                    "Please choose one or the other."
                )
            )


def answered(field: Any) -> bool:
    """Whether `field` holds an answer of the witness's (not its default), so that a folded
    part holding one is shown open: after a language switch or a cut, nothing typed is hidden.
    """
    if field.type == "FormField":
        return any(answered(sub) for sub in field)
    if isinstance(field, DayMonthYearField):
        return any(field.parts)
    data = field.data
    if data is None or data is False or data in ("", []):
        return False
    return bool(data != field.default)
