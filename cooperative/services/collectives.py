"""The directory of collectives: finding them, their events, editing and roles.

Only published collectives are listed, counted and searched, for everyone (admins too: they
find the drafts in the admin pages). Every function here runs a fixed number of queries,
whatever the number of collectives and events: the directory, the home page and the API
rely on that.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import (
    Collective,
    CollectiveRole,
    Domain,
    Event,
    EventStatus,
    utcnow,
)
from ..refusals import Refused
from ..slugs import free_slug, slug_taken
from .accounts import existing_user
from .details import copy_details
from .event_list import ListFilters, every_word_in

PAGE_SIZE = 24
PAGE_MAX = 100
PAST_EVENTS_SHOWN = 10
FEED_PAST_EVENTS = 50
SLUG_MAX_LENGTH = 80
SEARCHED_COLUMNS = (
    Collective.name,
    Collective.summary,
    Collective.description,
    Collective.neighbourhood,
)
# --- Finding collectives -------------------------------------------------------------------


@dataclass(frozen=True)
class CollectiveFilters(ListFilters):
    """What a person asked the directory for: `?domain=&neighbourhood=&q=&page=`.

    Empty means "any". Read from the query string by `forms.filters.CollectiveFilterForm`,
    values tidied but kept (an unknown domain or neighbourhood finds nothing and the page
    can say why). `page` is how many pages of cards are shown (the "more" button adds one),
    read by `page_number`.
    """

    domain: str = ""
    neighbourhood: str = ""
    q: str = ""
    page: int = 1


def domain_membership() -> sa.Subquery:
    """(collective_id, domain_id) for each domain a collective works in: its primary domain
    and its other domains, each pair once."""
    from ..models.collectives import collective_domains

    return sa.union(
        sa.select(
            Collective.id.label("collective_id"), Collective.primary_domain_id.label("domain_id")
        ),
        sa.select(
            collective_domains.c.collective_id.label("collective_id"),
            collective_domains.c.domain_id.label("domain_id"),
        ),
    ).subquery("domain_membership")


def _matching(filters: CollectiveFilters, with_domain: bool = True) -> list:
    """The WHERE clauses for published collectives that match `filters`.

    - domain: the slug of the primary domain or of another domain of the collective;
    - neighbourhood: exactly the neighbourhood (as the list offers them);
    - q: every word appears in the name, summary, description or neighbourhood, in any case
      (ILIKE on PostgreSQL; on SQLite LIKE, which ignores the case of A-Z only).
    """
    clauses = [Collective.is_published]
    if with_domain and filters.domain:
        clauses.append(Collective.in_domain(filters.domain))
    if filters.neighbourhood:
        clauses.append(Collective.neighbourhood == filters.neighbourhood)
    clauses.extend(every_word_in(filters.q, SEARCHED_COLUMNS))
    return clauses


def count_collectives(filters: CollectiveFilters) -> int:
    """How many published collectives match `filters` (all pages together)."""
    return db.session.scalar(sa.select(sa.func.count(Collective.id)).where(*_matching(filters)))


def find_collectives(filters: CollectiveFilters, offset: int, limit: int) -> list[Collective]:
    """Published collectives matching `filters`, by name, with their domains loaded."""
    return list(
        db.session.scalars(
            sa.select(Collective)
            .where(*_matching(filters))
            .options(
                sa.orm.joinedload(Collective.primary_domain),
                sa.orm.selectinload(Collective.domains),
            )
            .order_by(Collective.name, Collective.id)
            .offset(offset)
            .limit(limit)
        )
    )


def all_domains() -> list[Domain]:
    """Every domain in the order the cooperative gave them."""
    return list(db.session.scalars(sa.select(Domain).order_by(Domain.position, Domain.id)))


def domain_counts(filters: CollectiveFilters) -> dict[int, int]:
    """Per domain id, how many published collectives work in it and match the other filters
    (neighbourhood and text): the number a domain chip shows. One query."""
    membership = domain_membership()
    rows = db.session.execute(
        sa.select(membership.c.domain_id, sa.func.count(membership.c.collective_id))
        .join(Collective, Collective.id == membership.c.collective_id)
        .where(*_matching(filters, with_domain=False))
        .group_by(membership.c.domain_id)
    )
    return {domain_id: count for domain_id, count in rows}


def neighbourhoods() -> list[str]:
    """The neighbourhoods of the published collectives, in alphabetical order."""
    return list(
        db.session.scalars(
            sa.select(Collective.neighbourhood)
            .where(Collective.is_published, Collective.neighbourhood != "")
            .distinct()
            .order_by(Collective.neighbourhood)
        )
    )


def unknown_filters(filters: CollectiveFilters, domains, known_neighbourhoods) -> list:
    """Why the filters may find nothing: the values this directory does not know."""
    reasons = []
    if filters.domain and filters.domain not in {d.slug for d in domains}:
        reasons.append(_l("There is no domain called “%(slug)s”.", slug=filters.domain))
    if filters.neighbourhood and filters.neighbourhood not in known_neighbourhoods:
        reasons.append(
            _l(
                "No collective in the directory works in a neighbourhood called “%(name)s”.",
                name=filters.neighbourhood,
            )
        )
    return reasons


def next_events(collective_ids, now: datetime | None = None) -> dict[int, Event]:
    """Per collective id, its next published event that has not ended. One query."""
    if not collective_ids:
        return {}
    now = now or utcnow()
    ranked = (
        sa.select(
            Event.id,
            sa.func.row_number()
            .over(partition_by=Event.collective_id, order_by=(Event.starts_at, Event.id))
            .label("rank"),
        )
        .where(
            Event.status == EventStatus.PUBLISHED,
            Event.ends_at >= now,
            Event.collective_id.in_(list(collective_ids)),
        )
        .subquery()
    )
    events = db.session.scalars(
        sa.select(Event).join(ranked, ranked.c.id == Event.id).where(ranked.c.rank == 1)
    )
    return {event.collective_id: event for event in events}


def card_domains(collective: Collective) -> list[Domain]:
    """The collective's primary domain first, then its others in the cooperative's order."""
    others = sorted(
        (d for d in collective.domains if d.id != collective.primary_domain_id),
        key=lambda d: (d.position, d.id),
    )
    return [collective.primary_domain, *others]


@dataclass
class DomainSummary:
    """A domain with the number of published collectives in it and their upcoming events."""

    domain: Domain
    collectives: int
    upcoming_events: int


def domain_overview(now: datetime | None = None) -> list[DomainSummary]:
    """Every domain with its published collectives and their upcoming published events
    counted (an event counts once per domain its host works in). Three queries."""
    now = now or utcnow()
    domains = all_domains()
    collective_counts = domain_counts(CollectiveFilters())
    membership = domain_membership()
    event_counts = {
        domain_id: count
        for domain_id, count in db.session.execute(
            sa.select(membership.c.domain_id, sa.func.count(sa.distinct(Event.id)))
            .join(Collective, Collective.id == membership.c.collective_id)
            .join(Event, Event.collective_id == Collective.id)
            .where(
                Collective.is_published,
                Event.status == EventStatus.PUBLISHED,
                Event.ends_at >= now,
            )
            .group_by(membership.c.domain_id)
        )
    }
    return [
        DomainSummary(d, collective_counts.get(d.id, 0), event_counts.get(d.id, 0)) for d in domains
    ]


# --- One collective --------------------------------------------------------------------------


def collective_by_slug(slug: str, include_drafts: bool = False) -> Collective | None:
    """The collective with this slug and its domains; a draft only when `include_drafts`."""
    query = (
        sa.select(Collective)
        .where(Collective.slug == slug)
        .options(
            sa.orm.joinedload(Collective.primary_domain), sa.orm.selectinload(Collective.domains)
        )
    )
    if not include_drafts:
        query = query.where(Collective.is_published)
    return db.session.scalar(query)


def upcoming_events(collective: Collective, now: datetime | None = None) -> list[Event]:
    """The collective's published events that have not ended, soonest first."""
    return list(db.session.scalars(Event.upcoming(now).where(Event.collective_id == collective.id)))


def past_events(
    collective: Collective, limit: int = PAST_EVENTS_SHOWN, now: datetime | None = None
) -> list[Event]:
    """The collective's published events that have ended, latest first, at most `limit`."""
    return list(
        db.session.scalars(
            sa.select(Event)
            .where(
                Event.collective_id == collective.id,
                Event.status == EventStatus.PUBLISHED,
                Event.ends_at < (now or utcnow()),
            )
            .order_by(Event.starts_at.desc(), Event.id.desc())
            .limit(limit)
        )
    )


def feed_events(collective: Collective, now: datetime | None = None) -> list[Event]:
    """The events for the collective's calendar feed: upcoming ones and recent past ones
    (published or cancelled, so a calendar learns of a cancellation), host loaded."""
    now = now or utcnow()
    upcoming = sa.select(Event.id).where(
        Event.collective_id == collective.id,
        Event.status != EventStatus.DRAFT,
        Event.ends_at >= now,
    )
    recent = (
        sa.select(Event.id)
        .where(
            Event.collective_id == collective.id,
            Event.status != EventStatus.DRAFT,
            Event.ends_at < now,
        )
        .order_by(Event.starts_at.desc())
        .limit(FEED_PAST_EVENTS)
    )
    return list(
        db.session.scalars(
            sa.select(Event)
            .where(sa.or_(Event.id.in_(upcoming), Event.id.in_(sa.select(recent.subquery().c.id))))
            .options(sa.orm.joinedload(Event.collective))
            .order_by(Event.starts_at, Event.id)
        )
    )


# --- Changing a collective -------------------------------------------------------------------


@dataclass
class CollectiveDetails:
    """What the collective's own people may change about it."""

    summary: str = ""
    description: str = ""
    legal_form: str = ""
    neighbourhood: str = ""
    website: str = ""
    contact_email: str = ""
    founded_year: int | None = None
    primary_domain_id: int | None = None
    other_domain_ids: tuple[int, ...] = ()


# The details `update_collective` copies as they are; the domains it checks first.
_COPIED_DETAILS = (
    "summary",
    "description",
    "legal_form",
    "neighbourhood",
    "website",
    "contact_email",
    "founded_year",
)


def collective_slug(name: str) -> str:
    """A slug made from `name` that no collective has yet (`-2`, `-3`... added)."""
    return free_slug(Collective.slug, name, SLUG_MAX_LENGTH, "collective")


def update_collective(collective: Collective, details: CollectiveDetails) -> Collective:
    """Change what the collective's people may change. Refuses an unknown domain."""
    domains = {d.id: d for d in all_domains()}
    primary = domains.get(details.primary_domain_id)
    if primary is None:
        raise Refused(_l("Please choose a domain from the list."), "primary_domain")
    copy_details(collective, details, _COPIED_DETAILS)
    collective.primary_domain = primary
    collective.domains = [
        domains[i] for i in details.other_domain_ids if i in domains and i != primary.id
    ]
    db.session.flush()
    return collective


def save_collective(
    collective: Collective | None, name: str, slug: str, details: CollectiveDetails
) -> Collective:
    """Create a draft collective (`collective` None) or rename one, with its details.

    An empty slug is made from the name. Refuses a slug another collective has.
    """
    collective_id = collective.id if collective is not None else None
    if slug:
        if slug_taken(Collective.slug, slug, collective_id):
            raise Refused(
                _l("Another collective already has this web address. Please choose another."),
                "slug",
            )
    else:
        slug = collective.slug if collective is not None else collective_slug(name)
    if collective is None:
        # Added only now: an earlier autoflush would insert it without its slug.
        collective = Collective(is_published=False)
        db.session.add(collective)
    collective.name = name
    collective.slug = slug
    with db.session.no_autoflush:
        return update_collective(collective, details)


def set_published(collective: Collective, published: bool) -> None:
    """Publish the collective (it shows in the directory, the API and feeds) or take it back."""
    collective.is_published = published
    db.session.flush()


def add_role(collective: Collective, email: str) -> CollectiveRole:
    """Give the person with this e-mail address a role in the collective.

    Refuses an address without an account, and a person who already has a role here.
    """
    user = existing_user(email)
    if any(role.user_id == user.id for role in collective.roles):
        raise Refused(_l("This person already has a role in this collective."), "email")
    role = CollectiveRole(collective=collective, user=user)
    db.session.add(role)
    db.session.flush()
    return role


def remove_role(role: CollectiveRole) -> None:
    """Take a person's role in a collective away."""
    db.session.delete(role)
    db.session.flush()
