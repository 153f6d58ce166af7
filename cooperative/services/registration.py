"""Registering a party for an event: seats, meals, prices, the waiting list, cancelling.

Every workflow here that can change who holds a seat first locks the event row
(`lock_event`), then counts and writes inside the same transaction, so two people can
never take the last seat at once. The caller commits; these functions only flush.
"""

import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..i18n import money
from ..models import (
    HOLDING,
    Attendee,
    Event,
    MealOption,
    PaymentState,
    Registration,
    RegistrationStatus,
    normalise_email,
    utcnow,
)
from .calendar import event_calendar
from .mail import external_url, queue_mail

# The most a person may choose to pay for one pay-what-you-can meal: a guard against typos.
PWYC_MAX_CENTS = 100_00
_TOKEN_RE = re.compile(r"([0-9]{1,18})-([A-Za-z0-9_-]{20,64})")


@dataclass
class PersonChoice:
    """One person of a party as the form gave them: name, meal (or None), diets, note."""

    name: str
    meal_option_id: int | None = None
    diets: list[str] = field(default_factory=list)
    diet_note: str = ""


class RegistrationRefused(Exception):
    """A rule refuses the registration or change. `field` names the form field it is about.

    Fields: `event` (closed, cancelled, started), `people` (party size, seats),
    `people-<i>-meal` and `people-<i>-diets` (one person's meal or diets), `meal_amount`
    (pay-what-you-can amount).
    """

    def __init__(self, message, field: str = "event", **details) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details


class AlreadyRegistered(Exception):
    """This e-mail address already has an active registration for the event."""

    def __init__(self, registration: Registration) -> None:
        super().__init__(registration.id)
        self.registration = registration


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _split_token(token: str) -> tuple[int, str] | None:
    match = _TOKEN_RE.fullmatch(token or "")
    return (int(match.group(1)), match.group(2)) if match else None


def find_registration(token: str) -> Registration | None:
    """The registration of a private link, or None. The secret is compared in constant time."""
    parts = _split_token(token)
    if parts is None:
        return None
    registration = db.session.get(Registration, parts[0])
    if registration is None or not hmac.compare_digest(
        registration.manage_token.encode(), parts[1].encode()
    ):
        return None
    return registration


def find_attendee(ticket: str) -> Attendee | None:
    """The attendee of a ticket code, or None. The secret is compared in constant time."""
    parts = _split_token(ticket)
    if parts is None:
        return None
    attendee = db.session.get(Attendee, parts[0])
    if attendee is None or not hmac.compare_digest(
        attendee.ticket_code.encode(), parts[1].encode()
    ):
        return None
    return attendee


def lock_event(event: Event) -> None:
    """Hold the event's row until the transaction ends; other registrations wait.

    PostgreSQL: `SELECT ... FOR UPDATE`. SQLite has no row locks: a write to the row takes
    the database's write lock, which serialises every writer until commit.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            sa.update(Event).where(Event.id == event.id).values(id=Event.id),
            execution_options={"synchronize_session": False},
        )
    else:
        db.session.execute(sa.select(Event.id).where(Event.id == event.id).with_for_update())


def seats_taken(event: Event) -> int:
    """Seats held now by confirmed and unpaid-but-held attendees (counted afresh)."""
    return db.session.scalar(
        sa.select(sa.func.count(Attendee.id))
        .join(Registration, Attendee.registration_id == Registration.id)
        .where(
            Registration.event_id == event.id,
            Registration.status.in_(HOLDING),
            Attendee.cancelled_at.is_(None),
        )
    )


def meals_taken(event: Event) -> dict[int, int]:
    """Meals held now per meal option id (counted afresh)."""
    rows = db.session.execute(
        sa.select(Attendee.meal_option_id, sa.func.count(Attendee.id))
        .join(Registration, Attendee.registration_id == Registration.id)
        .where(
            Registration.event_id == event.id,
            Registration.status.in_(HOLDING),
            Attendee.cancelled_at.is_(None),
            Attendee.meal_option_id.is_not(None),
        )
        .group_by(Attendee.meal_option_id)
    )
    return dict(rows.all())


def meal_price(option: MealOption, chosen_cents: int | None) -> int:
    """What one meal costs: its price, or the chosen pay-what-you-can amount.

    Refuses (RegistrationRefused on `meal_amount`) an amount outside the meal's range.
    """
    if not option.pay_what_you_can:
        return option.price_cents
    if chosen_cents is None:
        return option.suggested_cents
    if chosen_cents < option.pwyc_min_cents or chosen_cents > PWYC_MAX_CENTS:
        raise RegistrationRefused(
            _l(
                "Please choose an amount from %(min)s to %(max)s per meal.",
                min=money(option.pwyc_min_cents),
                max=money(PWYC_MAX_CENTS),
            ),
            field="meal_amount",
        )
    return chosen_cents


def price_cents(event: Event, people: list[PersonChoice], meal_amount_cents: int | None) -> int:
    """The total for a party, computed from the event's prices; never from the browser."""
    options = {option.id: option for option in event.meal_options}
    total = 0
    for person in people:
        total += event.ticket_price_cents
        if person.meal_option_id is not None:
            total += meal_price(options[person.meal_option_id], meal_amount_cents)
    return total


def _check_people(event: Event, people: list[PersonChoice], now: datetime) -> None:
    """Refuse a party of the wrong size, or a meal or diet the event does not offer."""
    if not 1 <= len(people) <= event.max_party_size:
        raise RegistrationRefused(
            _l("You can register 1 to %(count)d people at once.", count=event.max_party_size),
            field="people",
        )
    options = {option.id: option for option in event.meal_options}
    for index, person in enumerate(people):
        if not person.name.strip():
            raise RegistrationRefused(
                _l("Please fill in the name of each person."), field=f"people-{index}-name"
            )
        if person.meal_option_id is None:
            person.diets, person.diet_note = [], ""
            continue
        option = options.get(person.meal_option_id)
        if option is None:
            raise RegistrationRefused(
                _l("Please choose one of the meals offered."), field=f"people-{index}-meal"
            )
        if not option.signup_open(now):
            raise RegistrationRefused(
                _l("Signing up for this meal has closed."), field=f"people-{index}-meal"
            )
        if set(person.diets) - set(option.diets):
            raise RegistrationRefused(
                _l("Please choose from the diets this meal offers."),
                field=f"people-{index}-diets",
            )


def _fits(event: Event, people_count: int, meals: dict[int, int]) -> tuple[bool, int | None]:
    """Whether a party fits the seats and meals left now; also the seats left."""
    seats_left = None if event.capacity is None else event.capacity - seats_taken(event)
    if seats_left is not None and people_count > seats_left:
        return False, max(0, seats_left)
    taken = meals_taken(event)
    for option in event.meal_options:
        wanted = meals.get(option.id, 0)
        if (
            wanted
            and option.capacity is not None
            and taken.get(option.id, 0) + wanted > (option.capacity)
        ):
            return False, seats_left
    return True, seats_left


def _meal_counts(attendees) -> dict[int, int]:
    counts: dict[int, int] = {}
    for attendee in attendees:
        if attendee.meal_option_id is not None:
            counts[attendee.meal_option_id] = counts.get(attendee.meal_option_id, 0) + 1
    return counts


def _check_meals_left(event: Event, people: list[PersonChoice]) -> None:
    """Refuse a party that wants more of a meal than is left (seats are checked apart)."""
    taken = meals_taken(event)
    wanted = _meal_counts(people)
    for option in event.meal_options:
        if option.capacity is None or not wanted.get(option.id):
            continue
        left = max(0, option.capacity - taken.get(option.id, 0))
        if wanted[option.id] > left:
            index = next(i for i, p in enumerate(people) if p.meal_option_id == option.id)
            raise RegistrationRefused(
                _l("Only %(count)d meals of “%(meal)s” are left.", count=left, meal=option.name),
                field=f"people-{index}-meal",
            )


def register(
    event: Event,
    contact_name: str,
    contact_email: str,
    people: list[PersonChoice],
    *,
    meal_amount_cents: int | None = None,
    user=None,
    locale: str = "nl",
    join_waitlist: bool = False,
    now: datetime | None = None,
) -> Registration:
    """Register a party for `event`, or put it on the waiting list, and e-mail its link.

    With the event locked: refuses (RegistrationRefused) a closed or cancelled event, a
    party of the wrong size, a meal or diet not offered, a meal after its deadline or
    beyond its capacity, a pay-what-you-can amount out of range, and a party that does
    not fit the seats left unless `join_waitlist`. Raises AlreadyRegistered when the
    address has an active registration for this event already.
    """
    now = now or utcnow()
    lock_event(event)
    db.session.refresh(event)
    state = event.registration_state(now)
    if state != "open":
        raise RegistrationRefused(_registration_closed_message(state), field="event")
    _check_people(event, people, now)
    amount = price_cents(event, people, meal_amount_cents)
    email = normalise_email(contact_email)
    existing = db.session.scalar(
        sa.select(Registration).where(
            Registration.event_id == event.id,
            Registration.contact_email == email,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    )
    if existing is not None:
        raise AlreadyRegistered(existing)

    fits, seats_left = _fits(event, len(people), _meal_counts(people))
    if seats_left is not None and len(people) > seats_left:
        if not join_waitlist:
            raise RegistrationRefused(
                _l("There are not enough seats left for your party."),
                field="people",
                seats_left=seats_left,
            )
        status = RegistrationStatus.WAITLISTED
    else:
        _check_meals_left(event, people)
        status = RegistrationStatus.CONFIRMED

    options = {option.id: option for option in event.meal_options}
    registration = Registration(
        event=event,
        user=user,
        contact_name=contact_name.strip(),
        contact_email=email,
        locale=locale,
        status=status,
        manage_token=new_secret(),
        amount_due_cents=amount,
        payment_state=_payment_state(status, amount),
        created_at=now,
        attendees=[
            Attendee(
                name=person.name.strip(),
                meal_option_id=person.meal_option_id,
                meal_price_cents=(
                    meal_price(options[person.meal_option_id], meal_amount_cents)
                    if person.meal_option_id is not None
                    else 0
                ),
                diets=sorted(person.diets),
                diet_note=person.diet_note.strip(),
                ticket_code=new_secret(),
            )
            for person in people
        ],
    )
    db.session.add(registration)
    db.session.flush()
    _mail(registration, "registration_received")
    return registration


def _registration_closed_message(state: str):
    return {
        "cancelled": _l("This event is cancelled."),
        "draft": _l("This event is not open for registration."),
        "not_yet": _l("Registration has not opened yet."),
        "closed": _l("Registration for this event has closed."),
    }[state]


def _payment_state(status: RegistrationStatus, amount_cents: int) -> PaymentState:
    if status == RegistrationStatus.CONFIRMED and amount_cents > 0:
        return PaymentState.DUE_AT_DOOR
    return PaymentState.NONE


def waitlist_position(registration: Registration) -> int | None:
    """1 for the first party waiting, 2 for the next...; None when not waiting."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    return db.session.scalar(
        sa.select(sa.func.count(Registration.id)).where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.id <= registration.id,
        )
    )


def resend_link(registration: Registration) -> None:
    """E-mail a registration's private link again (to its own address only)."""
    _mail(registration, "registration_link")


def promote_waitlist(event: Event) -> list[Registration]:
    """Give freed seats to waiting parties, oldest first, each one that fits; e-mail them.

    A party that does not fit is skipped, not dropped: a smaller one behind it may fit.
    """
    lock_event(event)
    promoted = []
    waiting = db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(Registration.id)
    ).all()
    for registration in waiting:
        attendees = registration.active_attendees
        fits, _seats = _fits(event, len(attendees), _meal_counts(attendees))
        if not fits:
            continue
        registration.status = RegistrationStatus.CONFIRMED
        registration.payment_state = _payment_state(
            registration.status, registration.amount_due_cents
        )
        db.session.flush()
        promoted.append(registration)
        _mail(registration, "registration_promoted")
    return promoted


def _check_changeable(registration: Registration, now: datetime) -> None:
    if registration.status == RegistrationStatus.CANCELLED:
        raise RegistrationRefused(_l("This registration is cancelled."))
    if not registration.can_change(now):
        raise RegistrationRefused(_l("The event has started: this can no longer be changed."))


def cancel(registration: Registration, now: datetime | None = None) -> None:
    """Cancel a whole party, free its seats and meals, and promote the waiting list."""
    now = now or utcnow()
    _check_changeable(registration, now)
    lock_event(registration.event)
    held = registration.status in HOLDING
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    for attendee in registration.active_attendees:
        attendee.cancelled_at = now
    registration.payment_state = PaymentState.NONE
    db.session.flush()
    _mail(registration, "registration_cancelled")
    if held:
        promote_waitlist(registration.event)


def cancel_attendee(attendee: Attendee, now: datetime | None = None) -> None:
    """Cancel one person of a party; the last one cancels the party. Frees their seat."""
    now = now or utcnow()
    registration = attendee.registration
    _check_changeable(registration, now)
    if attendee.cancelled_at is not None:
        return
    if len(registration.active_attendees) == 1:
        cancel(registration, now)
        return
    lock_event(registration.event)
    attendee.cancelled_at = now
    registration.amount_due_cents = sum(
        registration.event.ticket_price_cents + person.meal_price_cents
        for person in registration.active_attendees
    )
    registration.payment_state = _payment_state(registration.status, registration.amount_due_cents)
    db.session.flush()
    if registration.status in HOLDING:
        promote_waitlist(registration.event)


def update_attendee(
    attendee: Attendee, name: str, diets: list[str], diet_note: str, now: datetime | None = None
) -> None:
    """Change a person's name, and their diets while their meal's sign-up is open.

    Refuses a diet the meal does not offer, and diet changes after the meal's deadline.
    """
    now = now or utcnow()
    _check_changeable(attendee.registration, now)
    if not name.strip():
        raise RegistrationRefused(_l("Please fill in the name of each person."), field="name")
    attendee.name = name.strip()[:120]
    option = attendee.meal_option
    if option is None:
        return
    new_diets = sorted(set(diets))
    if new_diets != sorted(attendee.diets) or diet_note.strip() != attendee.diet_note:
        if not option.signup_open(now):
            raise RegistrationRefused(
                _l("The meal’s sign-up has closed: diets can no longer be changed."),
                field="diets",
            )
        if set(new_diets) - set(option.diets):
            raise RegistrationRefused(
                _l("Please choose from the diets this meal offers."), field="diets"
            )
        attendee.diets = new_diets
        attendee.diet_note = diet_note.strip()[:300]


SUBJECTS = {
    "registration_received": lambda title: _l("Your registration: %(title)s", title=title),
    "registration_link": lambda title: _l("Your registration link: %(title)s", title=title),
    "registration_promoted": lambda title: _l("A place for you: %(title)s", title=title),
    "registration_cancelled": lambda title: _l("Cancelled: %(title)s", title=title),
}


def _mail(registration: Registration, template: str) -> None:
    """E-mail the party's contact, in their language, with the event's calendar file."""
    event = registration.event
    attachments = []
    if registration.status != RegistrationStatus.CANCELLED:
        attachments.append(
            {
                "filename": f"{event.slug}.ics",
                "content_type": "text/calendar",
                "content": event_calendar([event]).decode(),
            }
        )
    queue_mail(
        registration.contact_email,
        SUBJECTS[template](event.title),
        template,
        registration.locale,
        attachments=attachments,
        registration=registration,
        event=event,
        position=waitlist_position(registration),
        manage_url=external_url("registrations.manage", token=registration.token),
        event_url=external_url("events.show", slug=event.slug),
    )
