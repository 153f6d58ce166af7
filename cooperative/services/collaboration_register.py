"""The public register of collaborations with the city: its filters and the one query
behind the list page (`/collaborations`), its Atom feed and the API
(`/api/v1/collaborations`), and one collaboration with everything its page shows.

Only published collaborations are listed, counted, searched and fed (the rule is
`partners.public_collaborations`). A party's contact person is never shown: the public
sees organisations, their roles, the commitments and their progress, linked events and
the shared costs (total, split, each party's share, paid, due). Every function here runs
a fixed number of queries, whatever the number of collaborations, parties and updates.
"""

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import (
    Collaboration,
    CollaborationKind,
    CollaborationParty,
    CollaborationStatus,
    Commitment,
    Domain,
    Event,
    EventStatus,
    Organisation,
    ProgressUpdate,
    SharedCost,
)
from ..models.collaborations import collaboration_domains
from .event_list import ListFilters, every_word_in
from .partners import public_collaborations

PAGE_SIZE = 20
PAGE_MAX = 100
# The newest progress updates a feed carries.
FEED_SIZE = 50
SEARCHED_COLUMNS = (Collaboration.title, Collaboration.goal)
KINDS = tuple(kind.value for kind in CollaborationKind)
STATUSES = tuple(status.value for status in CollaborationStatus)


@dataclass(frozen=True)
class CollaborationFilters(ListFilters):
    """What was asked of the register: `?kind=&domain=&status=&organisation=&q=&page=`.

    Empty means "any". Read from the query string by `forms.filters.CollaborationFilterForm`,
    tidied but kept, so an unknown value finds nothing and the page can say why. `page`
    is the page of the list (`page_number`).
    """

    kind: str = ""
    domain: str = ""
    status: str = ""
    organisation: str = ""
    q: str = ""
    page: int = 1


def _matching(filters: CollaborationFilters) -> sa.Select:
    """The published collaborations that match `filters`, as a select of them:

    - kind and status: exactly that value (an unknown one finds nothing);
    - domain: the slug of one of its domains;
    - organisation: the slug of one of its parties' organisations (a collective's
      organisation has its own slug, as the list offers it);
    - q: every word is in the title or goal, in any case (ILIKE on PostgreSQL; on SQLite
      LIKE, which ignores the case of A-Z only).
    """
    query = public_collaborations()
    # An unknown kind or status is no value of its column's type: it finds nothing.
    if filters.kind:
        known = filters.kind in KINDS
        query = query.where(Collaboration.kind == filters.kind if known else sa.false())
    if filters.status:
        known = filters.status in STATUSES
        query = query.where(Collaboration.status == filters.status if known else sa.false())
    if filters.domain:
        query = query.where(Collaboration.domains.any(Domain.slug == filters.domain))
    if filters.organisation:
        query = query.where(
            Collaboration.parties.any(
                CollaborationParty.organisation.has(Organisation.slug == filters.organisation)
            )
        )
    return query.where(*every_word_in(filters.q, SEARCHED_COLUMNS))


def _with_parties() -> tuple:
    """Loader options for a card: domains, parties with their organisations' names."""
    organisation = so.selectinload(Collaboration.parties).selectinload(
        CollaborationParty.organisation
    )
    return (
        so.selectinload(Collaboration.domains),
        organisation.selectinload(Organisation.collective),
        organisation.selectinload(Organisation.parent),
    )


def count_collaborations(filters: CollaborationFilters) -> int:
    """How many published collaborations match `filters` (all pages together)."""
    matching = _matching(filters).with_only_columns(Collaboration.id).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(matching))


def find_collaborations(
    filters: CollaborationFilters, offset: int, limit: int
) -> list[Collaboration]:
    """Published collaborations matching `filters`, the last changed first, with their
    domains and parties loaded. Four queries."""
    return list(
        db.session.scalars(
            _matching(filters)
            .options(*_with_parties())
            .order_by(Collaboration.updated_at.desc(), Collaboration.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )


def collaboration_domains_in_use() -> list[Domain]:
    """The domains of published collaborations, in the cooperative's order: what the
    domain filter offers."""
    return list(
        db.session.scalars(
            sa.select(Domain)
            .where(
                Domain.id.in_(
                    sa.select(collaboration_domains.c.domain_id).where(
                        collaboration_domains.c.collaboration_id.in_(
                            public_collaborations().with_only_columns(Collaboration.id)
                        )
                    )
                )
            )
            .order_by(Domain.position, Domain.id)
        )
    )


def organisations_in_use() -> list[Organisation]:
    """The organisations that are a party to a published collaboration, by name: what
    the organisation filter offers. Three queries."""
    organisations = db.session.scalars(
        sa.select(Organisation)
        .where(
            Organisation.id.in_(
                sa.select(CollaborationParty.organisation_id).where(
                    CollaborationParty.collaboration_id.in_(
                        public_collaborations().with_only_columns(Collaboration.id)
                    )
                )
            )
        )
        .options(so.selectinload(Organisation.collective), so.selectinload(Organisation.parent))
    )
    return sorted(organisations, key=lambda organisation: organisation.title.casefold())


def unknown_filters(filters: CollaborationFilters, domains, organisations) -> list:
    """Why the filters may find nothing: the values this register does not know."""
    reasons = []
    if filters.kind and filters.kind not in KINDS:
        reasons.append(
            _l("There is no kind of collaboration called “%(name)s”.", name=filters.kind)
        )
    if filters.status and filters.status not in STATUSES:
        reasons.append(_l("There is no status called “%(name)s”.", name=filters.status))
    if filters.domain and filters.domain not in {domain.slug for domain in domains}:
        reasons.append(
            _l(
                "No published collaboration works in a domain called “%(slug)s”.",
                slug=filters.domain,
            )
        )
    if filters.organisation and filters.organisation not in {o.slug for o in organisations}:
        reasons.append(
            _l(
                "No organisation called “%(slug)s” takes part in a published collaboration.",
                slug=filters.organisation,
            )
        )
    return reasons


# --- One collaboration ---------------------------------------------------------------------


def collaboration_by_slug(slug: str) -> Collaboration | None:
    """The collaboration with this slug, published or not, with what its page shows
    loaded: domains, parties, commitments with their party and updates, costs with their
    shares. The caller decides who may see a draft (`partners.may_see_collaboration`)."""
    commitments = so.selectinload(Collaboration.commitments)
    costs = so.selectinload(Collaboration.costs)
    return db.session.scalar(
        sa.select(Collaboration)
        .where(Collaboration.slug == slug)
        .options(
            *_with_parties(),
            commitments.selectinload(Commitment.updates),
            costs.selectinload(SharedCost.shares),
        )
    )


def linked_events(collaboration: Collaboration) -> list[Event]:
    """The collaboration's meetings and co-creation sessions that are public (published
    or cancelled), in time order."""
    return list(
        db.session.scalars(
            sa.select(Event)
            .where(
                Event.collaboration_id == collaboration.id,
                Event.status != EventStatus.DRAFT,
            )
            .order_by(Event.starts_at, Event.id)
        )
    )


def timeline(collaboration: Collaboration) -> list[ProgressUpdate]:
    """Every progress update of the collaboration, the newest first (by its date, then
    as recorded). Needs the commitments and their updates loaded; no query."""
    updates = [update for commitment in collaboration.commitments for update in commitment.updates]
    return sorted(updates, key=lambda update: (update.on, update.id), reverse=True)


def cost_totals(cost: SharedCost) -> tuple[int, int]:
    """What has been paid of `cost` and what is still due, in cents, over its shares."""
    paid = sum(share.paid_cents for share in cost.shares)
    due = sum(share.due_cents for share in cost.shares)
    return paid, due


# --- Feeds ---------------------------------------------------------------------------------


def feed_updates(
    filters: CollaborationFilters | None = None, collaboration: Collaboration | None = None
) -> list[ProgressUpdate]:
    """The newest FEED_SIZE progress updates, as recorded, of the published collaborations
    matching `filters`, or of `collaboration` alone; with each one's commitment, party
    and collaboration loaded. Four queries."""
    query = sa.select(ProgressUpdate).join(ProgressUpdate.commitment)
    if collaboration is not None:
        query = query.where(Commitment.collaboration_id == collaboration.id)
    else:
        matching = _matching(filters or CollaborationFilters()).with_only_columns(Collaboration.id)
        query = query.where(Commitment.collaboration_id.in_(matching))
    commitment = so.joinedload(ProgressUpdate.commitment)
    party = commitment.joinedload(Commitment.party).joinedload(CollaborationParty.organisation)
    return list(
        db.session.scalars(
            query.options(
                commitment.joinedload(Commitment.collaboration),
                party.selectinload(Organisation.collective),
                party.selectinload(Organisation.parent),
            )
            .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc())
            .limit(FEED_SIZE)
        )
    )
