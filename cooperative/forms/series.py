"""The organisers' form for an event series: its rhythm, times and the event it repeats.

The event part is the event form itself (`EventForm`, with its meals), without what each
occurrence gets from the rhythm: the web address and the times. A meal's sign-up deadline
is a number of hours before each start. Dates are typed as 2030-06-12, times as 18:00,
both Amsterdam wall-clock time. `SeriesForm.settings()` gives what `services.series`
takes; the service checks what needs the database.
"""

import re
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    FieldList,
    FormField,
    RadioField,
    SelectField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from ..i18n import local_zone
from ..models import EventSeries
from ..models.events import DEFAULT_REMINDER_HOURS
from ..models.series import DEFAULT_HORIZON_WEEKS
from ..services.recurrence import (
    MAX_INTERVAL_WEEKS,
    MONTHLY_RHYTHM,
    WEEKLY_RHYTHM,
    Rhythm,
    make_rule,
    rhythm_of,
    weekday_name,
)
from ..services.series import MEAL_FIELDS, TEMPLATE_FIELDS, SeriesSettings
from .events import FIRST_YEAR, LAST_YEAR, MAX_MEALS, EventForm, MealForm
from .fields import WholeNumberField, ends_after, required_number, strip

MAX_HORIZON_WEEKS = 52
MAX_DEADLINE_HOURS = 24 * 14
MAX_EXCEPTIONS = 100
KEEP, CHANGE = "keep", "change"
_DATE_WORD = re.compile(r"[\s,;]+")
WEEK_CHOICES = [
    SelectChoice("1", _l("first")),
    SelectChoice("2", _l("second")),
    SelectChoice("3", _l("third")),
    SelectChoice("4", _l("fourth")),
    SelectChoice("-1", _l("last")),
]


def _sensible_year(form, field) -> None:
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(
            _l("Please write a year from %(first)d to %(last)d.", first=FIRST_YEAR, last=LAST_YEAR)
        )


def day_field(label, required: bool = False, description=None) -> DateField:
    validators = [InputRequired(_l("Please fill in a date."))] if required else [Optional()]
    return DateField(
        label,
        validators=[*validators, _sensible_year],
        description=description or _l("For example 2030-06-12."),
        invalid_value_message=_l("Please write a date, for example 2030-06-12."),
    )


def clock_field(label) -> TimeField:
    return TimeField(
        label,
        validators=[InputRequired(_l("Please fill in a time."))],
        description=_l("Amsterdam time, for example 18:00."),
        invalid_value_message=_l("Please write a time, for example 18:00."),
    )


def parse_days(text: str) -> list[date]:
    """The dates in `text` (2030-06-12 or 12-06-2030, separated by spaces, commas or new
    lines), sorted without repeats. Raises ValueError naming what is not a date."""
    days = set()
    for word in _DATE_WORD.split(text or ""):
        if not word:
            continue
        for pattern in ("%Y-%m-%d", "%d-%m-%Y"):
            try:
                days.add(datetime.strptime(word, pattern).date())
                break
            except ValueError:
                continue
        else:
            raise ValueError(word)
    return sorted(days)


class SeriesMealForm(MealForm):
    """A meal of each occurrence: its deadline is a number of hours before the start."""

    signup_deadline = None
    signup_hours_before = WholeNumberField(
        _l("Sign up for the meal until … hours before the start"),
        description=_l("Optional. For example 6. Leave empty for: until the start."),
        validators=[
            Optional(),
            NumberRange(
                min=0,
                max=MAX_DEADLINE_HOURS,
                message=_l("Please write a number from 0 to %(max)d.", max=MAX_DEADLINE_HOURS),
            ),
        ],
    )

    def deadline(self):
        return None

    def template(self) -> dict:
        plan = self.plan()
        hours = self.signup_hours_before.data
        return {
            **{name: getattr(plan, name) for name in MEAL_FIELDS},
            "diets": list(plan.diets),
            "signup_minutes_before": hours * 60 if hours is not None else None,
        }


class SeriesForm(EventForm):
    """A series: the event form without address and times, plus the rhythm."""

    slug = starts_at = ends_at = refund_until = None
    registration_opens_at = registration_closes_at = None
    meals = FieldList(FormField(SeriesMealForm), min_entries=0, max_entries=MAX_MEALS)

    frequency = RadioField(
        _l("How often"),
        choices=[
            SelectChoice(WEEKLY_RHYTHM, _l("Every week, or every few weeks")),
            SelectChoice(MONTHLY_RHYTHM, _l("Once a month, on a set weekday")),
        ],
        default=WEEKLY_RHYTHM,
        invalid_choice_message=_l("Please choose how often."),
    )
    weekday = SelectField(_l("Weekday"), validate_choice=False)
    interval = WholeNumberField(
        _l("Every how many weeks"),
        default=1,
        description=_l("For a weekly series: 1 is every week, 2 every other week."),
        validators=required_number(MAX_INTERVAL_WEEKS),
    )
    week = SelectField(
        _l("Which one in the month"),
        choices=WEEK_CHOICES,
        default="1",
        description=_l("For a monthly series: for example the second Saturday."),
        validate_choice=False,
    )
    first_date = day_field(_l("Starting from"), required=True)
    start_time = clock_field(_l("Starts at"))
    end_time = clock_field(_l("Ends at"))
    until = day_field(
        _l("Last date"), description=_l("Optional: leave empty for a series without an end.")
    )
    exceptions = TextAreaField(
        _l("Dates without an event"),
        filters=[strip],
        validators=[Optional(), Length(max=MAX_EXCEPTIONS * 12)],
        description=_l("Optional: one date a line, for example 2030-12-29."),
    )
    horizon_weeks = WholeNumberField(
        _l("Put dates online this many weeks ahead"),
        default=DEFAULT_HORIZON_WEEKS,
        validators=required_number(MAX_HORIZON_WEEKS),
    )
    registered_dates = RadioField(
        _l("Dates people have registered for"),
        choices=[
            SelectChoice(KEEP, _l("Leave them as they are")),
            SelectChoice(CHANGE, _l("Change them too, and e-mail the people registered")),
        ],
        validate_choice=False,
    )

    def __init__(self, *args, collectives: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, collectives=collectives, allow_no_host=False, **kwargs)
        self.weekday.choices = [SelectChoice(str(day), weekday_name(day)) for day in range(7)]

    @classmethod
    def for_series(cls, series: EventSeries, **kwargs) -> "SeriesForm":
        """The form filled in with a series as it is saved now."""
        template = series.template
        rhythm = rhythm_of(series.rule) or Rhythm(WEEKLY_RHYTHM, series.first_date.weekday())
        zone = local_zone()
        start = datetime.combine(series.first_date, series.start_time, zone)
        end = start + timedelta(minutes=series.duration_minutes)
        data = {
            "title": series.title,
            "collective_id": str(series.collective_id),
            **{name: template.get(name) for name in TEMPLATE_FIELDS},
            "ticket_price": template.get("ticket_price_cents", 0),
            "payment_mode": str(template.get("payment_mode", "door")),
            "frequency": rhythm.frequency,
            "weekday": str(rhythm.weekday),
            "interval": rhythm.interval,
            "week": str(rhythm.week),
            "first_date": series.first_date,
            "start_time": series.start_time,
            "end_time": end.time(),
            "until": series.until,
            "exceptions": "\n".join(series.exception_dates),
            "horizon_weeks": series.horizon_weeks,
            "meals": [
                {
                    **{name: meal.get(name) for name in ("name", "capacity")},
                    "price": meal.get("price_cents"),
                    "pay_what_you_can": meal.get("pwyc_min_cents") is not None,
                    "pwyc_min": meal.get("pwyc_min_cents"),
                    "pwyc_suggested": meal.get("pwyc_suggested_cents"),
                    "diets": list(meal.get("diets", [])),
                    "signup_hours_before": (
                        meal["signup_minutes_before"] // 60
                        if meal.get("signup_minutes_before") is not None
                        else None
                    ),
                }
                for meal in template.get("meals", [])
            ],
        }
        return cls(formdata=None, data=data, **kwargs)

    def validate_weekday(self, field) -> None:
        if field.data not in {str(day) for day in range(7)}:
            raise ValidationError(_l("Please choose a weekday from the list."))

    def validate_week(self, field) -> None:
        if field.data not in {choice.value for choice in WEEK_CHOICES}:
            raise ValidationError(_l("Please choose from the list."))

    validate_end_time = ends_after(
        "start_time", _l("The end must be after the start, on the same day.")
    )

    validate_until = ends_after(
        "first_date", _l("The last date cannot be before the first."), or_same=True
    )

    def validate_exceptions(self, field) -> None:
        try:
            days = parse_days(field.data)
        except ValueError as error:
            raise ValidationError(
                _l(
                    "“%(word)s” is not a date. Please write each date like 2030-12-29.",
                    word=str(error),
                )
            ) from error
        if len(days) > MAX_EXCEPTIONS:
            raise ValidationError(_l("Please list at most %(max)d dates.", max=MAX_EXCEPTIONS))

    def validate_registered_dates(self, field) -> None:
        if field.data not in (None, "", KEEP, CHANGE):
            raise ValidationError(_l("Please choose what happens to these dates."))

    def rhythm(self) -> Rhythm:
        return Rhythm(
            self.frequency.data,
            int(self.weekday.data),
            interval=self.interval.data if self.frequency.data == WEEKLY_RHYTHM else 1,
            week=int(self.week.data),
        )

    def settings(self) -> SeriesSettings:
        """The series as the series service takes it (after `validate()`)."""
        zone = local_zone()
        start = datetime.combine(self.first_date.data, self.start_time.data)
        end = datetime.combine(self.first_date.data, self.end_time.data)
        template = {
            "summary": self.summary.data or "",
            "description": self.description.data or "",
            "venue": self.venue.data or "",
            "address": self.address.data or "",
            "audience": self.audience.data or "",
            "capacity": self.capacity.data,
            "ticket_price_cents": self.ticket_price.data or 0,
            "max_party_size": self.max_party_size.data,
            "payment_mode": self.payment_mode.data,
            "reminder_hours": (
                DEFAULT_REMINDER_HOURS
                if self.reminder_hours.data is None
                else self.reminder_hours.data
            ),
            "meals": [entry.form.template() for entry in self.meals],
        }
        return SeriesSettings(
            collective_id=int(self.collective_id.data),
            title=self.title.data,
            rule=make_rule(self.rhythm(), self.until.data, zone),
            first_date=self.first_date.data,
            start_time=self.start_time.data,
            duration_minutes=int((end - start).total_seconds() // 60),
            until=self.until.data,
            exception_dates=[day.isoformat() for day in parse_days(self.exceptions.data)],
            horizon_weeks=self.horizon_weeks.data,
            template=template,
        )
