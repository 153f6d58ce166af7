"""Fields and filters shared by the forms."""

import re
from abc import ABC, abstractmethod

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    FieldList,
    FormField,
    IntegerField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from ..ids import INTEGER_MAX, row_id
from ..money import format_amount, parse_euros
from ..refusals import Refused
from ..slugs import slug_is_valid


class SubForm(FlaskForm):
    """One entry of a list of subforms (a person of a party, a meal of an event): it speaks
    the page's language as its form does (a plain WTForms `Form` says WTForms' own messages,
    such as "Field cannot be longer than 120 characters.", in English)."""

    class Meta:
        csrf = False  # the page's one CSRF token is checked by the form around it


def whole_number_range(low: int = 0, high: int = INTEGER_MAX) -> NumberRange:
    """Refuses a whole number below `low` or above `high` (the database's limit by default),
    with a message that says both."""
    return NumberRange(low, high, _l("Please write a whole number from %(min)s to %(max)s."))


class WholeNumberField(IntegerField):
    """A whole number, with our own message when what is typed is not one."""

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "numeric"})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Please write a whole number, like 40.")) from error


def position_field() -> WholeNumberField:
    """Where a row stands among its kind on the page (`position`), 0 by default."""
    return WholeNumberField(
        _l("Order on the page"), default=0, validators=[Optional(), whole_number_range()]
    )


def required_number(maximum: int) -> list:
    """The validators of a whole number that must be filled in, from 1 to `maximum`: one
    message ("Please write a number from 1 to 8.") whether it is missing or out of range."""
    message = _l("Please write a number from 1 to %(max)d.", max=maximum)
    return [InputRequired(message), NumberRange(1, maximum, message)]


# Characters nobody types in a one-line value (NUL, tab, newline, DEL...): PostgreSQL cannot
# compare text with a NUL in it, and no filter, search or path needs any of them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def strip(value):
    """Drop the spaces people type around a value, and any NUL character: nobody types
    one, and PostgreSQL cannot store it (a 500 there, a stray byte on SQLite)."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


def lower_case(value):
    """Lower-case what is typed, for the web-address part of a page (`slug`)."""
    return value.lower() if isinstance(value, str) else value


# What Stripe names a Checkout Session (`cs_test_a1B2...`, `cs_live_...`).
_CHECKOUT_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")


def checkout_session_id(value: str) -> str:
    """The `session_id` Stripe sends people back with, or "" for anything not shaped like
    one (a NUL character, a space, a 10 MB string): that is never looked up."""
    return value if _CHECKOUT_SESSION_ID.fullmatch(value or "") else ""


# What a text that is too long is told, with its limit (`Length` fills in `max`).
KEEP_UNDER = _l("Please keep it under %(max)d characters.")


def keep_under(max_length: int) -> Length:
    """At most `max_length` characters, or "Please keep it under 80 characters."."""
    return Length(max=max_length, message=KEEP_UNDER)


# What an address that is not shaped like one is told.
NOT_AN_EMAIL = _l("This does not look like an e-mail address, e.g. name@example.nl.")


def email_field(label=None) -> EmailField:
    """An e-mail address, required and checked for its shape."""
    return EmailField(
        label or _l("E-mail address"),
        filters=[strip],
        validators=[
            DataRequired(_l("Please fill in your e-mail address.")),
            Email(NOT_AN_EMAIL),
            Length(max=254),
        ],
    )


def optional_email(label, **kwargs) -> StringField:
    """An e-mail address that may be left empty (a contact's), in a text input, checked
    for its shape when one is given."""
    return StringField(
        label,
        filters=[strip],
        validators=[Optional(), Email(NOT_AN_EMAIL), Length(max=254)],
        **kwargs,
    )


def required_text(label, message, max_length: int, too_long=None, **kwargs) -> StringField:
    """A line of text that must be filled in (`message` when it is not), spaces around it
    dropped, at most `max_length` characters (`too_long` when it is longer, WTForms' own
    message when not given)."""
    return StringField(
        label,
        filters=[strip],
        validators=[DataRequired(message), Length(max=max_length, message=too_long)],
        **kwargs,
    )


def optional_text(label, max_length: int, **kwargs) -> StringField:
    """A line of text that may be left empty, spaces around it dropped, at most
    `max_length` characters."""
    return StringField(
        label, filters=[strip], validators=[Optional(), Length(max=max_length)], **kwargs
    )


def slug_field(
    max_length: int,
    invalid=None,
    label=None,
    description=None,
) -> StringField:
    """The end of a page's web address (`slug`), lower-cased and spaces dropped, at most
    `max_length` characters. It may be left empty: the service makes one. With `invalid`,
    one that is no slug (`slugs.slug_is_valid`) is refused with that message here; else
    only the service checks it."""
    validators = [Optional(), Length(max=max_length)]
    if invalid is not None:

        def valid_slug(form, field) -> None:
            if field.data and not slug_is_valid(field.data, max_length):
                raise ValidationError(invalid)

        validators.append(valid_slug)
    return StringField(
        label or _l("Web address (optional)"),
        filters=[strip, lower_case],
        description=description
        or _l("Lower-case letters, digits and hyphens; made from the title if empty."),
        validators=validators,
    )


def names_in_both_languages(max_length: int) -> tuple[StringField, StringField]:
    """The Dutch and the English name of a thing the site shows in both languages
    (`name_nl`, `name_en`), both required, at most `max_length` characters."""
    return (
        required_text(_l("Name in Dutch"), _l("Please fill in the Dutch name."), max_length),
        required_text(_l("Name in English"), _l("Please fill in the English name."), max_length),
    )


def ends_after(start: str, message, or_same: bool = False):
    """An inline validator for the end of a span (`validate_ends_at = ends_after(...)`):
    refuses with `message` an end before the form's field `start`, or the same as it
    unless `or_same`. Either one left empty passes (a required one says so itself)."""

    def validate(form, field) -> None:
        begin = form[start].data
        if field.data and begin and (field.data < begin or (field.data == begin and not or_same)):
            raise ValidationError(message)

    return validate


def domain_choices(domains, locale: str) -> list[SelectChoice]:
    """The `domains` as choices by id, named in `locale`, in the order given."""
    return [SelectChoice(domain.id, domain.name(locale)) for domain in domains]


def only_offered(field, message) -> None:
    """Refuses with `message` a value of `field` that is not one of the choices the view
    offered it (a row of someone else's, an id typed by hand, the empty "Choose ..."
    choice): its one value, or each value of a list. An empty list passes: whether one
    must be chosen is the form's own rule."""
    offered = {choice.value for choice in field.choices or ()}
    values = (field.data or []) if isinstance(field, SelectMultipleField) else [field.data]
    if any(value not in offered for value in values):
        raise ValidationError(message)


class TypedNumberField(StringField, ABC):
    """A number typed as text, on a keyboard for decimals: `data` is what `read` makes of
    the text, or None when it is left empty. What was typed is shown back as typed (a
    mistake stays in view); a value from the server as `write` writes it. Each kind of
    number (`EuroField`, `MeasureField`) says how it reads and writes."""

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(label, validators, **kwargs)

    @abstractmethod
    def read(self, text: str):
        """The number `text` (not empty) says; a ValueError with the message to show when
        it says none."""

    @abstractmethod
    def write(self, number) -> str:
        """`number` as it is shown in the field."""

    def process_formdata(self, valuelist) -> None:
        if not valuelist:
            return
        text = strip(valuelist[0] or "")
        self.data = None
        if text:
            self.data = self.read(text)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else self.write(self.data)


class EuroField(TypedNumberField):
    """An amount in euros as typed (`4,50`, `4.50`, `4`, `€ 1.250`; see
    `money.parse_euros`); `data` is integer cents, or None when left empty. Shows an
    amount the language's way with its cents: `7,00` in Dutch, `7.00` in English."""

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        kwargs.setdefault("description", _l("In euros, for example 4,50."))
        super().__init__(label, validators, **kwargs)

    def read(self, text: str) -> int:
        cents = parse_euros(text)
        if cents is None:
            raise ValueError(_l("Please write an amount in euros, like 4,50."))
        return cents

    def write(self, number: int) -> str:
        return format_amount(number)


class AmountRequired:
    """Stops a EuroField left empty with `message` (data None after a readable value)."""

    def __init__(self, message) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if field.data is None and not field.process_errors:
            field.errors[:] = []
            raise StopValidation(self.message)


def _fields_in(fields):
    """Every field, and every field inside a FieldList or FormField, in the page's order."""
    for field in fields:
        yield field
        if isinstance(field, (FieldList, FormField)):
            yield from _fields_in(field)


def first_error(form) -> str | None:
    """After validating (and `show_refusal`): the message of the first refused field, or
    None."""
    for messages in form.errors.values():
        return messages[0]
    return None


def show_refusal(form, refusal: Refused, default: str | None = None) -> None:
    """Put a service's refusal next to the field it names (`slug`, or `people-0-meal`
    inside a list of subforms), else next to the field `default`, else above the form.

    The message is added to what validating found; nothing is taken away."""
    for name in (refusal.field, default):
        if not name:
            continue
        field = next((f for f in _fields_in(form) if f.name == name), None)
        if field is None:  # a form with a prefix: `name` is `attendee-5-name`
            field = next((f for f in form if f.short_name == name), None)
        if field is not None:
            field.errors = [*field.errors, refusal.message]
            return
    form.form_errors.append(refusal.message)


# More digits than any list has pages; int() of a longer string is never tried.
_PAGE_DIGITS_MAX = 9


def page_number(raw: str | None, maximum: int | None = None) -> int:
    """`?page=N` as a page number, for every paged list: a whole number of at least 1
    (ASCII digits, spaces around them allowed). Never refuses: anything else counts as 1,
    and a number above `maximum` counts as `maximum`."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()):
        return 1
    page = max(int(raw), 1) if len(raw) <= _PAGE_DIGITS_MAX else 10**_PAGE_DIGITS_MAX
    return page if maximum is None else min(page, maximum)


def choice_id(value) -> int | None:
    """`coerce` of a field whose choices are rows: the id chosen (`ids.row_id`), or None
    for the empty choice and anything that names no row."""
    return value if isinstance(value, int) else row_id(value)
