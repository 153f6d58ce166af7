"""The organisers' workflows for events: create or change an event with its meals,
publish it, cancel it; and the overview of the events a person manages.

Changes to an event that people have registered for are made with the event locked
(`lock_event`), so seats and meals are counted and changed in one go. The caller commits;
these functions only flush.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..locking import lock_event
from ..models import (
    HOLDING,
    Attendee,
    Event,
    EventStatus,
    MealOption,
    PaymentMode,
    PaymentState,
    Registration,
    RegistrationStatus,
    utcnow,
)
from ..models.events import DEFAULT_REMINDER_HOURS, places_taken
from ..refusals import Refused
from ..slugs import free_slug, slug_taken
from . import places, volunteers
from .details import copy_details
from .mail import external_url
from .registration import (
    check_stripe_answers,
    mail_party,
    promote_waitlist,
    refund_everything,
)

SLUG_MAX_LENGTH = 120

# What `save_event` copies from the plan as it is, and the times it copies in UTC.
EVENT_FIELDS = (
    "title",
    "summary",
    "description",
    "venue",
    "address",
    "collective_id",
    "audience",
    "capacity",
    "ticket_price_cents",
    "max_party_size",
    "payment_mode",
    "reminder_hours",
)
_EVENT_TIMES = (
    "starts_at",
    "ends_at",
    "refund_until",
    "registration_opens_at",
    "registration_closes_at",
)
MEAL_FIELDS = ("name", "price_cents", "pwyc_min_cents", "pwyc_suggested_cents", "capacity")
_MEAL_TIMES = ("signup_deadline",)


@dataclass
class MealPlan:
    """A meal as the organiser wants it. `id` is an existing meal option of the event, or
    None for a new one. Amounts in cents; a pay-what-you-can meal has a minimum."""

    name: str
    price_cents: int = 0
    pwyc_min_cents: int | None = None
    pwyc_suggested_cents: int | None = None
    capacity: int | None = None
    signup_deadline: datetime | None = None
    diets: list[str] = field(default_factory=list)
    id: int | None = None


@dataclass
class EventPlan:
    """An event as the organiser wants it, with its meals in their order."""

    title: str
    starts_at: datetime
    ends_at: datetime
    slug: str = ""
    summary: str = ""
    description: str = ""
    venue: str = ""
    address: str = ""
    collective_id: int | None = None
    audience: str = ""
    capacity: int | None = None
    ticket_price_cents: int = 0
    max_party_size: int = 6
    payment_mode: PaymentMode = PaymentMode.DOOR
    refund_until: datetime | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    reminder_hours: int = DEFAULT_REMINDER_HOURS
    meals: list[MealPlan] = field(default_factory=list)


def _choose_slug(plan: EventPlan, event: Event | None) -> str:
    """The slug typed, refused when another event has it; or one made from the title,
    numbered (`-2`, `-3`...) until it is free."""
    event_id = event.id if event is not None else None
    if plan.slug:
        if slug_taken(Event.slug, plan.slug, event_id):
            raise Refused(
                _l("Another event already has this web address. Please choose another."),
                field="slug",
            )
        return plan.slug
    return free_slug(Event.slug, plan.title, SLUG_MAX_LENGTH, "event", own_id=event_id)


def meal_options_in_use(event: Event) -> set[int]:
    """The event's meal options that someone in an active registration (also on the
    waiting list) has chosen: these cannot be removed."""
    if event.id is None:
        return set()
    rows = db.session.scalars(
        sa.select(Attendee.meal_option_id)
        .join(Registration, Attendee.registration_id == Registration.id)
        .where(
            Registration.event_id == event.id,
            Registration.status != RegistrationStatus.CANCELLED,
            Attendee.cancelled_at.is_(None),
            Attendee.meal_option_id.is_not(None),
        )
        .distinct()
    )
    return set(rows)


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def save_event(plan: EventPlan, event: Event | None = None) -> Event:
    """Create an event as a draft (`event` None) or change `event`, with its meals.

    Meals keep their rows (matched by `MealPlan.id`), so the people who chose them stay
    attached. Refuses a slug another event has, a capacity below the seats
    taken, a meal capacity below the meals taken, and removing a meal someone has chosen.
    """
    if event is not None:
        lock_event(event)
    slug = _choose_slug(plan, event)
    if event is None:
        event = Event(status=EventStatus.DRAFT)
        db.session.add(event)
        taken_seats, taken_meals, in_use = 0, {}, set()
    else:
        places.count_afresh(event)
        taken_seats = event.seats_taken
        taken_meals = {option.id: option.meals_taken for option in event.meal_options}
        in_use = meal_options_in_use(event)
    if plan.capacity is not None and plan.capacity < taken_seats:
        raise Refused(
            lazy_ngettext(
                "%(num)d seat is taken already: the number of seats cannot be lower.",
                "%(num)d seats are taken already: the number of seats cannot be lower.",
                taken_seats,
            ),
            field="capacity",
        )
    if (
        event.id is not None
        and plan.ticket_price_cents != event.ticket_price_cents
        and _has_registrations(event)
    ):
        # What people owe was computed at the old price; a new one would not add up.
        raise Refused(
            _l("People have registered at this entry price, so it can no longer change."),
            field="ticket_price",
        )

    existing = {option.id: option for option in event.meal_options}
    kept = {meal.id for meal in plan.meals if meal.id in existing}
    removed = [option for option_id, option in existing.items() if option_id not in kept]
    for option in removed:
        if option.id in in_use:
            raise Refused(
                _l(
                    "People have chosen the meal “%(meal)s”, so it cannot be removed. "
                    "You can change it instead.",
                    meal=option.name,
                ),
                field="meals",
            )

    options = []
    for position, meal in enumerate(plan.meals):
        option = existing.pop(meal.id, None) if meal.id is not None else None
        taken = taken_meals.get(option.id, 0) if option is not None else 0
        if meal.capacity is not None and meal.capacity < taken:
            raise Refused(
                lazy_ngettext(
                    "%(num)d of these meals is taken already: the number cannot be lower.",
                    "%(num)d of these meals are taken already: the number cannot be lower.",
                    taken,
                ),
                field=f"meals-{position}-capacity",
            )
        option = option or MealOption()
        copy_details(option, meal, MEAL_FIELDS)
        copy_details(option, meal, _MEAL_TIMES, _utc)
        option.diets = list(meal.diets)
        option.position = position
        options.append(option)

    if removed:
        # Cancelled attendees may still point at a removed meal: let go of it on every
        # database (SQLite does not enforce the foreign key's SET NULL).
        db.session.execute(
            sa.update(Attendee)
            .where(Attendee.meal_option_id.in_([option.id for option in removed]))
            .values(meal_option_id=None),
            execution_options={"synchronize_session": False},
        )

    event.slug = slug
    copy_details(event, plan, EVENT_FIELDS)
    copy_details(event, plan, _EVENT_TIMES, _utc)
    event.meal_options = options
    try:
        db.session.flush()
    except IntegrityError as error:
        # Another event took the slug between our check and this write.
        raise Refused(
            _l("Another event already has this web address. Please choose another."),
            field="slug",
        ) from error
    if event.status == EventStatus.PUBLISHED:
        promote_waitlist(event)  # more seats or meals may let waiting parties in
    return event


def _has_registrations(event: Event) -> bool:
    return db.session.scalar(
        sa.select(
            sa.exists().where(
                Registration.event_id == event.id,
                Registration.status != RegistrationStatus.CANCELLED,
            )
        )
    )


def publish(event: Event) -> bool:
    """Make a draft public and open for registration; False when it already was.

    Refuses a cancelled event.
    """
    if event.status == EventStatus.CANCELLED:
        raise Refused(_l("A cancelled event cannot be published again."))
    if event.status == EventStatus.PUBLISHED:
        return False
    event.status = EventStatus.PUBLISHED
    db.session.flush()
    return True


def check_refunds_answer(events: list[Event], now: datetime) -> None:
    """Before any of `events` is locked: when cancelling them would give money back
    through Stripe, ask Stripe once whether it answers; raises PaymentUnavailable when it
    does not. For a caller that cancels several events in one transaction (a series
    change), so that no call is made while one of them is locked already; it then passes
    `stripe_checked=True` to `cancel_event`."""
    if not events:
        return
    active = db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.event_id.in_([event.id for event in events]),
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .order_by(Registration.id)
    ).all()
    check_stripe_answers(active, now, always=True)


def cancel_event(
    event: Event, now: datetime | None = None, *, stripe_checked: bool = False
) -> list[Registration]:
    """Cancel the event and every active registration, and e-mail each party's contact.

    With the event locked: the event becomes cancelled; each registration that was not
    cancelled yet (also those on the waiting list) is cancelled, with its attendees, and
    nobody is promoted. What was paid online is refunded through Stripe after the commit
    (raises PaymentUnavailable, changing nothing, when Stripe does not answer before the
    event is locked); a registration paid at the door keeps its payment state, so the
    organisers can pay it back (`stripe_checked`: the caller has asked Stripe already,
    with `check_refunds_answer`, before taking any lock). Every volunteer's slot in its
    tasks is given up too, and each volunteer is e-mailed (`volunteers.release_slots`).
    Returns the registrations cancelled. Refuses an event that is cancelled already.
    """
    now = now or utcnow()
    if not stripe_checked:
        check_refunds_answer([event], now)
    lock_event(event)
    db.session.refresh(event)
    if event.status == EventStatus.CANCELLED:
        raise Refused(_l("This event is cancelled already."))
    event.status = EventStatus.CANCELLED
    active = active_registrations(event)
    for registration in active:
        refund_everything(registration, now)
        registration.status = RegistrationStatus.CANCELLED
        registration.cancelled_at = now
        registration.hold_expires_at = None
        if registration.payment_state not in (PaymentState.PAID, PaymentState.REFUNDED):
            registration.payment_state = PaymentState.NONE
        for attendee in registration.attendees:
            if attendee.cancelled_at is None:
                attendee.cancelled_at = now
    db.session.flush()
    for registration in active:
        mail_party(
            registration,
            _l("Cancelled: %(title)s", title=event.title),
            "event_cancelled",
            events_url=external_url("events.index"),
        )
    volunteers.release_slots(event, now)
    return active


def active_registrations(event: Event) -> list[Registration]:
    """The event's parties that are not cancelled (also those waiting), by id."""
    return db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .order_by(Registration.id)
    ).all()


@dataclass
class EventRow:
    """An event in the organiser's overview, with its meal counts."""

    event: Event
    meal_count: int
    meals_taken: int
    meal_capacity: int | None  # None: at least one meal has no limit, or there are none
    checked_in: int = 0  # people with a place who are checked in at the door
    waiting: int = 0  # people on the waiting list


def managed_events(user, now: datetime | None = None) -> tuple[list[EventRow], list[EventRow]]:
    """The events `user` manages, as (upcoming soonest first, past latest first).

    Admins see every event; organisers those of their collectives. Seats and meal counts
    come in the same query as the events.
    """
    now = now or utcnow()
    meal_count = (
        sa.select(sa.func.count(MealOption.id))
        .where(MealOption.event_id == Event.id)
        .scalar_subquery()
    )
    unlimited = (
        sa.select(sa.func.count(MealOption.id))
        .where(MealOption.event_id == Event.id, MealOption.capacity.is_(None))
        .scalar_subquery()
    )
    meal_capacity = (
        sa.select(sa.func.coalesce(sa.func.sum(MealOption.capacity), 0))
        .where(MealOption.event_id == Event.id)
        .scalar_subquery()
    )
    taken = (
        places_taken()
        .where(Registration.event_id == Event.id, Attendee.meal_option_id.is_not(None))
        .scalar_subquery()
    )
    people = (
        sa.select(sa.func.count(Attendee.id))
        .join(Registration, Attendee.registration_id == Registration.id)
        .where(Registration.event_id == Event.id, Attendee.cancelled_at.is_(None))
    )
    checked_in = people.where(
        Registration.status.in_(HOLDING), Attendee.checked_in_at.is_not(None)
    ).scalar_subquery()
    waiting = people.where(Registration.status == RegistrationStatus.WAITLISTED).scalar_subquery()
    query = sa.select(
        Event, meal_count, unlimited, meal_capacity, taken, checked_in, waiting
    ).options(sa.orm.joinedload(Event.collective))
    if not user.is_admin:
        query = query.where(Event.collective_id.in_(user.managed_collective_ids))
    upcoming, past = [], []
    for event, count, open_ended, capacity, meals, arrived, waiting_people in db.session.execute(
        query.order_by(Event.starts_at, Event.id)
    ):
        row = EventRow(
            event=event,
            meal_count=count,
            meals_taken=meals,
            meal_capacity=None if open_ended or not count else capacity,
            checked_in=arrived,
            waiting=waiting_people,
        )
        (upcoming if event.ends_at >= now else past).append(row)
    past.reverse()
    return upcoming, past
