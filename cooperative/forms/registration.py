"""The registration form: the contact, then each person of the party with meal and diets.

The party grows and shrinks with "add a person" and "remove" buttons, which post the form
back to be drawn again (htmx swaps it in place; without JavaScript the page reloads). The
form offers only what the event offers; the registration service checks it all again.
"""

from dataclasses import replace

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    FormField,
    RadioField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..i18n import DIET_LABELS, in_diet_order
from ..models import Event, utcnow
from ..money import format_euros
from ..refusals import Refused
from ..services.registration import (
    PersonChoice,
    must_pay_online,
    price_cents,
    takes_online_payment,
)
from .fields import EuroField, SubForm, email_field, show_refusal, strip

# However many rows a request posts, no more are read: a guard, not the party limit.
MAX_ROWS = 20
NO_MEAL = ""


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PersonForm(SubForm):
    """One person of a party (`people-0-name`, ...)."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[DataRequired(_l("Please fill in this person’s name.")), Length(max=120)],
    )
    meal = RadioField(_l("Meal"), default=NO_MEAL, validate_choice=False)
    diets = MultiCheckboxField(_l("Diet"), validate_choice=False)
    diet_note = StringField(
        _l("Note for the kitchen"),
        filters=[strip],
        description=_l("Allergies or anything else the cooks should know."),
        validators=[Optional(), Length(max=300)],
    )


class RegistrationForm(FlaskForm):
    contact_name = StringField(
        _l("Your name"),
        filters=[strip],
        validators=[DataRequired(_l("Please fill in your name.")), Length(max=120)],
    )
    contact_email = email_field(_l("Your e-mail address"))
    people = FieldList(FormField(PersonForm), min_entries=1, max_entries=MAX_ROWS)
    meal_amount = EuroField(_l("What you pay per meal"))
    pay_method = RadioField(
        _l("How do you pay?"),
        choices=[
            SelectChoice("online", _l("Now, online (iDEAL or card)")),
            SelectChoice("door", _l("At the door")),
        ],
        default="online",
    )

    def __init__(self, event: Event, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.event = event
        self.now = utcnow()
        self.focus_id: str | None = None  # the field to put the cursor in when drawn again
        # "online", "door" or "choice": how this event's registrations pay what they owe.
        if must_pay_online(event):
            self.payment = "online"
        elif takes_online_payment(event):
            self.payment = "choice"
        else:
            self.payment = "door"
        self.offer_choices()

    def offer_choices(self) -> None:
        """Give every person the meals and diets this event offers, and say which meals
        cannot be chosen now (sign-up closed, or full) and what each costs."""
        meals = [SelectChoice(NO_MEAL, _l("No meal"))] + [
            SelectChoice(str(option.id), option.name) for option in self.event.meal_options
        ]
        diets = in_diet_order(diet for option in self.event.meal_options for diet in option.diets)
        for entry in self.people:
            entry.meal.choices = meals
            entry.diets.choices = [
                SelectChoice(diet, DIET_LABELS.get(diet, diet)) for diet in diets
            ]
        self.closed_meals: set[str] = set()
        self.meal_notes: dict[str, str] = {}
        for option in self.event.meal_options:
            key = str(option.id)
            if not option.signup_open(self.now):
                self.closed_meals.add(key)
                self.meal_notes[key] = _l("sign-up closed")
            elif option.meals_left == 0:
                self.closed_meals.add(key)
                self.meal_notes[key] = _l("full")
            elif option.pay_what_you_can:
                self.meal_notes[key] = _l("pay what you can")
            else:
                self.meal_notes[key] = format_euros(option.price_cents)
        pwyc = next((o for o in self.event.meal_options if o.pay_what_you_can), None)
        if pwyc is not None:
            self.meal_amount.description = _l(
                "From %(min)s; we suggest %(suggested)s. Leave empty for the suggested amount.",
                min=format_euros(pwyc.pwyc_min_cents),
                suggested=format_euros(pwyc.suggested_cents),
            )

    @property
    def offers_waitlist(self) -> bool:
        """Whether the party no longer fits the seats left, so the waiting list is the way."""
        seats_left = self.event.seats_left
        return seats_left is not None and seats_left < len(self.people)

    def add_person(self) -> None:
        if len(self.people) < self.event.max_party_size:
            self.people.append_entry()
            self.offer_choices()
            self.focus_id = self.people[-1].form.name.id

    def remove_person(self, index: int) -> None:
        """Take one person out, keeping what was typed for the others."""
        if len(self.people) > 1 and 0 <= index < len(self.people):
            kept = [entry.data for i, entry in enumerate(self.people) if i != index]
            while len(self.people):
                self.people.pop_entry()
            for data in kept:
                self.people.append_entry(data)
            self.offer_choices()

    def validate_people(self, field) -> None:
        if not 1 <= len(field.entries) <= self.event.max_party_size:
            raise ValidationError(
                _l(
                    "You can register 1 to %(count)d people at once.",
                    count=self.event.max_party_size,
                )
            )

    def validate_meal_amount(self, field) -> None:
        problem = None if field.process_errors else self.meal_amount_problem()
        if problem is not None:
            raise ValidationError(problem)

    def meal_amount_problem(self):
        """What is wrong with the pay-what-you-can amount typed, in the words submitting
        would use; None when it is fine (or empty: the suggested amount).

        Refuses an amount that is not one in euros, and (by the registration service's
        own price rule) one outside the meal's range when someone chose that meal.
        """
        if self.meal_amount.process_errors:
            return self.meal_amount.process_errors[0]
        if self.meal_amount_cents is None:
            return None
        try:
            price_cents(self.event, self._offered_choices(), self.meal_amount_cents)
        except Refused as refusal:
            if refusal.field == "meal_amount":
                return refusal.message
        return None

    def check_meal_amount(self) -> None:
        """Put what is wrong with the amount next to its field, as submitting would:
        a redraw of the running total says it too, instead of a bare "Total: –"."""
        problem = self.meal_amount_problem()
        if problem is not None:
            self.meal_amount.errors = [problem]

    @property
    def meal_amount_cents(self) -> int | None:
        """The pay-what-you-can amount typed, in cents; None when left empty or unreadable."""
        return None if self.meal_amount.process_errors else self.meal_amount.data

    @property
    def pays_online(self) -> bool:
        return self.payment == "online" or (
            self.payment == "choice" and self.pay_method.data == "online"
        )

    @staticmethod
    def meal_id(entry) -> int | None:
        value = entry.meal.data or ""
        return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None

    def choices(self) -> list[PersonChoice]:
        """The party as the registration service takes it."""
        return [
            PersonChoice(
                name=entry.form.name.data or "",
                meal_option_id=self.meal_id(entry.form),
                diets=list(entry.form.diets.data or []),
                diet_note=entry.form.diet_note.data or "",
            )
            for entry in self.people
        ]

    def _offered_choices(self) -> list[PersonChoice]:
        """The party, with a meal the event does not offer read as no meal."""
        offered = {option.id for option in self.event.meal_options}
        return [
            replace(p, meal_option_id=p.meal_option_id if p.meal_option_id in offered else None)
            for p in self.choices()
        ]

    def total_cents(self) -> int | None:
        """The running total, computed by the server's own price rules; None if unknown
        (an amount per meal that is unreadable or out of range: its field says why)."""
        if self.meal_amount.process_errors:
            return None
        try:
            return price_cents(self.event, self._offered_choices(), self.meal_amount_cents)
        except Refused:
            return None

    @property
    def party_errors(self) -> list:
        """Errors about the party as a whole, apart from each person's own field errors."""
        return [error for error in self.people.errors if not isinstance(error, dict)]


class PersonChangeForm(PersonForm):
    """One person on the private page's edit form: the register form's person, less the
    meal, which is chosen when registering and not changed here."""

    meal = None


class PartyChangeForm(FlaskForm):
    """The private page's edit form: each person's name, and their diets and note for the
    kitchen while their meal's sign-up is open (`people-0-name`, ... as when registering).

    The people are the registration's active attendees, in order. A person's diets are
    those their meal offers; the registration service checks them again. What can no
    longer be changed (diets and note after the meal's deadline) is not read from the
    request: it stays as stored. A form posted for another party than the one now
    registered (someone cancelled meanwhile) is drawn again from the database and refused.
    """

    people = FieldList(FormField(PersonChangeForm), max_entries=MAX_ROWS)

    def __init__(self, registration, *args, **kwargs) -> None:
        self.attendees = registration.active_attendees
        self.now = utcnow()
        stored = [
            {"name": a.name, "diets": list(a.diets), "diet_note": a.diet_note}
            for a in self.attendees
        ]
        super().__init__(*args, data={"people": stored}, **kwargs)
        self.party_changed = len(self.people) != len(self.attendees)
        if self.party_changed:
            self.people.process(None, stored)
        for entry, attendee in self.party:
            self._offer_diets(entry.form, attendee)

    def _offer_diets(self, person: PersonChangeForm, attendee) -> None:
        option = attendee.meal_option
        if option is None:
            return
        person.diets.label.text = f"{person.diets.label.text} ({option.name})"
        person.diets.choices = [
            SelectChoice(diet, DIET_LABELS.get(diet, diet)) for diet in in_diet_order(option.diets)
        ]
        if not self.diets_open(attendee):
            person.diets.description = _l(
                "The meal’s sign-up has closed: diets can no longer be changed."
            )
            person.diets.data = list(attendee.diets)
            person.diet_note.data = attendee.diet_note

    def diets_open(self, attendee) -> bool:
        """Whether this person's diets and note can still be changed (their meal's sign-up
        is open); False for a person without a meal."""
        option = attendee.meal_option
        return option is not None and option.signup_open(self.now)

    def locked_diets(self, attendee) -> set[str]:
        """The diets that cannot be ticked or unticked now: all, after the meal's deadline."""
        option = attendee.meal_option
        return set() if option is None or self.diets_open(attendee) else set(option.diets)

    @property
    def party(self) -> list:
        """Each person's subform with the attendee it changes."""
        return list(zip(self.people, self.attendees, strict=True))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.party_changed:
            self.form_errors.append(
                _l("Your party has changed since you opened this page. Please check it again.")
            )
        return valid and not self.party_changed

    def show_refusal(self, entry, refusal: Refused) -> None:
        """Put the service's refusal about one person next to that person's field, or above
        the form when it names none of them."""
        if refusal.field in ("name", "diets", "diet_note"):
            show_refusal(entry.form, refusal)
        elif refusal.message not in self.form_errors:  # said once, not once per person
            self.form_errors.append(refusal.message)
