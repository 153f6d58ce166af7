"""Registering a party: its people, meals and price, seats and meals left, the waiting list."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from ...extensions import db
from ...locking import lock_event
from ...models import (
    Attendee,
    Event,
    MealOption,
    Membership,
    MembershipStatus,
    PaymentMode,
    PaymentState,
    Registration,
    RegistrationStatus,
    normalise_email,
    utcnow,
)
from ...money import format_euros
from ...refusals import Refused
from .. import payments, places
from .notices import notify
from .tokens import new_secret

# The most a person may choose to pay for one pay-what-you-can meal: a guard against typos.
PWYC_MAX_CENTS = 100_00


@dataclass
class PersonChoice:
    """One person of a party as the form gave them: name, meal (or None), diets, note."""

    name: str
    meal_option_id: int | None = None
    diets: list[str] = field(default_factory=list)
    diet_note: str = ""


class AlreadyRegistered(Exception):
    """This e-mail address already has an active registration for the event."""

    def __init__(self, registration: Registration) -> None:
        super().__init__(registration.id)
        self.registration = registration


def check_members_only(event: Event, user) -> None:
    """The event of a general meeting is for active members only: refuses anyone else
    (`user` None for a guest or a walk-in). Other events are for everyone."""
    if event.meeting is None:
        return
    if user is not None and db.session.scalar(
        sa.select(Membership.id).where(
            Membership.user_id == user.id, Membership.status == MembershipStatus.ACTIVE
        )
    ):
        return
    raise Refused(
        _l("This is a general meeting: only active members of the cooperative take part."),
        field="event",
    )


def meal_price(option: MealOption, chosen_cents: int | None) -> int:
    """What one meal costs: its price, or the chosen pay-what-you-can amount.

    Refuses (on `meal_amount`) an amount outside the meal's range.
    """
    if not option.pay_what_you_can:
        return option.price_cents
    if chosen_cents is None:
        return option.suggested_cents
    if chosen_cents < option.pwyc_min_cents or chosen_cents > PWYC_MAX_CENTS:
        raise Refused(
            _l(
                "Please choose an amount from %(min)s to %(max)s per meal.",
                min=format_euros(option.pwyc_min_cents),
                max=format_euros(PWYC_MAX_CENTS),
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
        raise Refused(
            _l("You can register 1 to %(count)d people at once.", count=event.max_party_size),
            field="people",
        )
    options = {option.id: option for option in event.meal_options}
    for index, person in enumerate(people):
        if not person.name.strip():
            raise Refused(
                _l("Please fill in the name of each person."), field=f"people-{index}-name"
            )
        if person.meal_option_id is None:
            person.diets, person.diet_note = [], ""
            continue
        option = options.get(person.meal_option_id)
        if option is None:
            raise Refused(
                _l("Please choose one of the meals offered."), field=f"people-{index}-meal"
            )
        if not option.signup_open(now):
            raise Refused(_l("Signing up for this meal has closed."), field=f"people-{index}-meal")
        if set(person.diets) - set(option.diets):
            raise Refused(
                _l("Please choose from the diets this meal offers."),
                field=f"people-{index}-diets",
            )


def _check_meals_left(event: Event, people: list[PersonChoice]) -> None:
    """Refuse a party that wants more of a meal than is left (seats are checked apart),
    counted by the meal options as `register` loaded them under the lock."""
    option = places.meal_short(event, places.meals_wanted(people))
    if option is None:
        return
    left = option.meals_left
    index = next(i for i, p in enumerate(people) if p.meal_option_id == option.id)
    raise Refused(
        lazy_ngettext(
            "Only %(num)d meal of “%(meal)s” is left.",
            "Only %(num)d meals of “%(meal)s” are left.",
            left,
            meal=option.name,
        )
        if left
        else _l("“%(meal)s” is full.", meal=option.name),
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
    pay_online: bool = False,
    now: datetime | None = None,
) -> Registration:
    """Register a party for `event`, or put it on the waiting list, and e-mail its link.

    A party that owes money and chose to pay online (where the event takes online
    payment) is held as `pending_payment` for PAYMENT_HOLD_MINUTES: its seats and meals
    are kept while it pays; see `start_payment`.

    With the event locked: refuses a closed or cancelled event, a
    party of the wrong size, a meal or diet not offered, a meal after its deadline or
    beyond its capacity, a pay-what-you-can amount out of range, and a party that does
    not fit the seats left unless `join_waitlist`. Raises AlreadyRegistered when the
    address has an active registration for this event already.
    """
    now = now or utcnow()
    lock_event(event)
    # The event's own columns and seats taken, counted afresh now that the lock is held;
    # its meal options (prices, deadlines, meals given out) too when someone wants a meal.
    db.session.refresh(event, [column.key for column in sa.inspect(Event).column_attrs])
    if any(person.meal_option_id is not None for person in people):
        db.session.scalars(
            sa.select(MealOption)
            .where(MealOption.event_id == event.id)
            .execution_options(populate_existing=True)
        ).all()
    state = event.registration_state(now)
    if state != "open":
        raise Refused(_registration_closed_message(state), field="event")
    check_members_only(event, user)
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

    # Counted by the refresh above, under the lock.
    if not places.seats_fit(event, len(people)):
        if not join_waitlist:
            raise Refused(_l("There are not enough seats left for your party."), field="people")
        status = RegistrationStatus.WAITLISTED
    else:
        _check_meals_left(event, people)
        status = RegistrationStatus.CONFIRMED
        if amount and (must_pay_online(event) or (pay_online and takes_online_payment(event))):
            status = RegistrationStatus.PENDING_PAYMENT

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
        payment_state=payment_state(status, amount),
        hold_expires_at=(
            now + timedelta(minutes=current_app.config["PAYMENT_HOLD_MINUTES"])
            if status == RegistrationStatus.PENDING_PAYMENT
            else None
        ),
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
    notify(registration, "registration_received")
    return registration


def _registration_closed_message(state: str):
    return {
        "cancelled": _l("This event is cancelled."),
        "draft": _l("This event is not open for registration."),
        "not_yet": _l("Registration has not opened yet."),
        "closed": _l("Registration for this event has closed."),
    }[state]


def payment_state(status: RegistrationStatus, amount_cents: int) -> PaymentState:
    if amount_cents <= 0:
        return PaymentState.NONE
    if status == RegistrationStatus.CONFIRMED:
        return PaymentState.DUE_AT_DOOR
    if status == RegistrationStatus.PENDING_PAYMENT:
        return PaymentState.PENDING
    return PaymentState.NONE


def takes_online_payment(event: Event) -> bool:
    """Whether people can pay this event online (Stripe is set up and the event allows it)."""
    return payments.online_payments_enabled() and event.payment_mode != PaymentMode.DOOR


def must_pay_online(event: Event) -> bool:
    """Whether this event takes online payment only (no paying at the door)."""
    return payments.online_payments_enabled() and event.payment_mode == PaymentMode.ONLINE


def promote_waitlist(event: Event) -> list[Registration]:
    """Give freed seats to waiting parties, oldest first, each one that fits; e-mail them.

    A party that does not fit is skipped, not dropped: a smaller one behind it may fit.
    Where the event takes online payment only, a party that owes money is held for
    PROMOTION_HOLD_HOURS and gets a link to pay; otherwise it pays at the door.
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
    counted = False
    for registration in waiting:
        if not counted:
            places.count_afresh(event)
            counted = True
        if not places.fits(event, registration.active_attendees):
            continue
        counted = False  # this party's places are taken now
        registration.status = RegistrationStatus.CONFIRMED
        if registration.amount_due_cents and must_pay_online(event):
            registration.status = RegistrationStatus.PENDING_PAYMENT
            hours = current_app.config["PROMOTION_HOLD_HOURS"]
            registration.hold_expires_at = utcnow() + timedelta(hours=hours)
        registration.payment_state = payment_state(
            registration.status, registration.amount_due_cents
        )
        db.session.flush()
        promoted.append(registration)
        notify(registration, "registration_promoted")
    return promoted
