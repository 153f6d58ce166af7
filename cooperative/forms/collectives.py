"""Forms for collectives: their page (own people), the admins' form, roles, suggestions.

The domain lists are filled by the view (`set_domains`) in the reader's language. Domains
are chosen by id; one that is not in the list is refused next to the field.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..i18n import current_locale
from ..models import utcnow
from ..services.collectives import SLUG_MAX_LENGTH, CollectiveDetails
from .fields import (
    choice_id,
    domain_choices,
    email_field,
    only_offered,
    optional_email,
    optional_text,
    required_text,
    slug_field,
    strip,
)
from .registration import MultiCheckboxField

FIRST_YEAR = 1800
_CHOOSE_A_DOMAIN = SelectChoice("", _l("Choose a domain"))
_NOT_IN_THE_LIST = _l("Please choose a domain from the list.")


def _website_or_empty(form, field) -> None:
    """Accept `zonnedak.nl` as `https://zonnedak.nl`; refuse what is no web address."""
    if not field.data:
        return
    if "://" not in field.data:
        field.data = "https://" + field.data
    URL(message=_l("This does not look like a web address, e.g. https://example.nl."))(form, field)
    # Checked again with the `https://` added: the database keeps at most 300 characters.
    Length(max=300, message=_l("Please keep the web address under 300 characters."))(form, field)


class CollectiveForm(FlaskForm):
    """What a collective's own people edit about it."""

    summary = optional_text(
        _l("One line about the collective"),
        300,
        description=_l("Shown on its card in the directory."),
    )
    description = TextAreaField(
        _l("What the collective does"), filters=[strip], validators=[Length(max=10000)]
    )
    primary_domain = SelectField(
        _l("Main domain"),
        coerce=choice_id,
        validate_choice=False,
    )
    other_domains = MultiCheckboxField(_l("Other domains"), coerce=choice_id, validate_choice=False)
    neighbourhood = optional_text(_l("Neighbourhood"), 80)
    legal_form = optional_text(
        _l("Legal form"),
        80,
        description=_l("For example: cooperative, association, foundation, informal group."),
    )
    founded_year = IntegerField(
        _l("Founded in (year)"),
        validators=[Optional(), NumberRange(1000, 9999, _l("Please write a year, like 1995."))],
    )
    website = StringField(
        _l("Website"), filters=[strip], validators=[Length(max=300), _website_or_empty]
    )
    contact_email = optional_email(_l("Contact e-mail address"))

    def set_domains(self, domains) -> None:
        """Offer `domains` (in the cooperative's order) in the reader's language."""
        choices = domain_choices(domains, current_locale())
        self.primary_domain.choices = [_CHOOSE_A_DOMAIN, *choices]
        self.other_domains.choices = choices

    def validate_primary_domain(self, field) -> None:
        only_offered(field, _NOT_IN_THE_LIST)

    def validate_other_domains(self, field) -> None:
        only_offered(field, _l("Please choose domains from the list."))

    def validate_founded_year(self, field) -> None:
        if field.data is not None and not FIRST_YEAR <= field.data <= utcnow().year:
            raise ValidationError(
                _l(
                    "Please write a year from %(first)d to %(last)d.",
                    first=FIRST_YEAR,
                    last=utcnow().year,
                )
            )

    def fill(self, collective) -> None:
        """Put the collective's current details in the form."""
        self.summary.data = collective.summary
        self.description.data = collective.description
        self.primary_domain.data = collective.primary_domain_id
        self.other_domains.data = [
            d.id for d in collective.domains if d.id != collective.primary_domain_id
        ]
        self.neighbourhood.data = collective.neighbourhood
        self.legal_form.data = collective.legal_form
        self.founded_year.data = collective.founded_year
        self.website.data = collective.website
        self.contact_email.data = collective.contact_email

    def details(self) -> CollectiveDetails:
        """What was typed, for the collectives service."""
        return CollectiveDetails(
            summary=self.summary.data or "",
            description=self.description.data or "",
            legal_form=self.legal_form.data or "",
            neighbourhood=self.neighbourhood.data or "",
            website=self.website.data or "",
            contact_email=self.contact_email.data or "",
            founded_year=self.founded_year.data,
            primary_domain_id=self.primary_domain.data,
            other_domain_ids=tuple(self.other_domains.data or ()),
        )


class AdminCollectiveForm(CollectiveForm):
    """The admins' form: the name and web address too."""

    name = required_text(_l("Name"), _l("Please fill in the collective’s name."), 160)
    slug = slug_field(
        SLUG_MAX_LENGTH,
        _l("Use only lower-case letters, digits and single hyphens, e.g. zonnedak-oost."),
        label=_l("Web address"),
        description=_l(
            "The end of the collective’s address, e.g. zonnedak-oost. Leave empty to make "
            "one from the name."
        ),
    )

    def fill(self, collective) -> None:
        super().fill(collective)
        self.name.data = collective.name
        self.slug.data = collective.slug


class RoleForm(FlaskForm):
    """Give someone with an account a role in a collective."""

    email = email_field(_l("Their e-mail address"))


class SuggestionForm(FlaskForm):
    """Anyone suggests a collective for the directory."""

    name = required_text(
        _l("Name of the collective"), _l("Please fill in the collective’s name."), 160
    )
    domain = SelectField(_l("Domain"), coerce=choice_id, validate_choice=False)
    neighbourhood = optional_text(_l("Neighbourhood"), 80)
    website = StringField(
        _l("Website (if it has one)"),
        filters=[strip],
        validators=[Length(max=300), _website_or_empty],
    )
    contact_email = email_field(_l("Your e-mail address"))
    reason = TextAreaField(
        _l("Why should it be in the directory?"),
        description=_l("What does the collective do, and for whom?"),
        filters=[strip],
        validators=[
            DataRequired(_l("Please tell us a little about the collective.")),
            Length(max=5000),
        ],
    )

    def set_domains(self, domains) -> None:
        """Offer `domains` in the reader's language."""
        self.domain.choices = [_CHOOSE_A_DOMAIN, *domain_choices(domains, current_locale())]

    def validate_domain(self, field) -> None:
        only_offered(field, _NOT_IN_THE_LIST)
