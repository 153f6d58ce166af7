"""Forms for questions (vraagstukken) and the organisations programme staff keep.

The organisations and domains offered are filled by the view; a choice that was not
offered is refused next to its field (the services check again who acts for whom).
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..i18n import ORGANISATION_KIND_LABELS
from ..models import OrganisationKind, QuestionStatus
from ..services.organisations import SLUG_MAX_LENGTH, OrganisationDetails
from ..services.questions import QuestionFilters
from .collectives import _website_or_empty
from .fields import (
    choice_id,
    domain_choices,
    email_field,
    keep_under,
    only_offered,
    required_text,
    slug_field,
    strip,
)
from .filters import FilterForm, filter_text, tidy
from .registration import MultiCheckboxField


def organisation_choices(organisations) -> list[SelectChoice]:
    return [SelectChoice(o.id, o.title) for o in organisations]


class QuestionFilterForm(FilterForm):
    """`?domain=&status=`: the filters of the public list of questions."""

    domain = filter_text("domain")
    status = filter_text("status")

    def filters(self, page: int = 1) -> QuestionFilters:
        """What was asked for, tidied; an empty value means "any"."""
        return QuestionFilters(
            domain=tidy(self.domain.data), status=tidy(self.status.data), page=page
        )


class QuestionForm(FlaskForm):
    """A person posts a question for one of the organisations they act for."""

    organisation = SelectField(_l("Asked by"), coerce=choice_id, validate_choice=False)
    title = required_text(
        _l("The question in one line"),
        _l("Please write the question in one line."),
        200,
        description=_l(
            "For example: the purchase of an energy saving service touches several domains "
            "but is paid for by one."
        ),
    )
    body = TextAreaField(
        _l("What is it about?"),
        description=_l("What do you want to work on, with whom, and what is in the way?"),
        filters=[strip],
        validators=[
            DataRequired(_l("Please tell a little more about the question.")),
            keep_under(10000),
        ],
    )
    domains = MultiCheckboxField(
        _l("Domains"),
        description=_l("Choose every domain the question touches."),
        coerce=choice_id,
        validate_choice=False,
    )

    def offer(self, organisations, domains, locale: str) -> None:
        """Offer `organisations` (those the person acts for) and `domains`."""
        self.organisation.choices = organisation_choices(organisations)
        self.domains.choices = domain_choices(domains, locale)

    def validate_organisation(self, field) -> None:
        only_offered(field, _l("Please choose an organisation from the list."))

    def validate_domains(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Please choose at least one domain."))
        only_offered(field, _l("Please choose domains from the list."))


class ResponseForm(FlaskForm):
    """ "We want to work on this": for one of the organisations the person acts for."""

    organisation = SelectField(_l("For"), coerce=choice_id, validate_choice=False)
    note = TextAreaField(
        _l("What would you bring? (optional)"),
        description=_l("Everyone can read it on the question’s page."),
        filters=[strip],
        validators=[keep_under(2000)],
    )

    def offer(self, organisations) -> None:
        self.organisation.choices = organisation_choices(organisations)

    def validate_organisation(self, field) -> None:
        only_offered(field, _l("Please choose an organisation from the list."))


class KoppelForm(FlaskForm):
    """Programme staff choose the respondents who form a koppel with the asker."""

    responses = MultiCheckboxField(
        _l("Who forms the koppel with the asker?"), coerce=choice_id, validate_choice=False
    )

    def offer(self, responses) -> None:
        self.responses.choices = [SelectChoice(r.id, r.organisation.title) for r in responses]

    def validate_responses(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Please choose at least one organisation that responded."))
        only_offered(field, _l("Please choose from the organisations that responded."))


STATUS_LABELS = {
    QuestionStatus.OPEN: _l("Open"),
    QuestionStatus.PAIRED: _l("Koppel formed"),
    QuestionStatus.CLOSED: _l("Closed"),
}


class OrganisationForm(FlaskForm):
    """Programme staff type an organisation that is not a collective."""

    name = required_text(_l("Name"), _l("Please fill in the organisation’s name."), 160)
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice(kind, label)
            for kind, label in ORGANISATION_KIND_LABELS.items()
            if kind != OrganisationKind.COLLECTIVE
        ],
        validate_choice=False,
    )
    parent = SelectField(
        _l("Part of the municipality"),
        description=_l("Only for a department."),
        coerce=choice_id,
        validate_choice=False,
    )
    website = StringField(
        _l("Website"), filters=[strip], validators=[Length(max=300), _website_or_empty]
    )
    slug = slug_field(
        SLUG_MAX_LENGTH,
        _l("Use lower-case letters, digits and hyphens only."),
        label=_l("Short name for its address"),
        description=_l("For example gemeente-haarlem. Leave empty to make one from the name."),
    )

    def offer(self, municipalities) -> None:
        self.parent.choices = [SelectChoice("", _l("None")), *organisation_choices(municipalities)]

    def validate_kind(self, field) -> None:
        only_offered(field, _l("Please choose a kind from the list."))

    def validate_parent(self, field) -> None:
        if field.data is not None:
            only_offered(field, _l("Please choose a municipality from the list."))

    def fill(self, organisation) -> None:
        self.name.data = organisation.name
        self.kind.data = organisation.kind.value
        self.parent.data = organisation.parent_id
        self.website.data = organisation.website
        self.slug.data = organisation.slug

    def details(self) -> OrganisationDetails:
        return OrganisationDetails(
            name=self.name.data,
            kind=OrganisationKind(self.kind.data),
            website=self.website.data or "",
            parent_id=self.parent.data,
        )


class PersonForm(FlaskForm):
    """Let someone with an account act for an organisation."""

    email = email_field(_l("Their e-mail address"))


class FromCollectiveForm(FlaskForm):
    """Make a collective of the directory an organisation, with one button."""

    collective = SelectField(_l("Collective"), coerce=choice_id, validate_choice=False)

    def offer(self, collectives) -> None:
        self.collective.choices = [SelectChoice(c.id, c.name) for c in collectives]

    def validate_collective(self, field) -> None:
        only_offered(field, _l("Please choose a collective from the list."))
