"""The back office of the collaborations with the city: programme staff make and change
a collaboration and its parties, publish it and link its events, and admins give the
programme-staff role. The commitments and their progress are `services.commitments`'.

Who may do what is said once in `services.partners`; this module holds the workflows and
what they refuse. Every change the public can follow (details, parties, commitments,
progress, publishing, events) sets `Collaboration.updated_at` (`Collaboration.touch`),
which the register and its feeds show. Services flush; the views commit.

Where the issue is silent:
- a change of the collaboration's dates that would put a commitment's due date or a
  progress update outside them is refused, saying which;
- a party with commitments is not removed (remove those first), so no promise silently
  disappears; its shares of the costs are split again over the others;
- publishing needs at least one party: a register entry says who works together.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..i18n import local_zone
from ..models import (
    Collaboration,
    CollaborationKind,
    CollaborationParty,
    CollaborationStatus,
    Domain,
    Event,
    Organisation,
    User,
    utcnow,
)
from ..refusals import Refused
from ..slugs import free_slug, slug_is_valid, slug_taken
from . import collaboration_costs
from .accounts import existing_user
from .mail import external_url, queue_mail
from .register import today

SLUG_MAX_LENGTH = 80


# --- The collaboration itself --------------------------------------------------------


@dataclass
class CollaborationPlan:
    """A collaboration as programme staff want it."""

    title: str
    kind: CollaborationKind
    status: CollaborationStatus = CollaborationStatus.IDEA
    slug: str = ""
    goal: str = ""
    domain_ids: tuple[int, ...] = ()
    starts_on: date | None = None
    ends_on: date | None = None


def _outside(day: date, starts_on: date | None, ends_on: date | None) -> bool:
    return (starts_on is not None and day < starts_on) or (ends_on is not None and day > ends_on)


def _refuse_dates_leaving_things_out(
    collaboration: Collaboration, starts_on: date | None, ends_on: date | None
) -> None:
    """Refuses new dates that a commitment's due date or a progress update falls outside."""
    for commitment in collaboration.commitments:
        if commitment.due_on is not None and _outside(commitment.due_on, starts_on, ends_on):
            raise Refused(
                _l(
                    "The commitment “%(title)s” is due on %(day)s, outside these dates. "
                    "Change its due date first.",
                    title=commitment.title,
                    day=commitment.due_on.isoformat(),
                ),
                "starts_on" if starts_on and commitment.due_on < starts_on else "ends_on",
            )
        for update in commitment.updates:
            if starts_on is not None and update.on < starts_on:
                raise Refused(
                    _l(
                        "Progress on “%(title)s” was recorded on %(day)s, before this start.",
                        title=commitment.title,
                        day=update.on.isoformat(),
                    ),
                    "starts_on",
                )


def save_collaboration(
    plan: CollaborationPlan, collaboration: Collaboration | None = None
) -> Collaboration:
    """Make a collaboration (a draft: not published) or change one.

    Refuses an end before the start, a web address that is not lower-case letters, digits
    and hyphens or that another collaboration has, a domain that does not exist, and dates
    that would leave a commitment's due date or a progress update outside them."""
    if plan.starts_on and plan.ends_on and plan.ends_on < plan.starts_on:
        raise Refused(_l("The end cannot be before the start."), "ends_on")
    own_id = collaboration.id if collaboration is not None else None
    if plan.slug:
        if not slug_is_valid(plan.slug, SLUG_MAX_LENGTH):
            raise Refused(_l("Use lower-case letters, digits and hyphens only."), "slug")
        if slug_taken(Collaboration.slug, plan.slug, own_id):
            raise Refused(_l("Another collaboration has this web address."), "slug")
    domains = []
    if plan.domain_ids:
        domains = list(db.session.scalars(sa.select(Domain).where(Domain.id.in_(plan.domain_ids))))
        if len(domains) != len(set(plan.domain_ids)):
            raise Refused(_l("Please choose domains from the list."), "domains")
    if collaboration is None:
        collaboration = Collaboration()
    else:
        _refuse_dates_leaving_things_out(collaboration, plan.starts_on, plan.ends_on)
    if plan.slug:
        collaboration.slug = plan.slug
    elif not collaboration.slug:
        collaboration.slug = free_slug(
            Collaboration.slug, plan.title, SLUG_MAX_LENGTH, "samenwerking"
        )
    collaboration.title = plan.title
    collaboration.kind = plan.kind
    collaboration.status = plan.status
    collaboration.goal = plan.goal
    collaboration.starts_on = plan.starts_on
    collaboration.ends_on = plan.ends_on
    collaboration.domains = sorted(domains, key=lambda domain: (domain.position, domain.id))
    collaboration.touch()
    db.session.add(collaboration)
    db.session.flush()
    return collaboration


def publish(collaboration: Collaboration, now: datetime | None = None) -> None:
    """Put the collaboration in the public register. Refuses one without parties, and
    one that is published already."""
    if collaboration.is_published:
        raise Refused(_l("This collaboration is public already."))
    if not collaboration.parties:
        raise Refused(_l("Add at least one party before you publish the collaboration."))
    now = now or utcnow()
    collaboration.published_at = now
    collaboration.touch(now)
    db.session.flush()


def unpublish(collaboration: Collaboration) -> None:
    """Take the collaboration out of the public register (it stays here, as a draft).
    Refuses one that is not published."""
    if not collaboration.is_published:
        raise Refused(_l("This collaboration is not public."))
    collaboration.published_at = None
    collaboration.touch()
    db.session.flush()


# --- Parties -------------------------------------------------------------------------


def _account(email: str) -> User | None:
    """The account of the contact's e-mail address; None for an empty address. Refuses
    an address nobody has an account with."""
    if not email:
        return None
    return existing_user(email, "contact_email")


def add_party(
    collaboration: Collaboration,
    organisation: Organisation,
    contact_email: str = "",
    role: str = "",
    cost_key: int | None = None,
) -> CollaborationParty:
    """Add an organisation as a party, with its contact (an account, by e-mail; may be
    left empty: the contact is e-mailed), what it does, and its weight in a cost split
    by key.

    Refuses an organisation that is a party already, a contact without an account, and a
    key below 1."""
    if any(party.organisation_id == organisation.id for party in collaboration.parties):
        raise Refused(_l("This organisation is a party already."), "organisation")
    party = CollaborationParty(organisation=organisation)
    _fill_party(party, contact_email, role, cost_key)
    try:
        # Two people adding the same organisation at once: the second one is told.
        with db.session.begin_nested():
            collaboration.parties.append(party)
            db.session.flush()
    except IntegrityError:
        raise Refused(_l("This organisation is a party already."), "organisation") from None
    collaboration.touch()
    db.session.flush()
    _tell_new_contact(party, None)
    return party


def change_party(
    party: CollaborationParty, contact_email: str, role: str, cost_key: int | None
) -> CollaborationParty:
    """Change a party's contact, role and cost key. Refuses a contact without an account
    and a key below 1 (a cost already split keeps its shares: see the costs' pages)."""
    before = party.contact_user_id
    _fill_party(party, contact_email, role, cost_key)
    party.collaboration.touch()
    db.session.flush()
    _tell_new_contact(party, before)
    return party


def _tell_new_contact(party: CollaborationParty, before: int | None) -> None:
    """E-mail the party's contact, in their language, that they now are it (not when the
    contact stayed the same): where the collaboration is, and what a contact does."""
    contact = party.contact
    if contact is None or contact.id == before:
        return
    collaboration = party.collaboration
    queue_mail(
        contact.email,
        _l(
            "You are the contact of %(organisation)s in %(collaboration)s",
            organisation=party.organisation.title,
            collaboration=collaboration.title,
        ),
        "collaboration_contact",
        contact.locale or "nl",
        contact=contact,
        party=party,
        collaboration=collaboration,
        back_office_url=external_url(
            "manage_collaborations.show", collaboration_id=collaboration.id
        ),
    )


def _fill_party(party, contact_email: str, role: str, cost_key: int | None) -> None:
    if cost_key is not None and cost_key < 1:
        raise Refused(_l("A key is a whole number of at least 1."), "cost_key")
    party.contact = _account(contact_email)
    party.role = role
    party.cost_key = cost_key


def remove_party(party: CollaborationParty) -> None:
    """Take a party out of its collaboration. Refuses one that has commitments (they
    would silently go with it). Its shares of the costs go: each cost is split again over
    the parties that stay, as it was split (`collaboration_costs.party_leaves`, which
    refuses once anything is paid towards a cost, while the party is paying its share
    online, and, for a cost split by key, when a party that stays has no key); a cost
    that was the last party's alone goes with it. Flushes."""
    if any(commitment.party_id == party.id for commitment in party.collaboration.commitments):
        raise Refused(
            _l("%(name)s has commitments: remove those first.", name=party.organisation.title)
        )
    collaboration_costs.party_leaves(party)
    collaboration = party.collaboration
    collaboration.parties.remove(party)
    db.session.delete(party)
    collaboration.touch()
    db.session.flush()


# --- Events --------------------------------------------------------------------------


def linked_events(collaboration: Collaboration) -> list[Event]:
    """The events that are the collaboration's meetings and sessions, by start."""
    return list(
        db.session.scalars(
            sa.select(Event)
            .where(Event.collaboration_id == collaboration.id)
            .order_by(Event.starts_at, Event.id)
        )
    )


def linkable_events(collaboration: Collaboration, limit: int = 200) -> list[Event]:
    """Events staff may link: not linked to any collaboration yet, from a year before the
    start (or today) on, by start."""
    since = (collaboration.starts_on or today()) - timedelta(days=365)
    return list(
        db.session.scalars(
            sa.select(Event)
            .where(
                Event.collaboration_id.is_(None),
                Event.starts_at >= datetime.combine(since, time(0, 0), local_zone()),
            )
            .order_by(Event.starts_at, Event.id)
            .limit(limit)
        )
    )


def link_event(collaboration: Collaboration, event: Event) -> None:
    """Link an event (a meeting or co-creation session) to the collaboration. Refuses an
    event linked to another collaboration, or to this one already."""
    if event.collaboration_id == collaboration.id:
        raise Refused(_l("This event is linked already."), "event")
    if event.collaboration_id is not None:
        raise Refused(_l("This event belongs to another collaboration."), "event")
    event.collaboration_id = collaboration.id
    collaboration.touch()
    db.session.flush()


def unlink_event(collaboration: Collaboration, event: Event) -> None:
    """Take the link between an event and the collaboration away (the event stays)."""
    event.collaboration_id = None
    collaboration.touch()
    db.session.flush()


# --- Programme staff -----------------------------------------------------------------


def make_programme_staff(email: str) -> User:
    """Give the account with this e-mail address the programme-staff role. Refuses an
    address without an account, and someone who has the role already."""
    user = existing_user(email)
    if user.is_programme_staff:
        raise Refused(_l("This person is programme staff already."), "email")
    user.is_programme_staff = True
    db.session.flush()
    return user


def end_programme_staff(user: User) -> None:
    """Take the programme-staff role away."""
    user.is_programme_staff = False
    db.session.flush()


def programme_staff() -> list[User]:
    """Everyone with the programme-staff role, by name."""
    return list(
        db.session.scalars(
            sa.select(User).where(User.is_programme_staff).order_by(User.name, User.email)
        )
    )
