"""The organisers' event form: the event, then any number of meals.

Times are typed as Amsterdam wall-clock time (`datetime-local` inputs) and come out of the
form as aware datetimes; euro amounts are typed as `4,50`, `4.50` or `4` and come out as
integer cents. Meals are added and removed with buttons that post the form back to be
drawn again with everything typed kept (htmx swaps it in place; without JavaScript the
page reloads). The events service checks what needs the database (slug taken, seats
already taken, meals people signed up for).
"""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..i18n import DIET_LABELS, local_zone
from ..models import DIETS, Event, PaymentMode
from ..models.events import DEFAULT_REMINDER_HOURS, MAX_REMINDER_HOURS
from ..services.events import SLUG_MAX_LENGTH, EventPlan, MealPlan
from ..services.registration import PWYC_MAX_CENTS
from .fields import (
    AmountRequired,
    EuroField,
    SubForm,
    WholeNumberField,
    ends_after,
    optional_text,
    required_number,
    required_text,
    slug_field,
    strip,
)
from .registration import MultiCheckboxField

# However many meals a request posts, no more are read.
MAX_MEALS = 12
MAX_PARTY_SIZE = 20
NO_COLLECTIVE = ""
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%d-%m-%Y %H:%M"]
_MEAL_KEY_RE = re.compile(r"meals-(\d+)-(.+)")
# Seats and meals: at least one, and no more than a database integer holds with room.
MAX_COUNT = 100_000
COUNT_RANGE = [
    NumberRange(min=1, message=_l("Please write 1 or more.")),
    NumberRange(max=MAX_COUNT, message=_l("Please write at most %(max)d.", max=MAX_COUNT)),
]


# Times outside these years are typing mistakes, and at the very ends of the calendar
# turning Amsterdam time into UTC overflows (year 1, 00:30 would be year 0).
FIRST_YEAR, LAST_YEAR = 1900, 2999


def _sensible_year(form, field) -> None:
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(
            _l("Please write a year from %(first)d to %(last)d.", first=FIRST_YEAR, last=LAST_YEAR)
        )


def amsterdam_time(label, required: bool = False, description=None) -> DateTimeLocalField:
    """A `datetime-local` input read as Amsterdam wall-clock time (an aware datetime),
    in the years FIRST_YEAR to LAST_YEAR."""
    validators = [InputRequired(_l("Please fill in a day and time."))] if required else [Optional()]
    validators.append(_sensible_year)
    return DateTimeLocalField(
        label,
        format=DATETIME_FORMATS,
        tz=local_zone,  # read when the form is, from the app's setting
        validators=validators,
        description=description or _l("Amsterdam time, for example 2030-06-12 17:30."),
        invalid_value_message=_l("Please write a day and time, for example 2030-06-12 17:30."),
    )


def count_field(label) -> WholeNumberField:
    """How many seats or meals there are: 1 or more, or empty for no limit."""
    return WholeNumberField(
        label, description=_l("Leave empty for no limit."), validators=[Optional(), *COUNT_RANGE]
    )


def price_field(label, message, **kwargs) -> EuroField:
    """A price in euros, 0 by default; left empty, it is refused with `message`."""
    return EuroField(label, default=0, validators=[AmountRequired(message)], **kwargs)


class MealForm(SubForm):
    """One meal: its name, price or pay-what-you-can range, capacity, deadline and diets."""

    id = HiddenField(filters=[strip], validators=[Length(max=20)])
    name = required_text(
        _l("Name of the meal"),
        _l("Please give the meal a name."),
        160,
        description=_l("For example: Dinner from 17:30."),
    )
    price = price_field(_l("Price per meal"), _l("Please fill in a price; 0 makes the meal free."))
    pay_what_you_can = BooleanField(_l("Pay what you can: people choose what they pay"))
    pwyc_min = EuroField(
        _l("Lowest amount"),
        description=_l("In euros, for example 2. Leave empty for no minimum."),
    )
    pwyc_suggested = EuroField(
        _l("Suggested amount"),
        description=_l("In euros, for example 6. Leave empty to suggest the price."),
    )
    capacity = count_field(_l("Number of meals"))
    signup_deadline = amsterdam_time(
        _l("Sign up for the meal before"),
        description=_l("Optional. Amsterdam time, for example 2030-06-12 12:00."),
    )
    diets = MultiCheckboxField(
        _l("Diets the kitchen cooks for"),
        choices=[SelectChoice(diet, DIET_LABELS[diet]) for diet in DIETS],
        validate_choice=False,
    )

    def validate_diets(self, field) -> None:
        if set(field.data or []) - set(DIETS):
            raise ValidationError(_l("Please choose from the diets in the list."))

    def validate_pwyc_min(self, field) -> None:
        if self.pay_what_you_can.data and (field.data or 0) > PWYC_MAX_CENTS:
            raise ValidationError(_l("The lowest amount is too high."))

    def validate_pwyc_suggested(self, field) -> None:
        if not self.pay_what_you_can.data or field.data is None:
            return
        if self.pwyc_min.data is not None and field.data < self.pwyc_min.data:
            raise ValidationError(_l("The suggested amount cannot be below the lowest amount."))
        if field.data > PWYC_MAX_CENTS:
            raise ValidationError(_l("The suggested amount is too high."))

    def plan(self) -> MealPlan:
        """The meal as the events service takes it."""
        existing_id = self.id.data or ""
        pwyc = bool(self.pay_what_you_can.data)
        minimum = (self.pwyc_min.data or 0) if pwyc else None
        price = self.price.data or 0
        return MealPlan(
            id=int(existing_id) if existing_id.isascii() and existing_id.isdigit() else None,
            name=self.name.data,
            price_cents=price,
            pwyc_min_cents=minimum,
            pwyc_suggested_cents=(
                (
                    self.pwyc_suggested.data
                    if self.pwyc_suggested.data is not None
                    else max(price, minimum or 0)
                )
                if pwyc
                else None
            ),
            capacity=self.capacity.data,
            signup_deadline=self.deadline(),
            diets=sorted(set(self.diets.data or [])),
        )

    def deadline(self):
        """The meal's sign-up deadline as typed (a series' meal has none of its own)."""
        return self.signup_deadline.data


class EventForm(FlaskForm):
    """An event with its meals. `collectives` are the (id, name) pairs the person may host
    under; `allow_no_host` adds "no host collective" (admins)."""

    title = required_text(_l("Title"), _l("Please give the event a title."), 200)
    slug = slug_field(
        SLUG_MAX_LENGTH,
        _l("Please use only lower-case letters a-z, digits and single hyphens."),
        label=_l("Web address"),
        description=_l(
            "The last part of the event’s link: lower-case letters, digits and hyphens. "
            "Leave empty to make it from the title."
        ),
    )
    summary = optional_text(
        _l("Summary"), 300, description=_l("One sentence for the list of events.")
    )
    description = TextAreaField(
        _l("Description"), filters=[strip], validators=[Optional(), Length(max=20_000)]
    )
    starts_at = amsterdam_time(_l("Starts"), required=True)
    ends_at = amsterdam_time(_l("Ends"), required=True)
    venue = optional_text(_l("Venue"), 160, description=_l("For example: Buurthuis De Meent."))
    address = optional_text(_l("Address"), 300)
    collective_id = SelectField(_l("Hosted by"), validate_choice=False)
    audience = optional_text(
        _l("For whom"), 200, description=_l("For example: everyone, of all ages.")
    )
    capacity = count_field(_l("Number of seats"))
    ticket_price = price_field(
        _l("Entry price per person"),
        _l("Please fill in a price; 0 means free entry."),
        description=_l("In euros, for example 2,50. 0 means free entry."),
    )
    payment_mode = RadioField(
        _l("How people pay"),
        choices=[
            SelectChoice(PaymentMode.DOOR.value, _l("At the door")),
            SelectChoice(PaymentMode.ONLINE.value, _l("Online, when they register")),
            SelectChoice(PaymentMode.BOTH.value, _l("They choose: online or at the door")),
        ],
        default=PaymentMode.DOOR.value,
        description=_l("Online payment (iDEAL, card) works when the site has Stripe set up."),
        invalid_choice_message=_l("Please choose how people pay."),
    )
    refund_until = amsterdam_time(
        _l("Refunds until"),
        description=_l(
            "Optional: until when a cancellation refunds an online payment. "
            "Leave empty for: until the event starts."
        ),
    )
    max_party_size = WholeNumberField(
        _l("Most people in one registration"),
        default=6,
        description=_l("From 1 to %(count)d.", count=MAX_PARTY_SIZE),
        validators=required_number(MAX_PARTY_SIZE),
    )
    registration_opens_at = amsterdam_time(
        _l("Registration opens"),
        description=_l("Optional: leave empty to open as soon as the event is published."),
    )
    registration_closes_at = amsterdam_time(
        _l("Registration closes"),
        description=_l("Optional: leave empty to close when the event starts."),
    )
    reminder_hours = WholeNumberField(
        _l("Reminder e-mail, hours before the start"),
        default=DEFAULT_REMINDER_HOURS,
        description=_l(
            "Registered people get an e-mail with their tickets and the address; people on "
            "the waiting list hear they are still waiting. 0: no reminder. Empty: %(hours)d.",
            hours=DEFAULT_REMINDER_HOURS,
        ),
        validators=[
            Optional(),
            NumberRange(
                min=0,
                max=MAX_REMINDER_HOURS,
                message=_l(
                    "Please write a number of hours from 0 to %(max)d.", max=MAX_REMINDER_HOURS
                ),
            ),
        ],
    )
    meals = FieldList(FormField(MealForm), min_entries=0, max_entries=MAX_MEALS)

    def __init__(
        self, *args, collectives: list[tuple[int, str]], allow_no_host: bool, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.allowed_collective_ids = {collective_id for collective_id, _name in collectives}
        self.allow_no_host = allow_no_host
        choices = [SelectChoice(str(collective_id), name) for collective_id, name in collectives]
        if allow_no_host:
            choices.insert(
                0, SelectChoice(NO_COLLECTIVE, _l("No collective: the cooperative itself"))
            )
        self.collective_id.choices = choices

    @classmethod
    def for_event(cls, event: Event, **kwargs) -> "EventForm":
        """The form filled in with an event as it is saved now."""
        data = {
            "title": event.title,
            "slug": event.slug,
            "summary": event.summary,
            "description": event.description,
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
            "venue": event.venue,
            "address": event.address,
            "collective_id": str(event.collective_id or NO_COLLECTIVE),
            "audience": event.audience,
            "capacity": event.capacity,
            "ticket_price": event.ticket_price_cents,
            "max_party_size": event.max_party_size,
            "payment_mode": event.payment_mode.value,
            "refund_until": event.refund_until,
            "registration_opens_at": event.registration_opens_at,
            "registration_closes_at": event.registration_closes_at,
            "reminder_hours": event.reminder_hours,
            "meals": [
                {
                    "id": str(option.id),
                    "name": option.name,
                    "price": option.price_cents,
                    "pay_what_you_can": option.pay_what_you_can,
                    "pwyc_min": option.pwyc_min_cents,
                    "pwyc_suggested": option.pwyc_suggested_cents,
                    "capacity": option.capacity,
                    "signup_deadline": option.signup_deadline,
                    "diets": list(option.diets),
                }
                for option in event.meal_options
            ],
        }
        return cls(formdata=None, data=data, **kwargs)

    @staticmethod
    def without_meal(formdata: MultiDict, index: int) -> MultiDict:
        """The posted form with meal `index` taken out and the meals after it renumbered,
        so everything else stays exactly as typed."""
        kept = MultiDict()
        for key, value in formdata.items(multi=True):
            match = _MEAL_KEY_RE.fullmatch(key)
            if match is None:
                kept.add(key, value)
                continue
            number = int(match.group(1))
            if number == index:
                continue
            if number > index:
                key = f"meals-{number - 1}-{match.group(2)}"
            kept.add(key, value)
        return kept

    def add_meal(self) -> bool:
        """Add an empty meal at the end; False when there are as many as allowed."""
        if len(self.meals) >= MAX_MEALS:
            return False
        self.meals.append_entry()
        return True

    def validate_collective_id(self, field) -> None:
        value = field.data or NO_COLLECTIVE
        if value == NO_COLLECTIVE:
            if not self.allow_no_host:
                raise ValidationError(_l("Please choose the collective that hosts the event."))
            return
        if not (value.isascii() and value.isdigit() and int(value) in self.allowed_collective_ids):
            raise ValidationError(_l("You can only choose a collective you organise for."))

    validate_ends_at = ends_after("starts_at", _l("The end must be after the start."))

    def validate_registration_opens_at(self, field) -> None:
        if field.data and self.starts_at.data and field.data >= self.starts_at.data:
            raise ValidationError(_l("Registration must open before the event starts."))

    def validate_registration_closes_at(self, field) -> None:
        opens = self.registration_opens_at.data
        if field.data and opens and field.data <= opens:
            raise ValidationError(_l("Registration must close after it opens."))
        if field.data and self.ends_at.data and field.data > self.ends_at.data:
            raise ValidationError(_l("Registration must close before the event ends."))

    def plan(self) -> EventPlan:
        """The event as the events service takes it (after `validate()`)."""
        host = self.collective_id.data or NO_COLLECTIVE
        return EventPlan(
            title=self.title.data,
            slug=self.slug.data or "",
            summary=self.summary.data or "",
            description=self.description.data or "",
            starts_at=self.starts_at.data,
            ends_at=self.ends_at.data,
            venue=self.venue.data or "",
            address=self.address.data or "",
            collective_id=None if host == NO_COLLECTIVE else int(host),
            audience=self.audience.data or "",
            capacity=self.capacity.data,
            ticket_price_cents=self.ticket_price.data or 0,
            max_party_size=self.max_party_size.data,
            payment_mode=PaymentMode(self.payment_mode.data),
            refund_until=self.refund_until.data,
            registration_opens_at=self.registration_opens_at.data,
            registration_closes_at=self.registration_closes_at.data,
            reminder_hours=(
                DEFAULT_REMINDER_HOURS
                if self.reminder_hours.data is None
                else self.reminder_hours.data
            ),
            meals=[entry.form.plan() for entry in self.meals],
        )

    def first_error_id(self) -> str | None:
        """The id of the first field with a message, to put the focus there."""
        for field in self:
            if isinstance(field, FieldList):
                for entry in field:
                    for subfield in entry.form:
                        if subfield.errors:
                            return subfield.id
            elif field.errors:
                return field.id
        return None

    @property
    def meal_list_errors(self) -> list:
        """Errors about the meals as a whole, apart from each meal's own field errors."""
        return [error for error in self.meals.errors if not isinstance(error, dict)]
