"""The forms of a collaboration's shared costs: setting a cost (with each party's key for
a split by key) and recording a transfer that arrived."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, FormField, HiddenField, IntegerField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..models import CollaborationParty, CostSplit
from .fields import (
    AmountRequired,
    EuroField,
    SubForm,
    optional_text,
    required_text,
    strip,
    whole_number_range,
)

# More parties than a koppel, a Green Deal or a cluster of municipalities ever has.
MAX_PARTIES = 60


class PartyKeyForm(SubForm):
    """One party's weight in a split by key (e.g. its inhabitants)."""

    party = HiddenField(filters=[strip], validators=[Length(max=20)])
    key = IntegerField(
        validators=[Optional(), whole_number_range(1)],
        render_kw={"inputmode": "numeric"},
    )


class SharedCostForm(FlaskForm):
    description = required_text(
        _l("What the cost is for"),
        _l("Please say what the cost is for."),
        200,
        description=_l("For example: climate actions 2026, shared project leader."),
    )
    total = EuroField(
        _l("Total amount"),
        validators=[AmountRequired(_l("Please fill in the total amount."))],
    )
    vat_included = BooleanField(_l("This amount includes VAT (BTW)"))
    split = RadioField(
        _l("How the parties share it"),
        choices=[
            SelectChoice(CostSplit.EQUAL.value, _l("Equally: every party the same")),
            SelectChoice(CostSplit.BY_KEY.value, _l("By a key: each party its own weight")),
        ],
        default=CostSplit.EQUAL.value,
        validators=[DataRequired(_l("Please choose how the parties share the cost."))],
    )
    key_name = optional_text(
        _l("What the key counts"),
        80,
        description=_l("For example: inhabitants. Only for a split by key."),
    )
    keys = FieldList(FormField(PartyKeyForm), min_entries=0, max_entries=MAX_PARTIES)

    def set_parties(self, parties: list[CollaborationParty]) -> None:
        """One key per party, in the collaboration's order, labelled with its name; the
        party's own key unless one was typed."""
        typed = {entry.form.party.data: entry.form.key for entry in self.keys}
        while self.keys.entries:
            self.keys.pop_entry()
        for party in parties:
            entry = self.keys.append_entry({"party": str(party.id), "key": party.cost_key})
            field = typed.get(str(party.id))
            if field is not None:
                entry.form.key.data = field.data
                entry.form.key.raw_data = field.raw_data
                entry.form.key.process_errors = field.process_errors
            entry.form.key.label.text = _l("Key of %(party)s", party=party.organisation.title)

    def typed_keys(self) -> dict[int, int | None]:
        """Party id: key, as typed."""
        return {
            int(entry.form.party.data): entry.form.key.data
            for entry in self.keys
            if (entry.form.party.data or "").isdigit()
        }


class CostTransferForm(FlaskForm):
    amount = EuroField(
        _l("Amount received"),
        validators=[AmountRequired(_l("Please fill in the amount that arrived."))],
    )
