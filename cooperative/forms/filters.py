"""GET forms that filter a public list, read from the query string (no CSRF token: they
change nothing).

A person's typing is forgiven: `filters` holds the values tidied (spaces collapsed, control
characters dropped, cut at TEXT_MAX), and the page explains values it does not know. A
program is told: `validate()` refuses, with a message in English for the API, what the
tidying would have had to change or drop.
"""

import re

from wtforms import Form, StringField, ValidationError

from ..services.event_list import PERIOD_DAYS, EventFilters

TEXT_MAX = 200
# PostgreSQL cannot compare text with a NUL character in it; no filter needs any of these.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# The same rule as a JSON Schema pattern, for the API's document.
PLAIN_TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f]*$"


def tidy(value: str | None) -> str:
    """The text without control characters, its spaces collapsed, at most TEXT_MAX long."""
    return " ".join(_CONTROL_CHARACTERS.sub(" ", value or "").split())[:TEXT_MAX]


def plain_text(form, field) -> None:
    """Refuses text longer than TEXT_MAX or with a control character, as it was sent."""
    raw = field.raw_data[0] if field.raw_data else ""
    if len(raw) > TEXT_MAX:
        raise ValidationError(f"{field.name} must be at most {TEXT_MAX} characters")
    if _CONTROL_CHARACTERS.search(raw):
        raise ValidationError(f"{field.name} must not contain control characters")


def known_period(form, field) -> None:
    """Refuses a period that is not one of PERIOD_DAYS."""
    if field.data and field.data not in PERIOD_DAYS:
        raise ValidationError(f"{field.name} must be one of {', '.join(PERIOD_DAYS)}")


class EventFilterForm(Form):
    """`?q=&domain=&collective=&period=`: the filters of the event list, its calendar feed
    and the API's event list (see `services.event_list.matching_events`)."""

    collective = StringField(filters=[tidy], validators=[plain_text])
    domain = StringField(filters=[tidy], validators=[plain_text])
    q = StringField(filters=[tidy], validators=[plain_text])
    period = StringField(filters=[tidy], validators=[plain_text, known_period])

    @property
    def filters(self) -> EventFilters:
        """What was asked for, tidied; an empty value means "any"."""
        return EventFilters(
            domain=self.domain.data,
            collective=self.collective.data,
            q=self.q.data,
            period=self.period.data,
        )

    def first_error(self) -> str | None:
        """After `validate()`: the message of the first refused field, or None."""
        for messages in self.errors.values():
            return messages[0]
        return None
