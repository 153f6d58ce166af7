"""Who acts for which organisation in the work with the city, and what they may do.

The one home of these rules, for the questions, the collaborations' back office, the
progress updates and the cost shares:
- a person acts for an organisation when they are one of its people
  (`OrganisationPerson`) or, for a collective's organisation, one of its organisers;
- programme staff and admins (`User.runs_programme`) act for the programme: they form
  koppels, publish and moderate, and may do whatever a party's contact may;
- a party's contact records progress on the party's own commitments and sees its share
  of the costs, and pays it; programme staff see every share and record transfers.
"""

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    Collaboration,
    CollaborationParty,
    CollectiveRole,
    Commitment,
    CostShare,
    Organisation,
    OrganisationPerson,
    User,
)


def organisation_ids_of(user: User) -> set[int]:
    """The organisations `user` acts for: as one of its people, or as an organiser of
    the collective it is."""
    people = sa.select(OrganisationPerson.organisation_id).where(
        OrganisationPerson.user_id == user.id
    )
    collectives = (
        sa.select(Organisation.id)
        .join(CollectiveRole, CollectiveRole.collective_id == Organisation.collective_id)
        .where(CollectiveRole.user_id == user.id)
    )
    return set(db.session.scalars(sa.union(people, collectives)))


def acts_for(user: User, organisation: Organisation) -> bool:
    """Whether `user` may post and respond for `organisation`."""
    return user.is_authenticated and organisation.id in organisation_ids_of(user)


def is_contact(user: User, party: CollaborationParty) -> bool:
    """Whether `user` is `party`'s contact person in its collaboration."""
    return user.is_authenticated and party.contact_user_id == user.id


def may_record_progress(user: User, commitment: Commitment) -> bool:
    """Progress on a commitment is recorded by its party's contact or programme staff."""
    if not user.is_authenticated:
        return False
    return user.runs_programme or is_contact(user, commitment.party)


def contact_collaborations(user: User) -> sa.Select:
    """The collaborations in which `user` is a party's contact, published or not."""
    return sa.select(Collaboration).where(
        Collaboration.parties.any(CollaborationParty.contact_user_id == user.id)
    )


def may_see_collaboration(user: User, collaboration: Collaboration) -> bool:
    """A published collaboration is for everyone; an unpublished one only for programme
    staff and its parties' contacts, who open it in the back office too (its public page
    says it is not public)."""
    return collaboration.is_published or may_open_back_office(user, collaboration)


def public_collaborations() -> sa.Select:
    """The collaborations anyone may see: the published ones."""
    return sa.select(Collaboration).where(Collaboration.published_at.is_not(None))


def may_open_back_office(user: User, collaboration: Collaboration) -> bool:
    """Whether `user` opens `collaboration` in the back office (published or not):
    programme staff, and the contacts of its parties."""
    if not user.is_authenticated:
        return False
    return user.runs_programme or any(is_contact(user, p) for p in collaboration.parties)


def may_pay(user: User, share: CostShare) -> bool:
    """A share of a cost is paid online by its party's contact, no one else."""
    return is_contact(user, share.party)


def shown_shares(user: User, shares: list[CostShare]) -> list[CostShare]:
    """Of `shares`, those `user` sees in the back office: all for programme staff, their
    own party's for a contact, none for anyone else. A share whose party was removed
    without `collaboration_costs.party_leaves` (its row outlives it on SQLite, which does
    not enforce foreign keys here) is nobody's."""
    if not user.is_authenticated:
        return []
    present = [share for share in shares if share.party is not None]
    if user.runs_programme:
        return present
    return [share for share in present if is_contact(user, share.party)]


def works_on_collaborations(user: User) -> bool:
    """Whether the collaborations' back office is for `user` at all: programme staff,
    and whoever is a party's contact somewhere."""
    if not user.is_authenticated:
        return False
    if user.runs_programme:
        return True
    return db.session.scalar(contact_collaborations(user).limit(1)) is not None
