"""Forms for the share register: a member buying shares, and the admins' forms for
classes, decisions, payments, repayments and transfers."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..models import ShareClass, ShareHolders
from ..services.share_changes import BANK_TRANSFER, STRIPE_REFUND
from ..services.shares import MAX_QUANTITY
from .fields import (
    INTEGER_MAX,
    AmountRequired,
    EuroField,
    WholeNumberField,
    names_in_both_languages,
    position_field,
    strip,
    whole_number_range,
)
from .membership import PAY_BANK, PAY_DEBIT, PAY_ONLINE, PlanForm


class BuySharesForm(FlaskForm):
    """How many shares of which class, and how to pay for them."""

    share_class = RadioField(
        _l("Which shares?"),
        coerce=int,
        validators=[InputRequired(_l("Please choose a class of shares."))],
    )
    quantity = WholeNumberField(
        _l("How many?"),
        default=1,
        validators=[
            InputRequired(_l("Please fill in how many shares you would like.")),
            NumberRange(min=1, max=MAX_QUANTITY, message=_l("Please choose at least one share.")),
        ],
    )
    pay_by = RadioField(
        _l("How would you like to pay?"),
        choices=[
            SelectChoice(PAY_ONLINE, _l("Online now (iDEAL or card)")),
            SelectChoice(PAY_BANK, _l("By bank transfer")),
            SelectChoice(PAY_DEBIT, _l("By direct debit, under my mandate")),
        ],
        default=PAY_BANK,
        validators=[InputRequired(_l("Please choose how you would like to pay."))],
    )

    def offer_payments(self, online: bool, debit: bool) -> None:
        """Show only the ways to pay offered to this member (the view refuses one not
        offered with a clear message)."""
        self.pay_by.choices = [
            choice
            for choice in self.pay_by.choices
            if (choice.value != PAY_ONLINE or online) and (choice.value != PAY_DEBIT or debit)
        ]

    def set_classes(self, classes: list[ShareClass], labels: dict[int, str]) -> None:
        self.share_class.choices = [SelectChoice(c.id, labels[c.id]) for c in classes]


class ShareClassForm(FlaskForm):
    slug = PlanForm.slug
    name_nl, name_en = names_in_both_languages(120)
    amount = EuroField(
        _l("Price of one share"),
        validators=[AmountRequired(_l("Please fill in the price of one share."))],
    )
    required = BooleanField(_l("Every member holds one (taken when joining)"))
    max_per_member = WholeNumberField(
        _l("Most shares one member may hold"),
        description=_l("Leave empty for no maximum."),
        validators=[Optional(), whole_number_range()],
    )
    holders = RadioField(
        _l("For"),
        choices=[
            SelectChoice(ShareHolders.PERSONS.value, _l("persons")),
            SelectChoice(ShareHolders.LEGAL_PERSONS.value, _l("legal persons")),
        ],
        default=ShareHolders.PERSONS.value,
        validators=[InputRequired(_l("Please choose who may hold these shares."))],
    )
    needs_approval = BooleanField(_l("The board approves each purchase"))
    is_open = BooleanField(_l("Open for purchases"), default=True)
    position = position_field()

    validate_slug = PlanForm.validate_slug


class PurchaseDecisionForm(FlaskForm):
    """Approve or refuse a purchase; a refusal needs a reason."""

    reason = TextAreaField(
        _l("Reason (when you refuse)"), filters=[strip], validators=[Length(max=2000)]
    )


class SharePaymentForm(FlaskForm):
    amount = EuroField(
        _l("Amount received"),
        validators=[AmountRequired(_l("Please fill in the amount that arrived."))],
    )


class RepaymentForm(FlaskForm):
    method = RadioField(
        _l("How the money went back"),
        choices=[
            SelectChoice(BANK_TRANSFER, _l("By bank transfer (made by the treasurer)")),
            SelectChoice(STRIPE_REFUND, _l("As a refund of the online payment")),
        ],
        default=BANK_TRANSFER,
        validators=[InputRequired(_l("Please choose how the money goes back."))],
    )
    note = StringField(_l("Note"), filters=[strip], validators=[Length(max=300)])


class TransferForm(FlaskForm):
    member_number = WholeNumberField(
        _l("Member number of the new holder"),
        validators=[
            InputRequired(_l("Please fill in a member number.")),
            NumberRange(1, INTEGER_MAX, _l("A member number is a whole number from 1 to %(max)s.")),
        ],
    )
    note = StringField(
        _l("Note (e.g. the date of the letter)"), filters=[strip], validators=[Length(max=300)]
    )


class IssueSharesForm(FlaskForm):
    """The board issues shares to a member (a legal person's, say): who, which, how many."""

    member_number = TransferForm.member_number
    share_class = RadioField(
        _l("Which shares?"),
        coerce=int,
        validators=[InputRequired(_l("Please choose a class of shares."))],
    )
    quantity = BuySharesForm.quantity

    def set_classes(self, classes: list[ShareClass], locale: str) -> None:
        self.share_class.choices = [SelectChoice(c.id, c.name(locale)) for c in classes]
