"""Forms for dues by direct debit: a member's mandate, the admin's dues run and results."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from ..sepa_ids import InvalidIdentifier, checked_iban
from .fields import keep_under, required_text, strip

IBAN_WRONG = _l("This IBAN is not right: please check the country, length and digits.")


class MandateFields:
    """The cooperative's own mandate: IBAN (checked with schwifty), holder, and the
    member's explicit consent; on the mandate page and, for direct debit, when joining."""

    account_holder = required_text(
        _l("Name of the account holder"),
        _l("Please give the name of the account holder."),
        70,
        _l("The name can be at most 70 characters."),
    )
    iban = required_text(
        _l("IBAN"),
        _l("Please give your IBAN."),
        42,
        _l("An IBAN has at most 34 letters and digits."),
        description=_l("For example NL91 ABNA 0417 1643 00."),
    )
    consent = BooleanField(
        _l("I give this mandate and agree to the text above."),
        validators=[InputRequired(_l("Please tick the box to give the mandate."))],
    )

    def validate_iban(self, field) -> None:
        """Said at once beside the other mistakes; the service checks it again."""
        try:
            checked_iban(field.data)
        except InvalidIdentifier:
            raise ValidationError(IBAN_WRONG) from None


class MandateForm(MandateFields, FlaskForm):
    """The cooperative's own mandate on the mandate page."""


class ConfirmForm(FlaskForm):
    """A button that needs only the CSRF token (start at Stripe, end a mandate, make a
    file, send due debits, mark all paid)."""


class DuesRunForm(FlaskForm):
    """When the dues of a run are debited."""

    debit_date = DateField(
        _l("Debit date"),
        validators=[InputRequired(_l("Please give a date, e.g. 2027-03-01."))],
    )


RESULTS = [
    SelectChoice("paid", _l("Paid")),
    SelectChoice("failed", _l("Failed")),
    SelectChoice("reversed", _l("Reversed by the member's bank")),
]


class CollectionResultForm(FlaskForm):
    """What the bank reported for one collection."""

    result = SelectField(
        _l("Result"),
        choices=RESULTS,
        validators=[InputRequired(_l("Choose what the bank reported."))],
    )
    reason = TextAreaField(
        _l("Reason (from the bank)"),
        filters=[strip],
        validators=[keep_under(500)],
    )
