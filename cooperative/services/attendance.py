"""At the door: the attendance list, its counters and kitchen summary, check-in and undo,
door payments, walk-ins, and messages from the organisers to the parties.

Check-in and undo are single conditional UPDATEs (`... WHERE checked_in_at IS NULL`), so two
volunteers tapping the same person at once record one check-in, and tapping twice is
harmless. Door payments and walk-ins lock the event (`lock_event`) and count afresh inside
the transaction, like registrations do. The list and the counters run a fixed number of
queries however many people come. The caller commits; these functions only flush.

Who checked someone in and when is kept on the attendee, and every check-in and undo also
as a `CheckInRecord` (the door's trail); who took a door payment is kept on the payment.
"""

import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property, lru_cache

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..i18n import current_locale, money
from ..models import (
    HOLDING,
    Attendee,
    CheckInRecord,
    Event,
    EventStatus,
    MealOption,
    OutboxMessage,
    Payment,
    PaymentProvider,
    PaymentState,
    PaymentStatus,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from . import audit
from .mail import external_url, queue_mail
from .registration import (
    PWYC_MAX_CENTS,
    RegistrationRefused,
    lock_event,
    meal_price,
    meals_taken,
    new_secret,
    seats_taken,
)

log = logging.getLogger(__name__)

# What the list can be narrowed to (`?show=`): "" is everyone with a place.
SHOW_CHOICES = ("", "todo", "meal", "unpaid", "waiting", "cancelled")
QUERY_MAX_LENGTH = 200
# How many parties a page of the list shows, as pretix's back office pages its orders: a
# phone at the door gets 50 parties, not 1,500. Export and print have every party.
PAGE_SIZE = 50
# A larger `?page=` is read as this (and then as the last page).
PAGE_MAX = 100_000
QUERY_MAX_WORDS = 10
# A ticket as typed or scanned: `<id>-<secret>` (at least its first 4 characters), alone or
# at the end of the ticket's address.
_TICKET_RE = re.compile(r"(?:.*/t/)?([0-9]{1,18})-([A-Za-z0-9_-]{4,64})/?")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# How many characters of the ticket's secret the short code shows.
SHORT_CODE_LENGTH = 6
# A message with the same subject to the same people within this time is a double click.
MESSAGE_REPEAT_WINDOW = timedelta(minutes=10)


class AttendanceRefused(Exception):
    """A rule refuses the action. `field` names the form field it is about (`event` for
    the event or party as a whole)."""

    def __init__(self, message, field: str = "event") -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


def _clean(value: str, limit: int) -> str:
    return " ".join(_CONTROL_CHARACTERS.sub(" ", value or "").split())[:limit]


# Remembered: the list sorts every matching party by name on every request and poll.
@lru_cache(maxsize=8192)
def name_key(name: str) -> tuple[str, str]:
    """Sort names as people read them: case and accents aside (`Émile` beside `Emma`)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return plain.casefold().strip(), name


def short_code(attendee: Attendee) -> str:
    """The ticket's code as printed for people to read out or type: `<id>-<6 characters>`."""
    return f"{attendee.id}-{attendee.ticket_code[:SHORT_CODE_LENGTH]}"


def _page_number(text: str) -> int:
    """`?page=` as a whole number from 1 to PAGE_MAX (a page past the end is the last
    page: party_page() knows where the end is); anything else is the first page."""
    digits = text.strip().lstrip("0")
    if not (digits.isascii() and digits.isdigit()):
        return 1
    return PAGE_MAX if len(digits) > len(str(PAGE_MAX)) else min(int(digits), PAGE_MAX)


@dataclass(frozen=True)
class AttendanceFilters:
    """What the list is narrowed to: `?q=` (words in a name, an e-mail address, or a ticket
    code) and `?show=` (one of SHOW_CHOICES), and which page of it is shown (`?page=`). An
    unknown `show` shows everyone; a `page` that is not a whole number is the first page."""

    q: str = ""
    show: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args) -> "AttendanceFilters":
        show = args.get("show", "")
        return cls(
            q=_clean(args.get("q", ""), QUERY_MAX_LENGTH),
            show=show if show in SHOW_CHOICES else "",
            page=_page_number(args.get("page") or ""),
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.show)

    def on_page(self, page: int) -> "AttendanceFilters":
        return replace(self, page=page)

    @cached_property
    def _args(self) -> dict[str, str]:
        args = {"q": self.q, "show": self.show, "page": str(self.page) if self.page > 1 else ""}
        return {name: value for name, value in args.items() if value}

    def as_args(self) -> dict[str, str]:
        """The filters that are set and the page (when not the first), for a link, a
        redirect or an action's hidden fields that come back to the same place. Made once:
        every action on the list carries them. Not to be changed."""
        return self._args

    def search_args(self) -> dict[str, str]:
        """The filters without the page: for the whole list (CSV, print) or another page."""
        return {name: value for name, value in self._args.items() if name != "page"}

    def page_args(self, page: int) -> dict[str, str]:
        """The filters, for a link to page `page` of the list."""
        return self.search_args() | ({"page": str(page)} if page > 1 else {})


def parse_ticket(text: str) -> tuple[int, str] | None:
    """(attendee id, start of the secret) from a typed code or a scanned ticket address."""
    match = _TICKET_RE.fullmatch((text or "").strip())
    return (int(match.group(1)), match.group(2)) if match else None


def _ticket_matches(ticket: tuple[int, str]):
    attendee_id, secret = ticket
    # The id finds the ticket; the characters after it only confirm it, so a code typed
    # with the wrong capitals on a phone still matches.
    return sa.and_(
        Attendee.id == attendee_id,
        sa.func.lower(sa.func.substr(Attendee.ticket_code, 1, len(secret))) == secret.lower(),
    )


def find_ticket(event: Event, code: str) -> Attendee | None:
    """The attendee of `event` whose ticket this typed or scanned code is, or None.

    Takes the whole ticket, its address, or its short code (`<id>-<first characters>`).
    Only organisers of the event use this, and they see the whole list anyway.
    """
    ticket = parse_ticket(code)
    if ticket is None:
        return None
    return db.session.scalar(
        sa.select(Attendee)
        .join(Registration, Attendee.registration_id == Registration.id)
        .where(Registration.event_id == event.id, _ticket_matches(ticket))
    )


# --- The list -----------------------------------------------------------------------------


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

    @cached_property
    def open_money(self) -> str:
        """What is still to pay, as the door's button says it."""
        return _money(self.open_cents)

    @cached_property
    def payment_words(self) -> str:
        return payment_words(self.registration, self.paid_online_cents, self.paid_at_door_cents)


@lru_cache(maxsize=1024)
def _money_in(cents: int, locale: str) -> str:
    return money(cents)


def _money(cents: int) -> str:
    """`money(cents)` in the current language, formatted once: a page of the list shows
    the same few amounts again and again, and babel takes its time over each."""
    return _money_in(cents, current_locale())


def payment_words(registration: Registration, online_cents: int, door_cents: int) -> str:
    """How a party stands with its money, in words: paid online, paid at the door, to pay
    at the door, paying online, refunded, or nothing to pay."""
    parts = []
    if registration.payment_state == PaymentState.REFUNDED:
        return str(_l("Refunded"))
    if online_cents:
        parts.append(str(_l("Paid online %(amount)s", amount=_money(online_cents))))
    if door_cents:
        parts.append(str(_l("Paid at the door %(amount)s", amount=_money(door_cents))))
    open_cents = registration.amount_open_cents
    if registration.status == RegistrationStatus.WAITLISTED:
        if open_cents:
            parts.append(
                str(_l("Pays %(amount)s when they get a place", amount=_money(open_cents)))
            )
    elif registration.status == RegistrationStatus.PENDING_PAYMENT:
        parts.append(str(_l("Paying online: %(amount)s not paid yet", amount=_money(open_cents))))
    elif registration.status == RegistrationStatus.CONFIRMED and open_cents:
        parts.append(str(_l("To pay at the door %(amount)s", amount=_money(open_cents))))
    return "; ".join(parts) or str(_l("Nothing to pay"))


def _search(query: sa.Select, words: list[str]) -> sa.Select:
    """Every word must be in the contact's name or e-mail address, in a person's name, or
    be (the start of) one of the party's ticket codes."""
    for word in words[:QUERY_MAX_WORDS]:
        person = Attendee.name.icontains(word, autoescape=True)
        ticket = parse_ticket(word)
        if ticket is not None:
            person = sa.or_(person, _ticket_matches(ticket))
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


# --- Counters and the kitchen summary -----------------------------------------------------


@dataclass
class MealCount:
    """How many of one meal to cook: in all, per combination of diets, and the notes."""

    option: MealOption
    count: int = 0
    diets: dict[tuple[str, ...], int] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (person, note)

    @property
    def diet_lines(self) -> list[tuple[tuple[str, ...], int]]:
        """(diets, count) with the special diets first, most wanted first; `()` last."""
        special = sorted(
            ((diets, count) for diets, count in self.diets.items() if diets),
            key=lambda item: (-item[1], item[0]),
        )
        plain = self.diets.get((), 0)
        return special + ([((), plain)] if plain else [])


@dataclass
class Summary:
    """The numbers at the top of the attendance list."""

    capacity: int | None
    parties: int = 0
    people: int = 0
    checked_in: int = 0
    waiting_parties: int = 0
    waiting_people: int = 0
    meals: list[MealCount] = field(default_factory=list)
    online_cents: int = 0
    door_cents: int = 0
    open_cents: int = 0


@lru_cache(maxsize=256)
def _diets_key(stored: str | None) -> tuple[str, ...]:
    """A person's diets as stored (JSON text), as a sorted tuple."""
    return tuple(sorted(json.loads(stored) if stored else []))


@lru_cache(maxsize=1)
def _summary_query() -> sa.Select:
    """The statement behind summary(), for the event in the parameter `event_id`: built
    once, as the counters ask for it every few seconds."""
    event_id = sa.bindparam("event_id", type_=sa.Integer)
    holding = Registration.status.in_(HOLDING)
    waiting = Registration.status == RegistrationStatus.WAITLISTED
    party = sa.orm.aliased(Registration)
    paid = sa.orm.aliased(Payment)

    def received(provider: str):
        return (
            sa.select(sa.func.coalesce(sa.func.sum(paid.amount_cents - paid.refunded_cents), 0))
            .join(party, paid.registration_id == party.id)
            .where(
                party.event_id == event_id,
                paid.provider == provider,
                paid.status.in_((PaymentStatus.PAID, PaymentStatus.REFUNDED)),
            )
            .scalar_subquery()
        )

    still_open = (
        sa.select(
            sa.func.coalesce(sa.func.sum(party.amount_due_cents - party.amount_paid_cents), 0)
        )
        .where(
            party.event_id == event_id,
            party.status.in_(HOLDING),
            party.amount_due_cents > party.amount_paid_cents,
        )
        .scalar_subquery()
    )
    # An aggregate without GROUP BY: always exactly one row, also for an empty event.
    totals = (
        sa.select(
            sa.func.count(sa.distinct(sa.case((holding, Registration.id)))).label("parties"),
            sa.func.count(sa.case((holding, Attendee.id))).label("people"),
            sa.func.count(sa.case((holding, Attendee.checked_in_at))).label("checked_in"),
            sa.func.count(sa.distinct(sa.case((waiting, Registration.id)))).label("waiting"),
            sa.func.count(sa.case((waiting, Attendee.id))).label("waiting_people"),
            received(PaymentProvider.STRIPE).label("online"),
            received(PaymentProvider.DOOR).label("door"),
            still_open.label("still_open"),
        )
        .select_from(Attendee)
        .join(Registration, Attendee.registration_id == Registration.id)
        .where(Registration.event_id == event_id, Attendee.cancelled_at.is_(None))
        .subquery("totals")
    )
    # Who eats what, counted per meal and combination of diets; a person with a note for
    # the kitchen is a group of their own, so the note comes with their name.
    eater = (
        sa.select(
            Attendee.meal_option_id.label("meal"),
            sa.cast(Attendee.diets, sa.Text).label("diets"),
            sa.case((Attendee.diet_note != "", Attendee.id)).label("noted"),
            Attendee.name,
            Attendee.diet_note.label("note"),
        )
        .join(Registration, Attendee.registration_id == Registration.id)
        .where(
            Registration.event_id == event_id,
            holding,
            Attendee.cancelled_at.is_(None),
            Attendee.meal_option_id.is_not(None),
        )
        .subquery("eater")
    )
    eaters = (
        sa.select(
            eater.c.meal,
            eater.c.diets,
            sa.func.count().label("eating"),
            sa.func.max(eater.c.name).label("name"),
            sa.func.max(eater.c.note).label("note"),
        )
        .group_by(eater.c.meal, eater.c.diets, eater.c.noted)
        .subquery("eaters")
    )
    # The totals beside each group of eaters (or once, beside nobody): one round trip.
    return sa.select(totals, eaters).select_from(totals.outerjoin(eaters, sa.true()))


def summary(event: Event) -> Summary:
    """Registered, checked in, waiting, meals per meal and diet with the notes, and the
    money received online, at the door, and still open. One query, however many people:
    the counters poll every few seconds from every phone at the door.

    People with a place are those of confirmed parties and of parties paying online.
    """
    found = db.session.execute(_summary_query(), {"event_id": event.id}).all()
    first = found[0]
    result = Summary(
        capacity=event.capacity,
        parties=first.parties,
        people=first.people,
        checked_in=first.checked_in,
        waiting_parties=first.waiting,
        waiting_people=first.waiting_people,
        online_cents=int(first.online or 0),
        door_cents=int(first.door or 0),
        open_cents=int(first.still_open or 0),
    )
    meals = {option.id: MealCount(option) for option in event.meal_options}
    for group in found:
        meal = meals.get(group.meal)
        if meal is None:
            continue
        meal.count += group.eating
        key = _diets_key(group.diets)
        meal.diets[key] = meal.diets.get(key, 0) + group.eating
        if group.note:
            meal.notes.append((group.name, group.note))
    for meal in meals.values():
        meal.notes.sort(key=lambda item: name_key(item[0]))
    result.meals = list(meals.values())
    return result


# --- Check-in and undo --------------------------------------------------------------------


def _of_party(event: Event, *, with_place: bool = False):
    """The person's party is one of `event` (and, `with_place`, holds a place). A correlated
    EXISTS: the database looks up that one party, not every party with a place."""
    party = sa.select(Registration.id).where(
        Registration.id == Attendee.registration_id, Registration.event_id == event.id
    )
    if with_place:
        party = party.where(Registration.status.in_(HOLDING))
    return party.exists()


def _why_not(attendee: Attendee) -> str:
    registration = attendee.registration
    if registration.status == RegistrationStatus.WAITLISTED:
        return _l(
            "%(name)s is on the waiting list: they have no place to check in.", name=attendee.name
        )
    return _l("The place of %(name)s is cancelled: they cannot be checked in.", name=attendee.name)


def _record(attendee_ids: list[int], action: str, by: User, now: datetime) -> None:
    """Keep who checked whom in (or took it back) and when, one row per person: one
    INSERT for the whole party."""
    if attendee_ids:
        db.session.execute(
            sa.insert(CheckInRecord),
            [
                {"attendee_id": attendee_id, "action": action, "by_id": by.id, "at": now}
                for attendee_id in attendee_ids
            ],
        )


def _set_check_in(update: sa.Update, action: str, by: User, now: datetime) -> list[int]:
    """Run one conditional check-in UPDATE, record what it changed (also in the audit
    log), return those ids."""
    changed = db.session.execute(
        update.returning(Attendee.id, Attendee.registration_id),
        execution_options={"synchronize_session": False},
    ).all()
    ids = [row.id for row in changed]
    _record(ids, action, by, now)
    checked_in = action == "check_in"
    audit.record_many(
        by,
        "attendee.check_in" if checked_in else "attendee.undo_check_in",
        [{"registration_id": row.registration_id, "attendee_id": row.id} for row in changed],
        before={"checked_in": not checked_in},
        after={"checked_in": checked_in},
        at=now,
    )
    return ids


def _mark_checked_in(event: Event, which, by: User, now: datetime) -> list[int]:
    """Check in the people of `event` that `which` selects who hold a place and are not in
    yet, in one conditional UPDATE (so two volunteers never both count them); returns
    their ids."""
    return _set_check_in(
        sa.update(Attendee)
        .where(
            which,
            Attendee.checked_in_at.is_(None),
            Attendee.cancelled_at.is_(None),
            _of_party(event, with_place=True),
        )
        .values(checked_in_at=now, checked_in_by_id=by.id),
        "check_in",
        by,
        now,
    )


def _unmark_checked_in(event: Event, which, by: User, now: datetime) -> list[int]:
    """Take back the check-in of the people of `event` that `which` selects; returns their
    ids."""
    return _set_check_in(
        sa.update(Attendee)
        .where(which, Attendee.checked_in_at.is_not(None), _of_party(event))
        .values(checked_in_at=None, checked_in_by_id=None),
        "undo",
        by,
        now,
    )


@dataclass
class DoorChange:
    """What a check-in or undo did: the ids of the people it changed, their party's row as
    the list shows it now, and the person it was about (None for a whole party)."""

    changed: list[int]
    row: PartyRow
    person: Attendee | None = None


# Each of these is one UPDATE, a record per person changed, and one query for the party's
# row afterwards (which the door's phone gets back): nobody is loaded before the UPDATE.


def check_in(
    event: Event, attendee_id: int, by: User, now: datetime | None = None
) -> DoorChange | None:
    """Check in the person `attendee_id` of `event`, recording who did it and when; None
    when the event has no such person.

    Nobody in `changed` when they were checked in already (by this or another volunteer),
    which is harmless. Refuses (AttendanceRefused) a person on the waiting list or whose
    place is cancelled.
    """
    changed = _mark_checked_in(event, Attendee.id == attendee_id, by, now or utcnow())
    row = party_row(event, attendee_id=attendee_id)
    person = row.person(attendee_id) if row else None
    if person is None:
        return None
    if not changed and (person.checked_in_at is None or person.cancelled_at is not None):
        raise AttendanceRefused(_why_not(person))
    return DoorChange(changed, row, person)


def undo_check_in(
    event: Event, attendee_id: int, by: User, now: datetime | None = None
) -> DoorChange | None:
    """Take back the check-in of the person `attendee_id` of `event` (nobody in `changed`
    when they were not checked in: harmless); None when the event has no such person."""
    changed = _unmark_checked_in(event, Attendee.id == attendee_id, by, now or utcnow())
    row = party_row(event, attendee_id=attendee_id)
    person = row.person(attendee_id) if row else None
    return DoorChange(changed, row, person) if person is not None else None


def check_in_party(
    event: Event, registration_id: int, by: User, now: datetime | None = None
) -> DoorChange | None:
    """Check in everyone of the party `registration_id` of `event` who is not checked in
    yet (nobody in `changed` when they all were already); None when the event has no such
    party. Refuses (AttendanceRefused) a party on the waiting list or cancelled."""
    changed = _mark_checked_in(
        event, Attendee.registration_id == registration_id, by, now or utcnow()
    )
    row = party_row(event, registration_id)
    if row is None:
        return None
    if not changed and row.registration.status == RegistrationStatus.WAITLISTED:
        raise AttendanceRefused(
            _l("This party is on the waiting list: they have no place to check in.")
        )
    if not changed and row.registration.status == RegistrationStatus.CANCELLED:
        raise AttendanceRefused(_l("This registration is cancelled: nobody can be checked in."))
    return DoorChange(changed, row)


def undo_party(
    event: Event, registration_id: int, by: User, now: datetime | None = None
) -> DoorChange | None:
    """Take back the check-in of everyone in the party `registration_id` of `event`; None
    when the event has no such party."""
    changed = _unmark_checked_in(
        event, Attendee.registration_id == registration_id, by, now or utcnow()
    )
    row = party_row(event, registration_id)
    return DoorChange(changed, row) if row is not None else None


# --- Money at the door --------------------------------------------------------------------


def _door_payment(
    registration: Registration, amount_cents: int, by: User, now: datetime
) -> Payment:
    payment = Payment(
        registration_id=registration.id,
        provider=PaymentProvider.DOOR,
        status=PaymentStatus.PAID,
        amount_cents=amount_cents,
        description=f"{registration.event.title}: {registration.contact_name}"[:300],
        paid_at=now,
        recorded_by_id=by.id,
        created_at=now,
    )
    db.session.add(payment)
    registration.amount_paid_cents += amount_cents
    if registration.amount_paid_cents >= registration.amount_due_cents:
        registration.payment_state = PaymentState.PAID
    return payment


def record_door_payment(
    registration: Registration,
    amount_cents: int | None,
    by: User,
    *,
    expected_open_cents: int | None = None,
    now: datetime | None = None,
) -> Payment | None:
    """Record money paid at the door for a confirmed party, with who took it and when.

    `expected_open_cents` is what the form showed as still to pay: when that is no longer
    so (the same tap sent twice, or the party changed meanwhile) nothing is recorded and
    None is returned. With the event locked. Refuses (AttendanceRefused on `amount`) an
    amount that is not a positive euro amount or is more than is still to pay, and (on
    `event`) a party that is not confirmed or owes nothing.
    """
    now = now or utcnow()
    lock_event(registration.event)
    db.session.refresh(registration)
    if registration.status == RegistrationStatus.PENDING_PAYMENT:
        raise AttendanceRefused(
            _l("This party is paying online. Their seats are held until the payment is done.")
        )
    if registration.status != RegistrationStatus.CONFIRMED:
        raise AttendanceRefused(_l("Only a party with a place can pay at the door."))
    open_cents = registration.amount_open_cents
    before = audit.snapshot(registration, "amount_paid_cents", "payment_state")
    if expected_open_cents is not None and expected_open_cents != open_cents:
        return None
    if open_cents <= 0:
        if expected_open_cents is not None:
            return None
        raise AttendanceRefused(_l("This party has nothing left to pay."))
    if amount_cents is None or amount_cents <= 0:
        raise AttendanceRefused(_l("Please write an amount in euros, like 4,50."), field="amount")
    if amount_cents > open_cents:
        raise AttendanceRefused(
            _l("Only %(amount)s is still to pay.", amount=money(open_cents)), field="amount"
        )
    payment = _door_payment(registration, amount_cents, by, now)
    audit.record(
        by,
        "registration.door_payment",
        subject_user_id=registration.user_id,
        registration_id=registration.id,
        before=before,
        after=audit.snapshot(registration, "amount_paid_cents", "payment_state"),
        at=now,
    )
    db.session.flush()
    log.info(
        "Door payment of %s cents for party %s recorded by user %s",
        amount_cents,
        registration.id,
        by.id,
    )
    return payment


# --- Walk-ins -----------------------------------------------------------------------------


@dataclass
class WalkIn:
    """A person who comes without registering: their name, meal, diets and note, and what
    they paid at the door (None: nothing yet)."""

    name: str
    meal_option_id: int | None = None
    diets: list[str] = field(default_factory=list)
    diet_note: str = ""
    paid_cents: int | None = None


def add_walk_in(
    event: Event, walk_in: WalkIn, by: User, *, locale: str = "nl", now: datetime | None = None
) -> Registration:
    """Add a person at the door: confirmed, checked in at once, no e-mail address needed.

    Walk-ins may come after registration closed and after the event started, and a meal's
    sign-up deadline does not stop them: only the seats and meals left do. Their price is
    the event's (a pay-what-you-can meal costs what they pay, within its range, or the
    suggested amount). With the event locked. Refuses (AttendanceRefused) an event that is
    cancelled or not published, an empty name, a meal or diet not offered, a full event
    or meal, and a payment that is not a positive amount or is more than they owe.
    """
    now = now or utcnow()
    lock_event(event)
    db.session.refresh(event)
    if event.status == EventStatus.CANCELLED:
        raise AttendanceRefused(_l("This event is cancelled."))
    if event.status != EventStatus.PUBLISHED:
        raise AttendanceRefused(_l("Publish the event before people can come in."))
    name = walk_in.name.strip()[:120]
    if not name:
        raise AttendanceRefused(_l("Please fill in their name."), field="name")
    options = {option.id: option for option in event.meal_options}
    option = None
    if walk_in.meal_option_id is not None:
        option = options.get(walk_in.meal_option_id)
        if option is None:
            raise AttendanceRefused(_l("Please choose one of the meals offered."), field="meal")
        if set(walk_in.diets) - set(option.diets):
            raise AttendanceRefused(
                _l("Please choose from the diets this meal offers."), field="diets"
            )
    if event.capacity is not None and seats_taken(event) >= event.capacity:
        raise AttendanceRefused(
            _l("The event is full: all %(count)d seats are taken.", count=event.capacity)
        )
    if (
        option is not None
        and option.capacity is not None
        and meals_taken(event).get(option.id, 0) >= option.capacity
    ):
        raise AttendanceRefused(
            _l("No meals of “%(meal)s” are left.", meal=option.name), field="meal"
        )
    if walk_in.paid_cents is not None and walk_in.paid_cents <= 0:
        raise AttendanceRefused(_l("Please write an amount in euros, like 4,50."), field="paid")

    meal_cents = 0
    if option is not None:
        chosen = None
        if option.pay_what_you_can and walk_in.paid_cents is not None:
            chosen = walk_in.paid_cents - event.ticket_price_cents
        try:
            meal_cents = meal_price(option, chosen)
        except RegistrationRefused as refusal:
            raise AttendanceRefused(
                _l(
                    "For the meal they can pay from %(min)s to %(max)s, plus %(entry)s entry.",
                    min=money(option.pwyc_min_cents),
                    max=money(PWYC_MAX_CENTS),
                    entry=money(event.ticket_price_cents),
                )
                if event.ticket_price_cents
                else refusal.message,
                field="paid",
            ) from refusal
    due = event.ticket_price_cents + meal_cents
    if walk_in.paid_cents is not None and walk_in.paid_cents > due:
        if due == 0:
            raise AttendanceRefused(_l("They have nothing to pay."), field="paid")
        raise AttendanceRefused(
            _l("They owe %(amount)s: the amount paid cannot be more.", amount=money(due)),
            field="paid",
        )
    registration = Registration(
        event=event,
        contact_name=name,
        contact_email="",
        locale=locale,
        status=RegistrationStatus.CONFIRMED,
        manage_token=new_secret(),
        amount_due_cents=due,
        payment_state=PaymentState.DUE_AT_DOOR if due else PaymentState.NONE,
        created_at=now,
        attendees=[
            Attendee(
                name=name,
                meal_option_id=option.id if option else None,
                meal_price_cents=meal_cents,
                diets=sorted(set(walk_in.diets)) if option else [],
                diet_note=walk_in.diet_note.strip()[:300] if option else "",
                ticket_code=new_secret(),
                checked_in_at=now,
                checked_in_by_id=by.id,
            )
        ],
    )
    db.session.add(registration)
    db.session.flush()
    if walk_in.paid_cents:
        _door_payment(registration, walk_in.paid_cents, by, now)
        db.session.flush()
    audit.record(
        by,
        "registration.walk_in",
        registration_id=registration.id,
        attendee_id=registration.attendees[0].id,
        before=None,
        after={
            **audit.snapshot(registration, "status", "amount_due_cents", "amount_paid_cents"),
            "checked_in": True,
        },
        at=now,
    )
    log.info("Walk-in party %s added by user %s", registration.id, by.id)
    return registration


# --- Messages to the parties --------------------------------------------------------------

AUDIENCES = ("confirmed", "waiting")


def recipients(event: Event, audience: str) -> list[Registration]:
    """The parties a message goes to: those with a place (`confirmed`, also those paying
    online) or those on the waiting list (`waiting`); each once, walk-ins (who left no
    address) left out."""
    statuses = HOLDING if audience == "confirmed" else (RegistrationStatus.WAITLISTED,)
    return db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status.in_(statuses),
            Registration.contact_email != "",
        )
        .order_by(Registration.id)
    ).all()


def message_subject(event: Event, subject: str) -> str:
    return f"{event.title}: {subject}"


def send_message(
    event: Event, audience: str, subject: str, body: str, by: User, now: datetime | None = None
) -> int:
    """E-mail the organisers' message, through the outbox, to every party of `audience`
    (see `recipients`), each in their own language; returns how many parties it goes to.

    Refuses (AttendanceRefused) an unknown audience, one without anybody, an empty
    subject or message, and the same message sent again within a few minutes (a double
    click).
    """
    now = now or utcnow()
    if audience not in AUDIENCES:
        raise AttendanceRefused(_l("Please choose who gets the message."), field="audience")
    # One line: a line break in a subject would break the e-mail's header.
    subject, body = " ".join(subject.split()), body.strip()
    if not subject:
        raise AttendanceRefused(_l("Please write a subject."), field="subject")
    if not body:
        raise AttendanceRefused(_l("Please write your message."), field="body")
    parties = recipients(event, audience)
    if not parties:
        raise AttendanceRefused(_l("Nobody would get this message."), field="audience")
    full_subject = message_subject(event, subject)
    sent_before = db.session.scalar(
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.subject == full_subject,
            OutboxMessage.to_address == parties[0].contact_email,
            OutboxMessage.created_at >= now - MESSAGE_REPEAT_WINDOW,
        )
        .limit(1)
    )
    if sent_before is not None:
        raise AttendanceRefused(
            _l("This message was sent a few minutes ago already."), field="subject"
        )
    for registration in parties:
        queue_mail(
            registration.contact_email,
            full_subject,
            "organiser_message",
            registration.locale,
            registration=registration,
            event=event,
            body=body,
            manage_url=external_url("registrations.manage", token=registration.token),
            event_url=external_url("events.show", slug=event.slug),
        )
    db.session.flush()
    log.info(
        "Message %r to %d %s parties of event %s sent by user %s",
        subject,
        len(parties),
        audience,
        event.id,
        by.id,
    )
    return len(parties)
