"""Forms for membership: joining, the profile, e-mail and password, deleting the account,
and the admins' forms for members, plans and domains."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..models import PlanPeriod, Visibility
from ..slugs import SLUG_RE
from .accounts import _new_password_fields, password_field
from .fields import (
    KEEP_UNDER,
    AmountRequired,
    EuroField,
    domain_choices,
    email_field,
    keep_under,
    names_in_both_languages,
    position_field,
    required_text,
    strip,
)
from .register import AddressFields, EmailNoticesFields
from .registration import MultiCheckboxField
from .sepa import MandateFields

VISIBILITY_CHOICES = [
    SelectChoice(Visibility.PUBLIC.value, _l("Everyone: my profile has its own page")),
    SelectChoice(Visibility.MEMBERS.value, _l("Members only: in the members' directory")),
    SelectChoice(Visibility.HIDDEN.value, _l("Nobody: my profile stays hidden")),
]
PAY_ONLINE = "online"
PAY_BANK = "bank_transfer"
PAY_DEBIT = "direct_debit"  # under a SEPA mandate

# The profile's fields, in the order the account page shows them.
PROFILE_FIELDS = (
    "display_name",
    "neighbourhood",
    "bio",
    "interests",
    "collectives",
    "offer",
    "visibility",
    "newsletter",
)


def _display_name() -> StringField:
    return required_text(
        _l("Name on your profile"),
        _l("Please fill in a name for your profile."),
        120,
        KEEP_UNDER,
        description=_l("How other members see you, e.g. your first name."),
    )


def _neighbourhood() -> StringField:
    return StringField(
        _l("Neighbourhood"),
        description=_l("For example Oost or De Pijp. You may leave it empty."),
        filters=[strip],
        validators=[keep_under(80)],
    )


def _interests() -> MultiCheckboxField:
    return MultiCheckboxField(
        _l("Interests"),
        description=_l("We show you events in these areas."),
        coerce=int,
    )


def _visibility() -> RadioField:
    return RadioField(
        _l("Who may see your profile?"),
        choices=VISIBILITY_CHOICES,
        # Nobody sees a profile until its owner chooses to show it (privacy by default).
        default=Visibility.HIDDEN.value,
        validators=[InputRequired(_l("Please choose who may see your profile."))],
    )


def _about(label, description) -> TextAreaField:
    """A few sentences on the profile, at most 1000 characters; may be left empty."""
    return TextAreaField(
        label,
        description=description,
        filters=[strip],
        validators=[keep_under(1000)],
    )


class ProfileForm(FlaskForm):
    """The profile as one plain form; each field can also be saved on its own."""

    display_name = _display_name()
    neighbourhood = _neighbourhood()
    bio = _about(_l("About you"), _l("A few sentences. You may leave it empty."))
    interests = _interests()
    collectives = MultiCheckboxField(
        _l("Collectives I follow"),
        description=_l("With the news on, you get their announcements by e-mail."),
        coerce=int,
    )
    offer = _about(
        _l("What I can offer"),
        _l("Skills, time or things you could share with other members."),
    )
    visibility = _visibility()
    newsletter = BooleanField(
        _l("Send me the newsletter"),
        description=_l(
            "Announcements about my interests and the collectives I follow, by e-mail."
            " Every one of them has a link to stop them."
        ),
    )

    def set_domains(self, domains, locale: str) -> None:
        self.interests.choices = domain_choices(domains, locale)

    def set_collectives(self, collectives) -> None:
        self.collectives.choices = [SelectChoice(c.id, c.name) for c in collectives]


class JoinForm(AddressFields, EmailNoticesFields, FlaskForm):
    """Joining a plan: the profile basics, the name and address for the member register,
    the consent to notices by e-mail, the privacy statement, how to pay."""

    display_name = _display_name()
    neighbourhood = _neighbourhood()
    interests = _interests()
    visibility = _visibility()
    newsletter = BooleanField(_l("Send me the newsletter"))
    privacy = BooleanField(
        _l("I have read the privacy statement and agree to it"),
        validators=[DataRequired(_l("Please agree to the privacy statement to join."))],
    )
    pay_by = RadioField(
        _l("How would you like to pay?"),
        choices=[
            SelectChoice(PAY_ONLINE, _l("Online now (iDEAL or card)")),
            SelectChoice(PAY_BANK, _l("By bank transfer: your membership starts when it arrives")),
            SelectChoice(PAY_DEBIT, _l("By direct debit: you give a mandate below")),
        ],
        validators=[Optional()],
    )
    # Direct debit under the cooperative's own mandate: asked only when it is chosen.
    account_holder = StringField(
        MandateFields.account_holder.args[0],
        filters=[strip],
        validators=[Length(max=70, message=_l("The name can be at most 70 characters."))],
    )
    iban = StringField(
        MandateFields.iban.args[0],
        description=MandateFields.iban.kwargs["description"],
        filters=[strip],
        validators=[Length(max=42, message=_l("An IBAN has at most 34 letters and digits."))],
    )
    consent = BooleanField(MandateFields.consent.args[0])

    def set_domains(self, domains, locale: str) -> None:
        self.interests.choices = domain_choices(domains, locale)

    def offer_payments(self, online: bool, debit: bool) -> None:
        """Show only the ways to pay offered here (all are accepted on submit: the view
        refuses one not offered with a clear message)."""
        self.pay_by.choices = [
            choice
            for choice in self.pay_by.choices
            if (choice.value != PAY_ONLINE or online) and (choice.value != PAY_DEBIT or debit)
        ]

    def validate_iban(self, field) -> None:
        """Checked at once when paying by direct debit (the service checks it again)."""
        if self.pay_by.data == PAY_DEBIT and field.data:
            MandateFields.validate_iban(self, field)


class EmailChangeForm(FlaskForm):
    new_email = email_field(_l("New e-mail address"))
    # Its own id: the password form on the same page has a field named "password" too.
    password = password_field(
        _l("Your password"), _l("Please fill in your password."), id="email_password"
    )


class PasswordChangeForm(FlaskForm):
    current_password = password_field(
        _l("Your current password"), _l("Please fill in your current password.")
    )
    password, password_confirm = _new_password_fields(new=True)


class DeleteAccountForm(FlaskForm):
    password = password_field(_l("Your password"), _l("Please fill in your password to confirm."))


class DecisionForm(FlaskForm):
    """Approve or reject an application; a rejection needs a reason (it is e-mailed)."""

    reason = TextAreaField(
        _l("Reason (e-mailed to the person when you reject)"),
        filters=[strip],
        validators=[Length(max=2000)],
    )


class BankTransferForm(FlaskForm):
    amount = EuroField(
        _l("Amount received"),
        validators=[AmountRequired(_l("Please fill in the amount that arrived."))],
    )


class PlanForm(FlaskForm):
    slug = required_text(
        _l("Short name for addresses"),
        _l("Please fill in a short name."),
        40,
        description=_l("Lower-case letters, digits and hyphens, e.g. lid."),
    )
    name_nl, name_en = names_in_both_languages(120)
    description_nl = TextAreaField(
        _l("Description in Dutch"), filters=[strip], validators=[Length(max=2000)]
    )
    description_en = TextAreaField(
        _l("Description in English"), filters=[strip], validators=[Length(max=2000)]
    )
    fee = EuroField(
        _l("Fee"), validators=[AmountRequired(_l("Please fill in the fee (0 for free)."))]
    )
    period = RadioField(
        _l("The fee is paid"),
        choices=[
            SelectChoice(PlanPeriod.ONCE.value, _l("once")),
            SelectChoice(PlanPeriod.YEARLY.value, _l("every year")),
        ],
        default=PlanPeriod.ONCE.value,
        validators=[InputRequired(_l("Please choose how often the fee is paid."))],
    )
    needs_approval = BooleanField(_l("The board approves each new member"))
    is_active = BooleanField(_l("Open for new members"), default=True)
    position = position_field()

    def validate_slug(self, field) -> None:
        if not SLUG_RE.fullmatch(field.data or ""):
            raise ValidationError(_l("Use lower-case letters, digits and hyphens only."))


class DomainForm(FlaskForm):
    slug = PlanForm.slug
    name_nl, name_en = names_in_both_languages(80)
    position = position_field()

    validate_slug = PlanForm.validate_slug


class MemberFilterForm(FlaskForm):
    """The filters above the admins' member list (a GET form, no CSRF). A value that is
    too long or not among the choices is marked and left out of the search."""

    class Meta:
        csrf = False

    q = StringField(_l("Search name or e-mail"), filters=[strip], validators=[Length(max=200)])
    status = SelectField(_l("Status"), default="")
    plan = SelectField(_l("Plan"), default="")
    neighbourhood = SelectField(_l("Neighbourhood"), default="")
