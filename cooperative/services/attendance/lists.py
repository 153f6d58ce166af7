"""The attendance list: the parties of an event with their people, what they paid and who
checked them in, narrowed by the filters, a page at a time or all of it (CSV, print).

The list runs a fixed number of queries however many people come.
"""

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from ...extensions import db
from ...models import (
    HOLDING,
    Attendee,
    Event,
    Payment,
    PaymentProvider,
    PaymentStatus,
    Registration,
    RegistrationStatus,
    User,
)
from ..event_list import QUERY_MAX_WORDS
from .filters import PAGE_SIZE, AttendanceFilters
from .tickets import parse_ticket, ticket_matches


# Remembered: the list sorts every matching party by name on every request and poll.
@lru_cache(maxsize=8192)
def name_key(name: str) -> tuple[str, str]:
    """Sort names as people read them: case and accents aside (`Émile` beside `Emma`)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return plain.casefold().strip(), name


@dataclass
class PartyRow:
    """One party on the attendance list: its registration, the people shown, what it
    paid online and at the door (net of refunds), and the names of who checked them in."""

    registration: Registration
    attendees: list[Attendee]
    paid_online_cents: int = 0
    paid_at_door_cents: int = 0
    checkers: dict[int, str] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.registration.id

    @property
    def has_place(self) -> bool:
        return self.registration.status in HOLDING

    @property
    def to_check_in(self) -> list[Attendee]:
        if not self.has_place:
            return []
        return [a for a in self.attendees if a.checked_in_at is None and a.cancelled_at is None]

    @property
    def all_checked_in(self) -> bool:
        return self.has_place and bool(self.attendees) and not self.to_check_in

    @property
    def open_cents(self) -> int:
        return self.registration.amount_open_cents if self.has_place else 0

    @property
    def pays_at_door(self) -> bool:
        """Whether a door payment can be taken now: confirmed, with money still open."""
        return self.registration.status == RegistrationStatus.CONFIRMED and self.open_cents > 0

    @property
    def can_refund(self) -> bool:
        """Whether an organiser can cancel the party and refund what it paid online."""
        return (
            self.paid_online_cents > 0
            and self.registration.status != RegistrationStatus.CANCELLED
            and self.registration.can_change()
        )

    def checked_in_by(self, attendee: Attendee) -> str:
        return self.checkers.get(attendee.checked_in_by_id or 0, "")

    def person(self, attendee_id: int) -> Attendee | None:
        """The party's person `attendee_id`, also when their place is cancelled."""
        return next((a for a in self.registration.attendees if a.id == attendee_id), None)


def _search(query: sa.Select, words: list[str]) -> sa.Select:
    """Every word must be in the contact's name or e-mail address, in a person's name, or
    be (the start of) one of the party's ticket codes."""
    for word in words[:QUERY_MAX_WORDS]:
        person = Attendee.name.icontains(word, autoescape=True)
        ticket = parse_ticket(word)
        if ticket is not None:
            person = sa.or_(person, ticket_matches(ticket))
        query = query.where(
            sa.or_(
                Registration.contact_name.icontains(word, autoescape=True),
                Registration.contact_email.icontains(word, autoescape=True),
                Registration.attendees.any(person),
            )
        )
    return query


def _shown(query: sa.Select, show: str) -> sa.Select:
    active = Attendee.cancelled_at.is_(None)
    if show == "waiting":
        return query.where(Registration.status == RegistrationStatus.WAITLISTED)
    if show == "cancelled":
        return query.where(Registration.status == RegistrationStatus.CANCELLED)
    query = query.where(Registration.status.in_(HOLDING))
    if show == "todo":
        query = query.where(
            Registration.attendees.any(sa.and_(active, Attendee.checked_in_at.is_(None)))
        )
    elif show == "meal":
        query = query.where(
            Registration.attendees.any(sa.and_(active, Attendee.meal_option_id.is_not(None)))
        )
    elif show == "unpaid":
        query = query.where(Registration.amount_due_cents > Registration.amount_paid_cents)
    return query


def _matching(query: sa.Select, event: Event, filters: AttendanceFilters) -> sa.Select:
    """`query` narrowed to the parties of `event` that match `filters` (not to a page)."""
    query = _shown(query.where(Registration.event_id == event.id), filters.show)
    return _search(query, filters.q.split())


def _paid_cents(provider: str):
    """What the party of the row paid through `provider`, net of refunds."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(Payment.amount_cents - Payment.refunded_cents), 0))
        .where(
            Payment.registration_id == Registration.id,
            Payment.provider == provider,
            Payment.status.in_((PaymentStatus.PAID, PaymentStatus.REFUNDED)),
        )
        .correlate(Registration)
        .scalar_subquery()
    )


@lru_cache(maxsize=1)
def _rows_query() -> sa.Select:
    """The parties of the event in the parameter `event_id` with their people, one row per
    person: who checked them in, and what the party paid online and at the door. Narrow
    it with `.where()`. Built once: the door asks for a party's row at every tap."""
    checker = sa.orm.aliased(User)
    return (
        sa.select(
            Registration,
            Attendee,
            checker.name,
            _paid_cents(PaymentProvider.STRIPE),
            _paid_cents(PaymentProvider.DOOR),
        )
        .outerjoin(Attendee, Attendee.registration_id == Registration.id)
        .outerjoin(checker, checker.id == Attendee.checked_in_by_id)
        .where(Registration.event_id == sa.bindparam("event_id", type_=sa.Integer))
        .order_by(Registration.id, Attendee.id)
        # Fresh from the database, also for objects the session holds from before an
        # action's UPDATE (which does not touch them).
        .execution_options(populate_existing=True)
    )


@lru_cache(maxsize=2)
def _party_query(of_person: bool) -> sa.Select:
    """`_rows_query()` for one party: `registration_id`, or (`of_person`) the party of the
    person `attendee_id`."""
    if of_person:
        person = sa.orm.aliased(Attendee)
        party = (
            sa.select(person.registration_id)
            .where(person.id == sa.bindparam("attendee_id", type_=sa.Integer))
            .scalar_subquery()
        )
    else:
        party = sa.bindparam("registration_id", type_=sa.Integer)
    return _rows_query().where(Registration.id == party)


def _rows(event: Event, query: sa.Select, **parameters) -> list[PartyRow]:
    """Party rows of `event` from `_rows_query()` (narrowed), in that one statement
    (unsorted)."""
    rows: dict[int, PartyRow] = {}
    everyone: dict[int, list[Attendee]] = {}
    found = db.session.execute(query, {"event_id": event.id, **parameters})
    for registration, person, checker_name, online, door in found:
        row = rows.get(registration.id)
        if row is None:
            row = rows[registration.id] = PartyRow(
                registration, [], int(online or 0), int(door or 0)
            )
            everyone[registration.id] = []
        if person is not None:
            everyone[registration.id].append(person)
            if checker_name is not None:
                row.checkers[person.checked_in_by_id] = checker_name
    for row in rows.values():
        people_of_party = everyone[row.id]
        # The party's people are all loaded: `registration.attendees` needs no query.
        set_committed_value(row.registration, "attendees", people_of_party)
        row.attendees = (
            people_of_party
            if row.registration.status == RegistrationStatus.CANCELLED
            else [person for person in people_of_party if person.cancelled_at is None]
        )
    return list(rows.values())


def _party_order(row: PartyRow) -> tuple:
    return name_key(row.registration.contact_name), row.id


def party_rows(event: Event, filters: AttendanceFilters) -> list[PartyRow]:
    """Every party of `event` that matches `filters` (all pages: for the CSV file and the
    printed list), sorted by the contact's name.

    Without `show`, the parties with a place (confirmed or paying online); `todo`: those
    with someone not checked in yet; `meal`: with someone who eats; `unpaid`: with money
    still open; `waiting`: the waiting list; `cancelled`: cancelled parties. One query,
    however many parties there are.
    """
    rows = _rows(event, _matching(_rows_query(), event, filters))
    rows.sort(key=_party_order)
    return rows


@dataclass
class PartyPage:
    """One page of the list: its rows, which page of how many it is, and how many parties
    and people match the filters on all pages together."""

    rows: list[PartyRow]
    number: int
    count: int
    parties: int
    people: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count


def _sorted_matching(event: Event, filters: AttendanceFilters) -> list[sa.Row]:
    """(id, contact name, people shown) of every party that matches `filters`, in the
    list's order: one light query, sorted here by name as people read them (which the
    database cannot do)."""
    shown = sa.orm.aliased(Attendee)
    people_count = (
        sa.select(sa.func.count(shown.id))
        .where(
            shown.registration_id == Registration.id,
            # The list shows the cancelled people of a cancelled party, and only those
            # who still come of any other.
            sa.or_(
                Registration.status == RegistrationStatus.CANCELLED,
                shown.cancelled_at.is_(None),
            ),
        )
        .correlate(Registration)
        .scalar_subquery()
        .label("people")
    )
    # Core rows, not the ORM's: for 1,500 parties its row machinery costs more than the query.
    matching = (
        db.session.connection()
        .execute(
            _matching(
                sa.select(Registration.id, Registration.contact_name, people_count),
                event,
                filters,
            )
        )
        .all()
    )
    matching.sort(key=lambda party: (name_key(party.contact_name), party.id))
    return matching


def party_page(event: Event, filters: AttendanceFilters) -> PartyPage:
    """Page `filters.page` of `party_rows(event, filters)` (PAGE_SIZE parties), or the last
    page when there are fewer; with the totals of all pages. Two queries, however many
    parties: the matching parties' ids, names and number of people, then the page's rows.
    """
    matching = _sorted_matching(event, filters)
    count = max(1, -(-len(matching) // PAGE_SIZE))
    number = min(filters.page, count)
    on_page = [party.id for party in matching[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]]
    rows = _rows(event, _rows_query().where(Registration.id.in_(on_page))) if on_page else []
    place = {registration_id: index for index, registration_id in enumerate(on_page)}
    rows.sort(key=lambda row: place[row.id])
    return PartyPage(
        rows=rows,
        number=number,
        count=count,
        parties=len(matching),
        people=sum(party.people for party in matching),
    )


def page_of(event: Event, filters: AttendanceFilters, registration_id: int) -> int | None:
    """The page of the list (with `filters`) the party `registration_id` is on, or None
    when it does not match them."""
    for index, party in enumerate(_sorted_matching(event, filters)):
        if party.id == registration_id:
            return index // PAGE_SIZE + 1
    return None


def party_row(
    event: Event, registration_id: int | None = None, *, attendee_id: int | None = None
) -> PartyRow | None:
    """The party `registration_id` of `event` (or the party of its person `attendee_id`)
    as the list shows it, after an action; None when the event has no such party. One query.
    """
    if attendee_id is not None:
        rows = _rows(event, _party_query(of_person=True), attendee_id=attendee_id)
    else:
        rows = _rows(event, _party_query(of_person=False), registration_id=registration_id)
    return rows[0] if rows else None


@dataclass
class PersonRow:
    """One person for the printed list and the CSV file, with their party."""

    attendee: Attendee
    party: PartyRow


def people(rows: list[PartyRow]) -> list[PersonRow]:
    """Every person of the parties, one per row, sorted by their own name."""
    result = [PersonRow(attendee, row) for row in rows for attendee in row.attendees]
    result.sort(key=lambda person: (name_key(person.attendee.name), person.attendee.id))
    return result
