"""Paying online: the Checkout page, a payment that arrives or fails, holds that run out."""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...locking import lock_event
from ...models import (
    Payment,
    PaymentState,
    PaymentStatus,
    Registration,
    RegistrationStatus,
    utcnow,
)
from ...refusals import Refused
from .. import checkout, payments, places, stripe_calls
from ..mail import external_url
from .notices import notify
from .refunds import close_open_payments, payments_of
from .signup import promote_waitlist


def _line_items(registration: Registration) -> list[checkout.LineItem]:
    """What the Checkout page lists: entry tickets, then each meal at its price."""
    people = registration.active_attendees
    items = []
    if registration.event.ticket_price_cents:
        items.append(
            checkout.LineItem(
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
    items += [checkout.LineItem(name, price, count) for (name, price), count in meals.items()]
    return items


def start_payment(registration: Registration, now: datetime | None = None) -> checkout.Checkout:
    """The Checkout page where a held registration pays what it owes, to be made once
    the pending payment is committed (see `services/checkout.py`).

    An open page is reused; a payment whose page Stripe did not make is tried again;
    otherwise a new payment is added. Refuses when the registration is not waiting for
    a payment or its hold is over; raises payments.PaymentUnavailable when Stripe does
    not answer about an open page. Flushes.
    """
    now = now or utcnow()
    if registration.status != RegistrationStatus.PENDING_PAYMENT or (
        registration.hold_expires_at and registration.hold_expires_at <= now
    ):
        raise Refused(_l("This registration is not waiting for a payment."), field="event")
    event = registration.event
    manage_url = external_url("registrations.manage", token=registration.token)
    with force_locale(registration.locale):
        items = _line_items(registration)
    return checkout.prepare(
        payments_of(registration, PaymentStatus.OPEN),
        registration.amount_open_cents,
        items,
        description=f"{event.title}: {registration.contact_name}",
        customer_email=registration.contact_email,
        locale=registration.locale,
        **checkout.return_urls(manage_url),
        pay_before=registration.hold_expires_at or now,
        now=now,
        registration=registration,
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
    if not payments.record_paid(payment, utcnow()):
        return
    db.session.refresh(registration)
    if registration.status == RegistrationStatus.CANCELLED and _can_reinstate(registration):
        registration.status = RegistrationStatus.PENDING_PAYMENT
        registration.cancelled_at = None
    if registration.status != RegistrationStatus.PENDING_PAYMENT:
        stripe_calls.refund(payment, payment.amount_cents)
        db.session.flush()
        notify(registration, "registration_refunded", amount=payment.amount_cents)
        return
    excess = payment.amount_cents - registration.amount_open_cents
    if excess > 0:  # a person left the party while this page was being paid
        stripe_calls.refund(payment, excess)
    registration.amount_paid_cents += payment.amount_cents - max(excess, 0)
    registration.status = RegistrationStatus.CONFIRMED
    registration.payment_state = PaymentState.PAID
    registration.hold_expires_at = None
    close_open_payments(registration)
    db.session.flush()
    notify(registration, "registration_paid")


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
    close_open_payments(registration)
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    registration.hold_expires_at = None
    registration.payment_state = PaymentState.NONE
    db.session.flush()
    notify(registration, "registration_expired")
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
