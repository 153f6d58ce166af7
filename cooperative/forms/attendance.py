"""Forms at the door: money paid at the door, a walk-in, and the organisers' message to
the parties."""

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, StopValidation

from ..i18n import DIET_LABELS, in_diet_order
from ..models import Event
from ..services.attendance import WalkIn
from .fields import EuroField, optional_text, required_text, strip
from .registration import MultiCheckboxField

# WTForms' own message for `Length`, translated by WTForms (so not extracted here): a
# plural, looked up with ngettext as `Length` does.
_TOO_LONG = (
    "Field cannot be longer than %(max)d character.",
    "Field cannot be longer than %(max)d characters.",
)


class TypedLength:
    """Refuses text typed longer than `max` characters (as `Length` does, with its
    message), also in a field whose data is not the text, such as a EuroField's cents."""

    def __init__(self, max: int) -> None:
        self.max = max

    def __call__(self, form, field) -> None:
        typed = (field.raw_data or [""])[0] or ""
        if len(typed) > self.max:
            field.errors[:] = []
            raise StopValidation(field.ngettext(*_TOO_LONG, self.max) % {"max": self.max})


class ShownAmount(IntegerField):
    """Cents that the page wrote in a hidden field, as it showed them: nobody types it, so
    anything but a whole number is None, as when it is not sent."""

    def process_formdata(self, valuelist) -> None:
        text = valuelist[0] if valuelist else ""
        self.data = int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


class DoorPaymentForm(FlaskForm):
    """Money a party paid at the door: what the list's one-tap button sends (the amount
    still open, and that amount in cents as the list showed it, so a second tap records
    nothing), or another amount typed on the party's own page."""

    amount = EuroField(_l("Amount paid, in euros"), validators=[TypedLength(20)])
    expected_open_cents = ShownAmount()


class WalkInForm(FlaskForm):
    """A person who comes in without registering: the meals and diets of `event`."""

    name = required_text(_l("Name"), _l("Please fill in their name."), 120)
    meal = RadioField(_l("Meal"), default="", validate_choice=False)
    diets = MultiCheckboxField(_l("Diet"), validate_choice=False)
    diet_note = optional_text(_l("Note for the kitchen"), 300)
    paid = EuroField(
        _l("Paid at the door"),
        validators=[TypedLength(20)],
        description=_l("The amount they paid just now, like 5,00. Leave empty if they pay later."),
    )

    def __init__(self, event: Event, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.meal.choices = [SelectChoice("", _l("No meal"))] + [
            SelectChoice(str(option.id), option.name) for option in event.meal_options
        ]
        diets = in_diet_order(diet for option in event.meal_options for diet in option.diets)
        self.diets.choices = [SelectChoice(diet, DIET_LABELS.get(diet, diet)) for diet in diets]

    def walk_in(self) -> WalkIn:
        """The walk-in as typed, for `add_walk_in`."""
        value = self.meal.data or ""
        return WalkIn(
            name=self.name.data or "",
            meal_option_id=int(value)
            if value.isascii() and value.isdigit() and len(value) < 10
            else None,
            diets=list(self.diets.data or []),
            diet_note=self.diet_note.data or "",
            paid_cents=self.paid.data,
        )


class MessageForm(FlaskForm):
    """The organisers' message to the parties of an event."""

    audience = RadioField(_l("Send to"), default="confirmed", validate_choice=False)
    subject = required_text(_l("Subject"), _l("Please write a subject."), 150)
    body = TextAreaField(
        _l("Message"),
        filters=[strip],
        validators=[DataRequired(_l("Please write your message.")), Length(max=5000)],
        description=_l("We add a greeting, the event’s details and each party’s own link."),
    )

    def __init__(self, counts: dict[str, int], *args, **kwargs) -> None:
        """`counts`: how many parties each audience has, for the choices' labels."""
        super().__init__(*args, **kwargs)
        self.audience.choices = [
            SelectChoice(
                "confirmed",
                ngettext(
                    "Everyone with a place (%(num)d party)",
                    "Everyone with a place (%(num)d parties)",
                    counts["confirmed"],
                ),
            ),
            SelectChoice(
                "waiting",
                ngettext(
                    "The waiting list (%(num)d party)",
                    "The waiting list (%(num)d parties)",
                    counts["waiting"],
                ),
            ),
        ]
