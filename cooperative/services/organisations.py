"""The organisations the cooperative works with, kept by programme staff: municipalities,
their departments, businesses, foundations, and the collectives of the directory.

A collective's organisation is made from the directory (`organisation_for_collective`):
it is linked, never copied, so its name is always the collective's own. The people who act
for an organisation are added by their account's e-mail address; a collective's
organisers act for it without being added (`services.partners`).
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..locking import lock_collective, lock_organisation
from ..models import Collective, Organisation, OrganisationKind, OrganisationPerson
from ..refusals import Refused
from ..slugs import free_slug, refuse_unusable_slug
from .accounts import existing_user

SLUG_MAX_LENGTH = 80


@dataclass(frozen=True)
class OrganisationDetails:
    """What programme staff type about an organisation that is not a collective."""

    name: str
    kind: OrganisationKind
    website: str = ""
    parent_id: int | None = None  # a department's municipality


def all_organisations() -> list[Organisation]:
    """Every organisation by the name it shows, with what that name needs. Three queries."""
    organisations = db.session.scalars(
        sa.select(Organisation).options(
            sa.orm.joinedload(Organisation.collective),
            sa.orm.joinedload(Organisation.parent),
            sa.orm.selectinload(Organisation.people),
        )
    ).unique()
    return sorted(organisations, key=lambda o: (o.title.casefold(), o.id))


def municipalities() -> list[Organisation]:
    """The municipalities, by name: what a department may belong to."""
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .where(Organisation.kind == OrganisationKind.MUNICIPALITY)
            .order_by(Organisation.name, Organisation.id)
        )
    )


def possible_parents(organisation: Organisation | None) -> list[Organisation]:
    """The municipalities `organisation` (None: a new one) may belong to: never itself."""
    return [m for m in municipalities() if organisation is None or m.id != organisation.id]


def collectives_without_organisation() -> list[Collective]:
    """The published collectives of the directory that are no organisation yet, by name
    (a draft's name is not public: the register and the questions would show it)."""
    return list(
        db.session.scalars(
            sa.select(Collective)
            .where(
                Collective.is_published,
                ~sa.exists().where(Organisation.collective_id == Collective.id),
            )
            .order_by(Collective.name, Collective.id)
        )
    )


def save_organisation(
    organisation: Organisation | None, details: OrganisationDetails, slug: str = ""
) -> Organisation:
    """Create an organisation (`organisation` None) or change one that is not a collective.

    An empty slug is made from the name. Refuses a collective (it is made from the
    directory, and its name is the collective's), a slug that is not usable or taken, a
    municipality for anything but a department, a department without one, and another
    kind for a municipality with departments.
    """
    if details.kind == OrganisationKind.COLLECTIVE or (
        organisation is not None and organisation.collective_id is not None
    ):
        raise Refused(
            _l("A collective becomes an organisation from the directory, not by typing it."),
            "kind",
        )
    parent = _parent(details)
    if (
        organisation is not None
        and organisation.kind == OrganisationKind.MUNICIPALITY
        and details.kind != OrganisationKind.MUNICIPALITY
        and db.session.scalar(
            sa.select(sa.exists().where(Organisation.parent_id == organisation.id))
        )
    ):
        raise Refused(_l("This municipality has departments: it stays a municipality."), "kind")
    own_id = organisation.id if organisation is not None else None
    if slug:
        refuse_unusable_slug(
            Organisation.slug,
            slug,
            SLUG_MAX_LENGTH,
            own_id,
            _l("Another organisation already has this web address. Please choose another."),
        )
    elif organisation is not None:
        slug = organisation.slug
    else:
        slug = free_slug(Organisation.slug, details.name, SLUG_MAX_LENGTH, "organisatie")
    if organisation is None:
        organisation = Organisation()
        db.session.add(organisation)
    organisation.slug = slug
    organisation.name = details.name
    organisation.kind = details.kind
    organisation.website = details.website
    organisation.parent = parent
    db.session.flush()
    return organisation


def _parent(details: OrganisationDetails) -> Organisation | None:
    """The municipality a department belongs to; refuses one for anything else."""
    if details.kind != OrganisationKind.DEPARTMENT:
        if details.parent_id is not None:
            raise Refused(_l("Only a department belongs to a municipality."), "parent")
        return None
    parent = db.session.get(Organisation, details.parent_id) if details.parent_id else None
    if parent is None or parent.kind != OrganisationKind.MUNICIPALITY:
        raise Refused(_l("Please choose the municipality this department is part of."), "parent")
    return parent


def organisation_for_collective(collective: Collective) -> Organisation:
    """Make the collective an organisation, linked to it: its name and website stay the
    collective's. Refuses a collective that already is one, and a draft (not published
    in the directory: the register and the questions would show its name)."""
    lock_collective(collective)
    if not collective.is_published:
        raise Refused(_l("Publish %(name)s in the directory first.", name=collective.name))
    exists = db.session.scalar(
        sa.select(Organisation.id).where(Organisation.collective_id == collective.id)
    )
    if exists is not None:
        raise Refused(_l("%(name)s is already an organisation.", name=collective.name))
    organisation = Organisation(
        slug=free_slug(Organisation.slug, collective.slug, SLUG_MAX_LENGTH, "collectief"),
        kind=OrganisationKind.COLLECTIVE,
        name="",
        collective=collective,
    )
    db.session.add(organisation)
    db.session.flush()
    return organisation


def add_person(organisation: Organisation, email: str) -> OrganisationPerson:
    """Let the person with this e-mail address act for the organisation: post its
    questions, respond for it, be its contact. Refuses an address without an account and
    a person who already acts for it."""
    user = existing_user(email)
    lock_organisation(organisation)
    acts_already = db.session.scalar(
        sa.select(OrganisationPerson.id).where(
            OrganisationPerson.organisation_id == organisation.id,
            OrganisationPerson.user_id == user.id,
        )
    )
    if acts_already is not None:
        raise Refused(_l("This person already acts for this organisation."), "email")
    person = OrganisationPerson(organisation=organisation, user=user)
    db.session.add(person)
    db.session.flush()
    return person


def remove_person(person: OrganisationPerson) -> None:
    """The person no longer acts for the organisation (questions they posted stay)."""
    db.session.delete(person)
    db.session.flush()
