"""Forms of the collaborations' back office: the collaboration, a party, a commitment, a
progress update, linking an event, and the programme-staff role.

The choices that come from the database (domains, organisations, parties, events) are
filled by the view; a value that was not offered is refused next to its field. The
rules that need the database (dates of commitments and progress, who may record) live in
`services.collaborations`.
"""

import math
import re

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from ..i18n import COLLABORATION_KIND_LABELS, COLLABORATION_STATUS_LABELS
from ..models import Collaboration, CollaborationKind, CollaborationStatus, Commitment
from ..services.collaborations import SLUG_MAX_LENGTH, CollaborationPlan
from ..services.commitments import CommitmentPlan, ProgressPlan
from .fields import (
    INTEGER_MAX,
    TypedNumberField,
    WholeNumberField,
    choice_id,
    domain_choices,
    email_field,
    ends_after,
    only_offered,
    optional_email,
    optional_text,
    required_text,
    slug_field,
    strip,
)
from .registration import MultiCheckboxField
from .series import day_field

# A number as people type it: -30, 12.5 or 12,5 (no thousands separators, which read
# differently in Dutch and English).
_NUMBER_RE = re.compile(r"[-+−]?\d{1,15}(?:[.,]\d{1,6})?")
NUMBER_MAX = 10**12


def format_measure(number: float | None) -> str:
    """A measured number the reader's way, as `MeasureField` reads it back: `12,5` in
    Dutch, `12.5` in English, no thousands separators; "" for None."""
    return "" if number is None else format_decimal(number, format="0.######")


class MeasureField(TypedNumberField):
    """A measured number (a baseline, a target, a value): `-30`, `12,5` or `12.5`; `data`
    is a float, or None when left empty."""

    def read(self, text: str) -> float:
        if not _NUMBER_RE.fullmatch(text):
            raise ValueError(_l("Please write a number, like 70 or 12,5."))
        number = float(text.replace(",", ".").replace("−", "-"))
        if not math.isfinite(number) or abs(number) > NUMBER_MAX:
            raise ValueError(_l("Please write a smaller number."))
        return number

    def write(self, number: float) -> str:
        return format_measure(number)


# A scheme such as `javascript:` or `mailto:` (not `example.nl:8080`, a port).
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:(?!\d)")


def _website(form, field) -> None:
    """Accept `example.nl/verslag` as `https://example.nl/verslag`; the service refuses
    what is still no http(s) address (`javascript:...` among them)."""
    if field.data and "://" not in field.data and not _SCHEME_RE.match(field.data):
        field.data = "https://" + field.data
    # Checked again with the `https://` added: the database keeps at most 300 characters.
    Length(max=300, message=_l("Please keep the web address under 300 characters."))(form, field)


class CollaborationForm(FlaskForm):
    """A collaboration: what it is, its goal, domains and dates."""

    title = required_text(_l("Title"), _l("Please give the collaboration a title."), 200)
    slug = slug_field(SLUG_MAX_LENGTH)
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(kind, label) for kind, label in COLLABORATION_KIND_LABELS.items()],
    )
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice(status, label) for status, label in COLLABORATION_STATUS_LABELS.items()
        ],
    )
    goal = TextAreaField(
        _l("Shared goal"),
        filters=[strip],
        description=_l("What the parties want to reach together."),
        validators=[Optional(), Length(max=5000)],
    )
    domains = MultiCheckboxField(_l("Domains"), coerce=choice_id, validate_choice=False)
    starts_on = day_field(_l("Start (optional)"))
    ends_on = day_field(_l("End (optional)"))

    def set_domains(self, domains, locale: str) -> None:
        """Offer `domains` in the reader's language."""
        self.domains.choices = domain_choices(domains, locale)

    def fill(self, collaboration: Collaboration) -> None:
        for name in ("title", "slug", "goal", "starts_on", "ends_on"):
            getattr(self, name).data = getattr(collaboration, name)
        self.kind.data = collaboration.kind.value
        self.status.data = collaboration.status.value
        self.domains.data = [domain.id for domain in collaboration.domains]

    def validate_domains(self, field) -> None:
        only_offered(field, _l("Please choose domains from the list."))

    validate_ends_on = ends_after(
        "starts_on", _l("The end cannot be before the start."), or_same=True
    )

    def plan(self) -> CollaborationPlan:
        return CollaborationPlan(
            title=self.title.data,
            slug=self.slug.data or "",
            kind=CollaborationKind(self.kind.data),
            status=CollaborationStatus(self.status.data),
            goal=self.goal.data or "",
            domain_ids=tuple(self.domains.data or ()),
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
        )


class PartyChangeForm(FlaskForm):
    """A party's contact, role and weight in a split by key."""

    contact_email = optional_email(
        _l("Contact person’s e-mail address (optional)"),
        description=_l(
            "Their account: they see this collaboration and record progress on their "
            "organisation’s commitments."
        ),
    )
    role = optional_text(
        _l("Role (optional)"), 200, description=_l("What the party brings or does, shown publicly.")
    )
    cost_key = WholeNumberField(
        _l("Key for sharing costs (optional)"),
        description=_l("Its weight when a cost is split by key, e.g. its number of inhabitants."),
        validators=[Optional()],
    )

    def validate_cost_key(self, field) -> None:
        if field.data is not None and not 1 <= field.data <= INTEGER_MAX:
            raise ValidationError(_l("Please write a whole number of at least 1."))


class PartyForm(PartyChangeForm):
    """A new party: an organisation, with its contact, role and key."""

    organisation = SelectField(_l("Organisation"), coerce=choice_id, validate_choice=False)

    def set_organisations(self, organisations) -> None:
        self.organisation.choices = [SelectChoice("", _l("Choose an organisation"))] + [
            SelectChoice(organisation.id, organisation.title) for organisation in organisations
        ]

    def validate_organisation(self, field) -> None:
        only_offered(field, _l("Please choose an organisation from the list."))


class CommitmentForm(FlaskForm):
    """A party's commitment, measurable where a starting value and a target are given."""

    party = SelectField(_l("Responsible party"), coerce=choice_id, validate_choice=False)
    title = required_text(_l("Commitment"), _l("Please say what is promised."), 200)
    description = TextAreaField(
        _l("Explanation (optional)"), filters=[strip], validators=[Optional(), Length(max=5000)]
    )
    baseline = MeasureField(
        _l("Starting value (optional)"),
        description=_l("For a measurable target, e.g. 100 (today’s residual waste, in percent)."),
        validators=[Optional()],
    )
    target = MeasureField(
        _l("Target (optional)"),
        description=_l("e.g. 70 for 30 percent less."),
        validators=[Optional()],
    )
    unit = optional_text(_l("Unit (optional)"), 40, description=_l("e.g. percent, tonnes, homes."))
    due_on = day_field(_l("Due date (optional)"))

    def set_parties(self, parties) -> None:
        self.party.choices = [SelectChoice("", _l("Choose a party"))] + [
            SelectChoice(party.id, party.organisation.title) for party in parties
        ]

    def fill(self, commitment: Commitment) -> None:
        self.party.data = commitment.party_id
        for name in ("title", "description", "baseline", "target", "unit", "due_on"):
            getattr(self, name).data = getattr(commitment, name)

    def validate_party(self, field) -> None:
        only_offered(field, _l("Please choose one of this collaboration’s parties."))

    def plan(self) -> CommitmentPlan:
        return CommitmentPlan(
            party_id=self.party.data,
            title=self.title.data,
            description=self.description.data or "",
            baseline=self.baseline.data,
            target=self.target.data,
            unit=self.unit.data or "",
            due_on=self.due_on.data,
        )


class ProgressForm(FlaskForm):
    """A step on a commitment: a value (where it is measurable), a note, a day, a link."""

    value = MeasureField(_l("Value now (optional)"), validators=[Optional()])
    note = TextAreaField(
        _l("What happened"), filters=[strip], validators=[Optional(), Length(max=5000)]
    )
    on = day_field(_l("Date"), required=True)
    link = StringField(
        _l("Link to more (optional)"),
        filters=[strip],
        description=_l("A report or photo online, https://..."),
        validators=[Optional(), Length(max=300), _website],
    )

    def plan(self) -> ProgressPlan:
        return ProgressPlan(
            on=self.on.data,
            value=self.value.data,
            note=self.note.data or "",
            link=self.link.data or "",
        )


class LinkEventForm(FlaskForm):
    """An existing event to link to the collaboration as one of its meetings."""

    event = SelectField(_l("Event"), coerce=choice_id, validate_choice=False)

    def set_events(self, events, label) -> None:
        self.event.choices = [SelectChoice("", _l("Choose an event"))] + [
            SelectChoice(event.id, label(event)) for event in events
        ]

    def validate_event(self, field) -> None:
        only_offered(field, _l("Please choose an event from the list."))


class ProgrammeStaffForm(FlaskForm):
    """Give someone with an account the programme-staff role."""

    email = email_field(_l("Their e-mail address"))
