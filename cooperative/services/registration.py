"""Registering a party for an event: seats, meals, prices, the waiting list, cancelling.

Every workflow here that can change who holds a seat first locks the event row
(`locking.lock_event`), then counts and writes inside the same transaction, so two people
can never take the last seat at once. Nothing here calls Stripe while the lock is held:
refunds and closed Checkout pages are recorded (`stripe_calls`) and made after the
commit. The caller commits; these functions only flush.
"""

import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, lazy_ngettext
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..locking import lock_event
from ..models import (
    HOLDING,
    Attendee,
    Event,
    MealOption,
    Payment,
    PaymentMode,
    PaymentProvider,
    PaymentState,
    PaymentStatus,
    Registration,
    RegistrationStatus,
    normalise_email,
    utcnow,
)
from ..money import format_euros
from ..refusals import Refused
from . import payments, places, stripe_calls, tickets
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
        payment_state=_payment_state(status, amount),
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
        registration.payment_state = _payment_state(
            registration.status, registration.amount_due_cents
        )
        db.session.flush()
        promoted.append(registration)
        _mail(registration, "registration_promoted")
    return promoted


def _check_changeable(registration: Registration, now: datetime) -> None:
    if registration.status == RegistrationStatus.CANCELLED:
        raise Refused(_l("This registration is cancelled."), field="event")
    if not registration.can_change(now):
        raise Refused(_l("The event has started: this can no longer be changed."), field="event")


def cancel(
    registration: Registration, now: datetime | None = None, *, by_organiser: bool = False
) -> None:
    """Cancel a whole party, free its seats and meals, and promote the waiting list.

    What was paid online is refunded until the event's refund deadline, or always when an
    organiser cancels (raises PaymentUnavailable, changing nothing, when Stripe does not
    answer); an unfinished online payment is closed. Stripe is asked to refund and close
    after the commit, never while the event is locked.
    """
    now = now or utcnow()
    _check_changeable(registration, now)
    check_stripe_answers([registration], now, always=by_organiser)
    lock_event(registration.event)
    held = registration.status in HOLDING
    _refund(registration, registration.amount_paid_cents, now, always=by_organiser)
    _close_open_payments(registration)
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    registration.hold_expires_at = None
    for attendee in registration.active_attendees:
        attendee.cancelled_at = now
    if registration.payment_state not in (PaymentState.PAID, PaymentState.REFUNDED):
        registration.payment_state = PaymentState.NONE
    db.session.flush()
    _mail(registration, "registration_cancelled")
    if held:
        promote_waitlist(registration.event)


def cancel_attendee(attendee: Attendee, now: datetime | None = None) -> None:
    """Cancel one person of a party; the last one cancels the party. Frees their seat.

    Their part of an online payment is refunded until the event's refund deadline (raises
    PaymentUnavailable, changing nothing, when Stripe does not answer).
    """
    now = now or utcnow()
    registration = attendee.registration
    _check_changeable(registration, now)
    if attendee.cancelled_at is not None:
        return
    if len(registration.active_attendees) == 1:
        cancel(registration, now)
        return
    if registration.payment_state == PaymentState.PAID:
        check_stripe_answers([registration], now)
    lock_event(registration.event)
    attendee.cancelled_at = now
    registration.amount_due_cents = sum(
        registration.event.ticket_price_cents + person.meal_price_cents
        for person in registration.active_attendees
    )
    if registration.payment_state == PaymentState.PAID:
        _refund(registration, registration.amount_paid_cents - registration.amount_due_cents, now)
    else:
        # The open Checkout page asks for the old amount: close it; "pay now" makes a new one.
        _close_open_payments(registration)
        if (
            registration.status == RegistrationStatus.PENDING_PAYMENT
            and not registration.amount_open_cents
        ):
            # Those still coming owe nothing more: no reason to hold their seats any longer.
            registration.status = RegistrationStatus.CONFIRMED
            registration.hold_expires_at = None
        if registration.amount_paid_cents and not registration.amount_open_cents:
            registration.payment_state = PaymentState.PAID
        else:
            registration.payment_state = _payment_state(
                registration.status, registration.amount_open_cents
            )
    db.session.flush()
    if registration.status in HOLDING:
        promote_waitlist(registration.event)


def update_attendee(
    attendee: Attendee, name: str, diets: list[str], diet_note: str, now: datetime | None = None
) -> None:
    """Change a person's name, and their diets while their meal's sign-up is open.

    Refuses an empty name, a name or note longer than its column holds (never cut short
    in silence), a diet the meal does not offer, and diet changes after the meal's deadline.
    """
    now = now or utcnow()
    _check_changeable(attendee.registration, now)
    name, diet_note = name.strip(), diet_note.strip()
    if not name:
        raise Refused(_l("Please fill in the name of each person."), field="name")
    if len(name) > Attendee.name.type.length:
        raise Refused(
            _l("Please keep the name under %(count)d characters.", count=Attendee.name.type.length),
            field="name",
        )
    attendee.name = name
    option = attendee.meal_option
    if option is None:
        return
    new_diets = sorted(set(diets))
    if new_diets != sorted(attendee.diets) or diet_note != attendee.diet_note:
        if not option.signup_open(now):
            raise Refused(
                _l("The meal’s sign-up has closed: diets can no longer be changed."),
                field="diets",
            )
        if set(new_diets) - set(option.diets):
            raise Refused(_l("Please choose from the diets this meal offers."), field="diets")
        if len(diet_note) > Attendee.diet_note.type.length:
            raise Refused(
                _l(
                    "Please keep the note under %(count)d characters.",
                    count=Attendee.diet_note.type.length,
                ),
                field="diet_note",
            )
        attendee.diets = new_diets
        attendee.diet_note = diet_note


def _payments_of(registration: Registration, status: PaymentStatus) -> list[Payment]:
    return db.session.scalars(
        sa.select(Payment)
        .where(Payment.registration_id == registration.id, Payment.status == status)
        .order_by(Payment.id)
    ).all()


def _refunds(
    registration: Registration, amount_cents: int, now: datetime, always: bool = False
) -> list[tuple[Payment, int]]:
    """The online payments to give back up to `amount_cents` from, latest first, with the
    part of each: until the refund deadline (or `always`, when an organiser decides).

    Money paid at the door is the organisers' to give back; it is not in here.
    """
    if amount_cents <= 0 or (now >= registration.event.refund_deadline and not always):
        return []
    parts = []
    for payment in reversed(_payments_of(registration, PaymentStatus.PAID)):
        if payment.provider != PaymentProvider.STRIPE:
            continue  # cash: the organisers give it back by hand
        part = min(amount_cents, payment.amount_cents - payment.refunded_cents)
        if part <= 0:
            continue
        parts.append((payment, part))
        amount_cents -= part
    return parts


def _refund(
    registration: Registration, amount_cents: int, now: datetime, always: bool = False
) -> None:
    """Give back up to `amount_cents` of what was paid online (see `_refunds`); Stripe is
    asked after the commit."""
    for payment, part in _refunds(registration, amount_cents, now, always):
        stripe_calls.refund(payment, part)
        registration.amount_paid_cents -= part
    if registration.amount_paid_cents <= 0 and registration.payment_state == PaymentState.PAID:
        registration.payment_state = PaymentState.REFUNDED


def check_stripe_answers(
    registrations: list[Registration], now: datetime, always: bool = False
) -> None:
    """Before the event is locked: when any of `registrations` gets money back through
    Stripe, ask Stripe whether it answers. Raises PaymentUnavailable when it does not, so
    nothing is cancelled while Stripe is away; a refund recorded once it answers is
    made after the commit (and tried again by `coop send-stripe` if Stripe goes away
    just then)."""
    for registration in registrations:
        refunds = _refunds(registration, registration.amount_paid_cents, now, always)
        if refunds:
            payments.check_stripe_answers(refunds[0][0])
            return


def refund_everything(registration: Registration, now: datetime | None = None) -> None:
    """Refund all a party paid online and close its unfinished payment pages: for an
    event that does not go ahead. Stripe is asked after the commit."""
    _refund(registration, registration.amount_paid_cents, now or utcnow(), always=True)
    _close_open_payments(registration)


def _close_open_payments(registration: Registration) -> None:
    """Close the registration's unfinished Checkout pages: they can no longer be paid
    (at Stripe after the commit)."""
    for payment in _payments_of(registration, PaymentStatus.OPEN):
        stripe_calls.expire_checkout(payment)
        payment.status = PaymentStatus.EXPIRED


def _line_items(registration: Registration) -> list[payments.LineItem]:
    """What the Checkout page lists: entry tickets, then each meal at its price."""
    people = registration.active_attendees
    items = []
    if registration.event.ticket_price_cents:
        items.append(
            payments.LineItem(
                str(_l("Entry: %(title)s", title=registration.event.title)),
                registration.event.ticket_price_cents,
                len(people),
            )
        )
    meals: dict[tuple[str, int], int] = {}
    for person in people:
        if person.meal_option is not None and person.meal_price_cents:
            key = (person.meal_option.name, person.meal_price_cents)
            meals[key] = meals.get(key, 0) + 1
    items += [payments.LineItem(name, price, count) for (name, price), count in meals.items()]
    return items


def start_payment(registration: Registration, now: datetime | None = None) -> str:
    """The address of the Checkout page where a held registration pays what it owes.

    An open page is reused; otherwise a new payment and page are made. Refuses
    when the registration is not waiting for a payment or its hold
    is over; raises payments.PaymentUnavailable when Stripe does not answer.
    """
    now = now or utcnow()
    if registration.status != RegistrationStatus.PENDING_PAYMENT or (
        registration.hold_expires_at and registration.hold_expires_at <= now
    ):
        raise Refused(_l("This registration is not waiting for a payment."), field="event")
    for payment in _payments_of(registration, PaymentStatus.OPEN):
        url = payments.checkout_url(payment)
        if url and payment.amount_cents == registration.amount_open_cents:
            return url
        payment.status = PaymentStatus.EXPIRED
    event = registration.event
    payment = payments.new_payment(
        registration.amount_open_cents,
        f"{event.title}: {registration.contact_name}",
        registration=registration,
    )
    manage_url = external_url("registrations.manage", token=registration.token)
    with force_locale(registration.locale):
        items = _line_items(registration)
    return payments.start_checkout(
        payment,
        items,
        customer_email=registration.contact_email,
        locale=registration.locale,
        success_url=manage_url + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=manage_url + "?checkout=cancelled",
        pay_before=registration.hold_expires_at or now,
    )


def payment_succeeded(payment: Payment) -> None:
    """A registration's online payment arrived: confirm the party, once, and e-mail it.

    A payment that comes after its hold expired confirms the party if its seats are still
    free; otherwise (or when it is not owed at all) it is refunded (after the commit)
    and the person told. Nobody pays for a seat they do not get.
    """
    registration = payment.registration
    event = registration.event
    lock_event(event)
    db.session.refresh(payment)
    db.session.refresh(registration)
    if payment.status != PaymentStatus.OPEN and payment.status != PaymentStatus.EXPIRED:
        return  # settled already (by the webhook or the return page)
    payment.status = PaymentStatus.PAID
    payment.paid_at = utcnow()
    if registration.status == RegistrationStatus.CANCELLED and _can_reinstate(registration):
        registration.status = RegistrationStatus.PENDING_PAYMENT
        registration.cancelled_at = None
    if registration.status != RegistrationStatus.PENDING_PAYMENT:
        stripe_calls.refund(payment, payment.amount_cents)
        db.session.flush()
        _mail(registration, "registration_refunded", amount=payment.amount_cents)
        return
    excess = payment.amount_cents - registration.amount_open_cents
    if excess > 0:  # a person left the party while this page was being paid
        stripe_calls.refund(payment, excess)
    registration.amount_paid_cents += payment.amount_cents - max(excess, 0)
    registration.status = RegistrationStatus.CONFIRMED
    registration.payment_state = PaymentState.PAID
    registration.hold_expires_at = None
    _close_open_payments(registration)
    db.session.flush()
    _mail(registration, "registration_paid")


def _can_reinstate(registration: Registration) -> bool:
    """Whether a party whose hold ran out can still have its seats (for a late payment)."""
    event = registration.event
    if event.registration_state() != "open" or registration.active_attendees == []:
        return False
    other = db.session.scalar(
        sa.select(Registration.id).where(
            Registration.event_id == event.id,
            Registration.contact_email == registration.contact_email,
            Registration.status != RegistrationStatus.CANCELLED,
            Registration.id != registration.id,
        )
    )
    if other is not None:
        return False
    places.count_afresh(event)
    return places.fits(event, registration.active_attendees)


def payment_failed(payment: Payment, now: datetime | None = None) -> None:
    """Stripe closed a registration's Checkout page unpaid (expired or failed).

    The party keeps its hold until the hold's own time is up, so it can try again; a hold
    already over is released (seats freed, waiting list promoted, the person told).
    """
    now = now or utcnow()
    registration = payment.registration
    lock_event(registration.event)
    db.session.refresh(payment)
    db.session.refresh(registration)
    if payment.status != PaymentStatus.OPEN:
        return
    payment.status = PaymentStatus.EXPIRED
    if (
        registration.status == RegistrationStatus.PENDING_PAYMENT
        and registration.hold_expires_at is not None
        and registration.hold_expires_at <= now
    ):
        release_hold(registration, now)


def release_hold(registration: Registration, now: datetime | None = None) -> None:
    """End an unpaid hold: free the seats and meals, promote the waiting list, tell them.

    The party itself is kept as it was (cancelled as a whole), so a payment that still
    arrives can give it back its seats if they are free.
    """
    now = now or utcnow()
    lock_event(registration.event)
    _close_open_payments(registration)
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    registration.hold_expires_at = None
    registration.payment_state = PaymentState.NONE
    db.session.flush()
    _mail(registration, "registration_expired")
    promote_waitlist(registration.event)


def expire_holds(now: datetime | None = None) -> int:
    """Release every hold whose time is up (for cron); return how many were released."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(Registration).where(
            Registration.status == RegistrationStatus.PENDING_PAYMENT,
            Registration.hold_expires_at <= now,
        )
    ).all()
    released = 0
    for registration in due:
        lock_event(registration.event)
        db.session.refresh(registration)
        if (
            registration.status == RegistrationStatus.PENDING_PAYMENT
            and registration.hold_expires_at is not None
            and registration.hold_expires_at <= now
        ):
            release_hold(registration, now)
            released += 1
    return released


SUBJECTS = {
    "registration_received": lambda title: _l("Your registration: %(title)s", title=title),
    "registration_link": lambda title: _l("Your registration link: %(title)s", title=title),
    "registration_promoted": lambda title: _l("A place for you: %(title)s", title=title),
    "registration_cancelled": lambda title: _l("Cancelled: %(title)s", title=title),
    "registration_paid": lambda title: _l("Paid, see you there: %(title)s", title=title),
    "registration_expired": lambda title: _l("Your seats were released: %(title)s", title=title),
    "registration_refunded": lambda title: _l("Your payment is refunded: %(title)s", title=title),
}


def _mail(registration: Registration, template: str, **context) -> None:
    """E-mail the party's contact, in their language, with the event's calendar file and,
    for a confirmed party, each person's ticket with its QR code (in an HTML part)."""
    event = registration.event
    ticket_holders = tickets.mailed_tickets(registration)
    attachments = tickets.ticket_images(ticket_holders)
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
        html_template="tickets" if ticket_holders else None,
        tickets=[
            (attendee, tickets.content_id(attendee), tickets.ticket_url(attendee))
            for attendee in ticket_holders
        ],
        registration=registration,
        event=event,
        position=waitlist_position(registration),
        manage_url=external_url("registrations.manage", token=registration.token),
        event_url=external_url("events.show", slug=event.slug),
        **context,
    )
