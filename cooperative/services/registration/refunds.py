"""Giving back what was paid online, and closing unfinished Checkout pages."""

from datetime import datetime

import sqlalchemy as sa

from ...extensions import db
from ...models import (
    Payment,
    PaymentProvider,
    PaymentState,
    PaymentStatus,
    Registration,
    utcnow,
)
from .. import payments, stripe_calls


def payments_of(registration: Registration, status: PaymentStatus) -> list[Payment]:
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
    for payment in reversed(payments_of(registration, PaymentStatus.PAID)):
        if payment.provider != PaymentProvider.STRIPE:
            continue  # cash: the organisers give it back by hand
        part = min(amount_cents, payment.amount_cents - payment.refunded_cents)
        if part <= 0:
            continue
        parts.append((payment, part))
        amount_cents -= part
    return parts


def refund(
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
    refund(registration, registration.amount_paid_cents, now or utcnow(), always=True)
    close_open_payments(registration)


def close_open_payments(registration: Registration) -> None:
    """Close the registration's unfinished Checkout pages: they can no longer be paid
    (at Stripe after the commit)."""
    stripe_calls.close_pages(payments_of(registration, PaymentStatus.OPEN))
