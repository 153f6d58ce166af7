"""The back office of the collaborations with the city: programme staff make and change
a collaboration, its parties and commitments, publish it and link its events; a party's
contact (or staff) records progress on the party's commitments.

Who may do what is said once in `services.partners`; this module holds the workflows and
what they refuse. Every change the public can follow (details, parties, commitments,
progress, publishing, events) sets `Collaboration.updated_at`, which the register and its
feeds show. Services flush; the views commit.

Where the issue is silent:
- a commitment's due date lies inside the collaboration's dates where they are given, and
  a change of those dates that would put a commitment's due date or a progress update
  outside them is refused, saying which;
- a measurable target needs both a baseline and a target, and they differ (else there is
  no way to go);
- a value is only recorded on a measurable commitment; an update needs a value or a note;
- a party with commitments or a share in a cost is not removed (remove those first), so
  no promise or money silently disappears;
- publishing needs at least one party: a register entry says who works together.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..i18n import local_zone
from ..models import (
    Collaboration,
    CollaborationKind,
    CollaborationParty,
    CollaborationStatus,
    Commitment,
    CostShare,
    Domain,
    Event,
    Organisation,
    ProgressUpdate,
    User,
    normalise_email,
    utcnow,
)
from ..refusals import Refused
from ..slugs import free_slug, slug_is_valid, slug_taken
from . import partners
from .register import today

SLUG_MAX_LENGTH = 80


def touch(collaboration: Collaboration, now: datetime | None = None) -> None:
    """Mark a change people can follow (the register's "updated", the feeds)."""
    collaboration.updated_at = now or utcnow()


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
    touch(collaboration)
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
    touch(collaboration, now)
    db.session.flush()


def unpublish(collaboration: Collaboration) -> None:
    """Take the collaboration out of the public register (it stays here, as a draft).
    Refuses one that is not published."""
    if not collaboration.is_published:
        raise Refused(_l("This collaboration is not public."))
    collaboration.published_at = None
    touch(collaboration)
    db.session.flush()


# --- Parties -------------------------------------------------------------------------


def _account(email: str) -> User | None:
    """The account of the contact's e-mail address; None for an empty address. Refuses
    an address nobody has an account with."""
    if not email:
        return None
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise Refused(
            _l("Nobody has an account with this e-mail address. Ask them to sign up first."),
            "contact_email",
        )
    return user


def add_party(
    collaboration: Collaboration,
    organisation: Organisation,
    contact_email: str = "",
    role: str = "",
    cost_key: int | None = None,
) -> CollaborationParty:
    """Add an organisation as a party, with its contact (an account, by e-mail; may be
    left empty), what it does, and its weight in a cost split by key.

    Refuses an organisation that is a party already, a contact without an account, and a
    key below 1."""
    if any(party.organisation_id == organisation.id for party in collaboration.parties):
        raise Refused(_l("This organisation is a party already."), "organisation")
    party = CollaborationParty(organisation=organisation)
    collaboration.parties.append(party)
    _fill_party(party, contact_email, role, cost_key)
    touch(collaboration)
    db.session.flush()
    return party


def change_party(
    party: CollaborationParty, contact_email: str, role: str, cost_key: int | None
) -> CollaborationParty:
    """Change a party's contact, role and cost key. Refuses a contact without an account
    and a key below 1 (a cost already split keeps its shares: see the costs' pages)."""
    _fill_party(party, contact_email, role, cost_key)
    touch(party.collaboration)
    db.session.flush()
    return party


def _fill_party(party, contact_email: str, role: str, cost_key: int | None) -> None:
    if cost_key is not None and cost_key < 1:
        raise Refused(_l("A key is a whole number of at least 1."), "cost_key")
    party.contact = _account(contact_email)
    party.role = role
    party.cost_key = cost_key


def remove_party(party: CollaborationParty) -> None:
    """Take a party out of its collaboration. Refuses one that has commitments or a share
    in a cost: they would silently go with it."""
    if any(commitment.party_id == party.id for commitment in party.collaboration.commitments):
        raise Refused(
            _l("%(name)s has commitments: remove those first.", name=party.organisation.title)
        )
    has_share = db.session.scalar(
        sa.select(sa.func.count(CostShare.id)).where(CostShare.party_id == party.id)
    )
    if has_share:
        raise Refused(
            _l(
                "%(name)s has a share in a cost: change the cost first.",
                name=party.organisation.title,
            )
        )
    collaboration = party.collaboration
    collaboration.parties.remove(party)
    db.session.delete(party)
    touch(collaboration)
    db.session.flush()


# --- Commitments ---------------------------------------------------------------------


@dataclass
class CommitmentPlan:
    """A commitment as programme staff write it: a party's promise, measurable where a
    baseline and a target are given."""

    party_id: int
    title: str
    description: str = ""
    baseline: float | None = None
    target: float | None = None
    unit: str = ""
    due_on: date | None = None


def save_commitment(
    collaboration: Collaboration, plan: CommitmentPlan, commitment: Commitment | None = None
) -> Commitment:
    """Add a commitment to the collaboration, or change one.

    Refuses a party that is not one of this collaboration's, a baseline without a target
    (or the other way round), a target equal to its baseline, and a due date outside the
    collaboration's start and end (where they are given)."""
    party = next((p for p in collaboration.parties if p.id == plan.party_id), None)
    if party is None:
        raise Refused(_l("Please choose one of this collaboration’s parties."), "party")
    if (plan.baseline is None) != (plan.target is None):
        missing = "target" if plan.target is None else "baseline"
        raise Refused(
            _l(
                "A measurable target needs both a starting value and a target; or leave both empty."
            ),
            missing,
        )
    if plan.baseline is not None and plan.baseline == plan.target:
        raise Refused(_l("The target must differ from the starting value."), "target")
    if plan.due_on is not None:
        if collaboration.starts_on and plan.due_on < collaboration.starts_on:
            raise Refused(
                _l(
                    "The due date cannot be before the collaboration starts (%(day)s).",
                    day=collaboration.starts_on.isoformat(),
                ),
                "due_on",
            )
        if collaboration.ends_on and plan.due_on > collaboration.ends_on:
            raise Refused(
                _l(
                    "The due date cannot be after the collaboration ends (%(day)s).",
                    day=collaboration.ends_on.isoformat(),
                ),
                "due_on",
            )
    if commitment is None:
        commitment = Commitment(
            position=max((c.position for c in collaboration.commitments), default=0) + 1
        )
        collaboration.commitments.append(commitment)
    commitment.party = party
    for name in ("title", "description", "baseline", "target", "unit", "due_on"):
        setattr(commitment, name, getattr(plan, name))
    touch(collaboration)
    db.session.flush()
    return commitment


def remove_commitment(commitment: Commitment) -> None:
    """Take a commitment and its progress updates away."""
    collaboration = commitment.collaboration
    collaboration.commitments.remove(commitment)
    db.session.delete(commitment)
    touch(collaboration)
    db.session.flush()


# --- Progress ------------------------------------------------------------------------


@dataclass
class ProgressPlan:
    """A progress update as its author writes it."""

    on: date
    value: float | None = None
    note: str = ""
    link: str = ""


def _refuse_bad_link(link: str) -> None:
    parts = urlsplit(link)
    try:
        parts.port  # noqa: B018 - raises on a port that is no number
    except ValueError:
        parts = parts._replace(netloc="")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(_l("Please give a web address that starts with https://."), "link")


def record_progress(
    commitment: Commitment, author: User, plan: ProgressPlan, now: datetime | None = None
) -> ProgressUpdate:
    """Record a step on a commitment: by the contact of the party that made it, or by
    programme staff (`partners.may_record_progress`).

    Refuses anyone else, an update with neither value nor note, a value on a commitment
    without a measurable target, a date before the collaboration starts or after today,
    and a link that is not an http(s) web address."""
    if not partners.may_record_progress(author, commitment):
        raise Refused(
            _l(
                "Only the contact of %(name)s records progress on this commitment.",
                name=commitment.party.organisation.title,
            )
        )
    if plan.value is None and not plan.note:
        raise Refused(_l("Please give a value or write a note."), "note")
    if plan.value is not None and not commitment.is_measurable:
        raise Refused(
            _l("This commitment has no measurable target: write a note instead."), "value"
        )
    collaboration = commitment.collaboration
    if collaboration.starts_on and plan.on < collaboration.starts_on:
        raise Refused(
            _l(
                "The date cannot be before the collaboration starts (%(day)s).",
                day=collaboration.starts_on.isoformat(),
            ),
            "on",
        )
    if plan.on > today(now):
        raise Refused(_l("The date cannot be in the future."), "on")
    if plan.link:
        _refuse_bad_link(plan.link)
    update = ProgressUpdate(
        on=plan.on, value=plan.value, note=plan.note, link=plan.link, author_id=author.id
    )
    commitment.updates.append(update)
    touch(collaboration, now)
    db.session.flush()
    return update


def remove_progress(update: ProgressUpdate) -> None:
    """Take a progress update away (programme staff moderate)."""
    commitment = update.commitment
    commitment.updates.remove(update)
    db.session.delete(update)
    touch(commitment.collaboration)
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
    touch(collaboration)
    db.session.flush()


def unlink_event(collaboration: Collaboration, event: Event) -> None:
    """Take the link between an event and the collaboration away (the event stays)."""
    event.collaboration_id = None
    touch(collaboration)
    db.session.flush()


# --- Programme staff -----------------------------------------------------------------


def make_programme_staff(email: str) -> User:
    """Give the account with this e-mail address the programme-staff role. Refuses an
    address without an account, and someone who has the role already."""
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise Refused(
            _l("Nobody has an account with this e-mail address. Ask them to sign up first."),
            "email",
        )
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
