"""Forms for the member register: the address (at joining and on the account page), the
consent to official notices by e-mail, cancelling, and the admins' forms (a letter
received, an end recorded, the search, the import)."""

from babel import Locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from ..i18n import current_locale
from ..models import LeavingWay
from ..services.register import Address
from .fields import KEEP_UNDER, keep_under, required_text, strip

# Regions Babel names with two letters that are no country to live in.
NOT_COUNTRIES = {"EU", "EZ", "UN", "ZZ", "QO"}


def country_choices() -> list[SelectChoice]:
    """Every country by its two-letter code, named in the reader's language; the
    Netherlands first."""
    territories = Locale.parse(current_locale()).territories
    countries = sorted(
        (code, name)
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    )
    countries.sort(key=lambda pair: pair[1])
    countries.sort(key=lambda pair: pair[0] != "NL")  # stable: the rest stays by name
    return [SelectChoice(code, name) for code, name in countries]


class AddressFields:
    """The name and address for the member register, shared by the join form and the
    address form. The postcode's pattern is checked by `services.register`."""

    registered_name = required_text(
        _l("Full name"),
        _l("Please fill in your full name."),
        200,
        KEEP_UNDER,
        description=_l("Your first name(s) and surname, as the member register holds them."),
    )
    street = required_text(
        _l("Street"),
        _l("Please fill in your street."),
        120,
        KEEP_UNDER,
    )
    house_number = required_text(
        _l("House number"),
        _l("Please fill in your house number."),
        20,
        KEEP_UNDER,
        description=_l("With any letter or addition, e.g. 12-2 or 7A."),
    )
    postcode = required_text(
        _l("Postcode"),
        _l("Please fill in your postcode."),
        16,
        KEEP_UNDER,
        description=_l("In the Netherlands four digits and two letters, e.g. 1011 AB."),
    )
    city = required_text(
        _l("Town or city"),
        _l("Please fill in your town or city."),
        80,
        KEEP_UNDER,
    )
    country = SelectField(
        _l("Country"),
        default="NL",
        validators=[InputRequired(_l("Please choose a country."))],
    )

    def set_countries(self) -> None:
        self.country.choices = country_choices()

    def address(self) -> Address:
        """The name and address as typed, for `services.register`."""
        return Address(
            self.registered_name.data,
            self.street.data,
            self.house_number.data,
            self.postcode.data,
            self.city.data,
            self.country.data,
        )


class EmailNoticesFields:
    """The consent to official notices by e-mail (art. 2:41 lid 5 BW)."""

    email_notices = BooleanField(
        _l(
            "Send me official notices, such as the invitation to the general meeting, "
            "by e-mail instead of by post"
        ),
        description=_l("You can withdraw this at any time on your account page."),
    )


class AddressForm(AddressFields, FlaskForm):
    """The member's name and address in the register (account page)."""


class EmailNoticesForm(EmailNoticesFields, FlaskForm):
    """Give or withdraw the consent to official notices by e-mail."""


class CancelForm(FlaskForm):
    """A member cancels their membership: the confirmation is the signature."""

    confirm = BooleanField(
        _l("Yes, I cancel my membership"),
        validators=[DataRequired(_l("Please tick the box to confirm that you cancel."))],
    )


class CancellationLetterForm(FlaskForm):
    """An admin records a cancellation letter that arrived by post."""

    received_on = DateField(
        _l("Letter received on"),
        validators=[InputRequired(_l("Please fill in the day the letter arrived."))],
    )


class EndMembershipForm(FlaskForm):
    """An admin records an end that needs no notice."""

    way = SelectField(
        _l("How did the membership end?"),
        choices=[
            SelectChoice(LeavingWay.ENDED_BY_COOPERATIVE.value, _l("ended by the cooperative")),
            SelectChoice(LeavingWay.DECEASED.value, _l("deceased")),
        ],
        validators=[InputRequired(_l("Please choose how the membership ended."))],
    )
    on = DateField(
        _l("Ended on"), validators=[InputRequired(_l("Please fill in the day it ended."))]
    )


class LegalPersonForm(FlaskForm):
    """An admin marks a register entry as a legal person's membership (or a person's
    again, with the name left empty). The KvK number's form is checked by
    `services.register`."""

    organisation_name = StringField(
        _l("Name of the organisation"),
        description=_l(
            "For a collective or a business that is the member; leave empty for a person."
        ),
        filters=[strip],
        validators=[keep_under(200)],
    )
    kvk_number = StringField(
        _l("KvK number (Chamber of Commerce)"),
        description=_l("8 digits; empty for an organisation registered abroad."),
        filters=[strip],
        validators=[Length(max=20, message=_l("A KvK number has 8 digits."))],
    )


class RegisterSearchForm(FlaskForm):
    """The search above the register (a GET form, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Search number, name or address"), filters=[strip], validators=[Length(max=200)]
    )


class ImportForm(FlaskForm):
    """An admin uploads a CSV file of members; a dry run first."""

    file = FileField(
        _l("CSV file with the members"),
        validators=[FileRequired(_l("Please choose a CSV file."))],
    )
    dry_run = BooleanField(_l("Only check the file (dry run): import nothing"), default=True)
