"""GET forms that filter a list (no CSRF token: they change nothing): one per list, shared
by its page, its feeds and the API; for the lists of the site's people (the attendance
list, the members' directory) too.

A person's typing is forgiven: `filters` holds the values tidied (spaces collapsed, control
characters dropped, cut at TEXT_MAX), and the page explains values it does not know. A
program is told: `validate()` refuses, with a message in English for the API, text longer
than TEXT_MAX or with a control character (as it was sent) and a period it does not know.
The lists only people use are never validated: their forms are only read.
"""

from collections.abc import Callable

from wtforms import Form, StringField, ValidationError
from wtforms.validators import Length

from ..services.attendance.filters import PAGE_MAX, SHOW_CHOICES, AttendanceFilters
from ..services.collaboration_register import KINDS, STATUSES, CollaborationFilters
from ..services.collectives import CollectiveFilters
from ..services.event_list import PERIOD_DAYS, EventFilters
from .fields import CONTROL_CHARACTERS, first_error, page_number, strip

TEXT_MAX = 200
# CONTROL_CHARACTERS as a JSON Schema pattern, for the API's document.
PLAIN_TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f]*$"


def spaced(value: str | None) -> str:
    """The text with each control character as a space: a NUL between two words must not
    join them into another slug or word."""
    return CONTROL_CHARACTERS.sub(" ", value or "")


def tidy(value: str | None) -> str:
    """The text's words with one space between them, at most TEXT_MAX characters."""
    return " ".join((value or "").split())[:TEXT_MAX]


def _too_long(name: str) -> str:
    return f"{name} must be at most {TEXT_MAX} characters"


def text_refusal(name: str, raw: str) -> str | None:
    """Why the text `raw`, sent as the parameter `name`, is refused (longer than TEXT_MAX,
    or with a control character), in English; None when it is not."""
    if len(raw) > TEXT_MAX:
        return _too_long(name)
    if CONTROL_CHARACTERS.search(raw):
        return f"{name} must not contain control characters"
    return None


def plain_text(form, field) -> None:
    """Refuses (`text_refusal`) the text as it was sent."""
    message = text_refusal(field.name, field.raw_data[0] if field.raw_data else "")
    if message:
        raise ValidationError(message)


def known_period(form, field) -> None:
    """Refuses a period that is not one of PERIOD_DAYS."""
    if field.data and field.data not in PERIOD_DAYS:
        raise ValidationError(f"{field.name} must be one of {', '.join(PERIOD_DAYS)}")


def one_of(values: tuple[str, ...]) -> Callable:
    """Refuses a value that is not one of `values` (empty is "any")."""

    def check(form, field) -> None:
        if field.data and field.data not in values:
            raise ValidationError(f"{field.name} must be one of {', '.join(values)}")

    return check


def filter_text(name: str, *validators) -> StringField:
    """A text filter sent as `name`, refused as `text_refusal` says, then by `validators`."""
    return StringField(
        filters=[spaced, strip],
        validators=[Length(max=TEXT_MAX, message=_too_long(name)), plain_text, *validators],
    )


def picked(name: str) -> StringField:
    """A value sent as `name` that the page's own list or link gives (a neighbourhood, a
    page number), compared as it is: only the spaces around it and a NUL are dropped."""
    return StringField(filters=[strip], validators=[Length(max=TEXT_MAX, message=_too_long(name))])


class FilterForm(Form):
    """A list's filters; after `validate()`, `first_error` says what a program is told."""

    def first_error(self) -> str | None:
        """After `validate()`: the message of the first refused field, or None."""
        return first_error(self)


class EventFilterForm(FilterForm):
    """`?collective=&domain=&q=&period=`: the filters of the event list, its calendar feed
    and the API's event list (see `services.event_list.matching_events`)."""

    collective = filter_text("collective")
    domain = filter_text("domain")
    q = filter_text("q")
    period = filter_text("period", known_period)

    @property
    def filters(self) -> EventFilters:
        """What was asked for, tidied; an empty value means "any"."""
        return EventFilters(
            domain=tidy(self.domain.data),
            collective=tidy(self.collective.data),
            q=tidy(self.q.data),
            period=tidy(self.period.data),
        )


class CollectiveFilterForm(FilterForm):
    """`?domain=&neighbourhood=&q=`: the filters of the directory of collectives and the
    API's list of collectives (see `services.collectives.find_collectives`)."""

    domain = filter_text("domain")
    neighbourhood = filter_text("neighbourhood")
    q = filter_text("q")

    @property
    def filters(self) -> CollectiveFilters:
        """What was asked for, tidied; an empty value means "any". The page (the directory's
        `?page=`, read by `page_number`) is the first."""
        return CollectiveFilters(
            domain=tidy(self.domain.data),
            neighbourhood=tidy(self.neighbourhood.data),
            q=tidy(self.q.data),
        )


class CollaborationFilterForm(FilterForm):
    """`?kind=&domain=&status=&organisation=&q=`: the filters of the public register of
    collaborations, its Atom feed and the API's list (see
    `services.collaboration_register.find_collaborations`)."""

    kind = filter_text("kind", one_of(KINDS))
    domain = filter_text("domain")
    status = filter_text("status", one_of(STATUSES))
    organisation = filter_text("organisation")
    q = filter_text("q")

    @property
    def filters(self) -> CollaborationFilters:
        """What was asked for, tidied; an empty value means "any". The page (`?page=`,
        read by `page_number`) is the first."""
        return CollaborationFilters(
            kind=tidy(self.kind.data),
            domain=tidy(self.domain.data),
            status=tidy(self.status.data),
            organisation=tidy(self.organisation.data),
            q=tidy(self.q.data),
        )


class AttendanceFilterForm(FilterForm):
    """`?q=&show=&page=`: what an event's attendance list is narrowed to, and its page (see
    `services.attendance.party_rows`). Every action on the list sends them back in its
    form, so they are read from a post too. Only people use it, so nothing is refused:
    an unknown `show` shows everyone, and a page that is no whole number is the first."""

    q = filter_text("q")
    show = picked("show")
    page = picked("page")

    @property
    def filters(self) -> AttendanceFilters:
        return AttendanceFilters(
            q=tidy(self.q.data),
            show=self.show.data if self.show.data in SHOW_CHOICES else "",
            page=page_number(self.page.data, PAGE_MAX),
        )


class DirectoryFilterForm(FilterForm):
    """`?neighbourhood=&interest=`: the members' directory, narrowed to a neighbourhood
    and an interest (a domain's slug) from its lists (see `services.profiles.directory`)."""

    neighbourhood = picked("neighbourhood")
    interest = picked("interest")
