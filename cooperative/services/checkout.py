"""Stripe Checkout pages, made while no transaction holds a write.

Stripe takes a moment to make a Checkout Session, sometimes seconds. A transaction that
has written holds its locks meanwhile (on SQLite: the database's write lock, which every
writer on the site queues for), so the page is made in three steps:

1. `prepare`, in a transaction the caller commits: the pending `Payment` row and
   everything Stripe is to be sent (a `Checkout`), or an open page to reuse.
2. `create_session`, with no transaction open: the call to Stripe. Its idempotency key
   comes from the payment row and what is sent, so trying the same payment again (Stripe
   timed out, the person presses "try again") gets the session Stripe may already have
   made, never a second one.
3. `record_session`, in a short transaction the caller commits: the session on its
   payment. A payment closed meanwhile (the registration was cancelled, its hold ran
   out) gets its new page closed at Stripe after the commit.

`views/checkout.go_to_checkout` runs the three with the commits between them. The Stripe SDK
is imported where it is called, as in `payments`.
"""

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Payment, PaymentProvider, PaymentStatus, utcnow
from . import payments, stripe_calls

log = logging.getLogger(__name__)

# Stripe takes Checkout Sessions that expire between 30 minutes and 24 hours from now.
SESSION_MIN = timedelta(minutes=30, seconds=30)
SESSION_MAX = timedelta(hours=23, minutes=59)
# A payment whose page was never made is tried again as it was (same expiry, same key)
# only while Stripe would still take that expiry for a new session.
STRIPE_MIN = timedelta(minutes=30)


@dataclass
class LineItem:
    """One line on the Checkout page: "2 × Diner vanaf 17:30, € 5,00"."""

    name: str
    unit_amount_cents: int
    quantity: int = 1


@dataclass(frozen=True)
class Checkout:
    """A Checkout Session to make for a committed pending payment (plain data, so that
    sending it needs no database), or `url`: an open page of the same amount to reuse."""

    payment_id: int | None = None
    params: dict = field(default_factory=dict)
    idempotency_key: str = ""
    url: str | None = None


def return_urls(page: str) -> dict[str, str]:
    """Where Stripe's Checkout page sends the person back to `page`: `success_url` with
    the session's id (the page then asks Stripe how it stands), `cancel_url` with
    `?checkout=cancelled` (views/checkout.py `back_from_checkout` reads both)."""
    return {
        "success_url": page + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": page + "?checkout=cancelled",
    }


def prepare(
    open_payments: list[Payment],
    amount_cents: int,
    line_items: list[LineItem],
    *,
    description: str,
    customer_email: str,
    locale: str,
    success_url: str,
    cancel_url: str,
    pay_before: datetime,
    now: datetime | None = None,
    **paid_for,
) -> Checkout:
    """What to send to Stripe for `amount_cents` (`line_items` add up to it; ValueError
    otherwise), given the thing's open online payments.

    An open page of the same amount is reused (`url`). A payment whose page was never
    made (Stripe did not answer) is tried again with the same key while its expiry is
    still one Stripe takes; otherwise a new payment is added, whose page expires at
    `pay_before` (kept within Stripe's limits). Other open payments are closed: their
    pages are expired or of another amount. Stripe is asked about open pages before
    anything is written, so no lock is held while it answers. Raises PaymentUnavailable
    when it does not answer. Flushes; the caller commits before `create_session`.
    """
    now = now or utcnow()
    total = sum(item.unit_amount_cents * item.quantity for item in line_items)
    if total != amount_cents:
        raise ValueError(f"line items add up to {total}, the payment is {amount_cents}")
    pages = {p.id: page_url(p) for p in open_payments if p.stripe_checkout_session_id}
    retry = None
    for payment in open_payments:
        if payment.amount_cents == amount_cents:
            if pages.get(payment.id):
                return Checkout(url=pages[payment.id])
            if retry is None and _can_retry(payment, now):
                retry = payment
                continue
        payment.status = PaymentStatus.EXPIRED
    payment = retry or _new_payment(amount_cents, description, pay_before, now, **paid_for)
    metadata = {"payment_id": str(payment.id)}
    params = {
        "mode": "payment",
        "allowed_payment_method_types": current_app.config["STRIPE_PAYMENT_METHODS"],
        "line_items": [
            {
                "quantity": item.quantity,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": item.unit_amount_cents,
                    "product_data": {"name": item.name[:250]},
                },
            }
            for item in line_items
        ],
        "customer_email": customer_email,
        "locale": locale if locale in ("nl", "en") else "auto",
        "client_reference_id": f"payment-{payment.id}",
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(payment.expires_at.timestamp()),
    }
    return Checkout(payment.id, params, _idempotency_key(payment, params))


def _can_retry(payment: Payment, now: datetime) -> bool:
    return (
        payment.provider == PaymentProvider.STRIPE
        and payment.stripe_checkout_session_id is None
        and payment.expires_at is not None
        and payment.expires_at >= now + STRIPE_MIN
    )


def _new_payment(
    amount_cents: int, description: str, pay_before: datetime, now: datetime, **paid_for
) -> Payment:
    """An open online payment whose page is still to be made."""
    payment = Payment(
        provider=PaymentProvider.STRIPE,
        status=PaymentStatus.OPEN,
        amount_cents=amount_cents,
        currency="EUR",
        description=description[:300],
        expires_at=min(max(pay_before, now + SESSION_MIN), now + SESSION_MAX),
        created_at=now,
        **paid_for,
    )
    db.session.add(payment)
    db.session.flush()
    return payment


def _idempotency_key(payment: Payment, params: dict) -> str:
    """One key per payment row and what is sent: the same again gets Stripe's first
    answer; a party changed meanwhile is a new request (Stripe refuses a key sent again
    with other parameters)."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return f"checkout-{payment.id}-{int(payment.created_at.timestamp())}-{digest}"


def page_url(payment: Payment) -> str | None:
    """The page of `payment`'s session while it can still be paid, else None. Raises
    PaymentUnavailable when Stripe does not answer."""
    import stripe

    if not payment.stripe_checkout_session_id:
        return None
    try:
        session = payments.stripe_client().v1.checkout.sessions.retrieve(
            payment.stripe_checkout_session_id
        )
    except stripe.StripeError as error:
        raise payments.PaymentUnavailable(str(error)) from error
    return session.url if session.status == "open" else None


def create_session(checkout: Checkout):
    """Make the Checkout Session at Stripe and return it. Refuses (RuntimeError) while
    the session has a transaction open: a lock could be held as long as Stripe takes.
    Raises PaymentUnavailable when Stripe does not answer or refuses; nothing is charged,
    and the pending payment is there to try again."""
    import stripe

    if db.session().in_transaction():
        raise RuntimeError("a Checkout Session is made with no transaction open")
    try:
        return payments.stripe_client().v1.checkout.sessions.create(
            params=checkout.params, options={"idempotency_key": checkout.idempotency_key}
        )
    except stripe.StripeError as error:
        log.warning("Stripe refused or did not answer a Checkout Session: %s", error)
        raise payments.PaymentUnavailable(str(error)) from error


def record_session(checkout: Checkout, session) -> bool:
    """Put Stripe's new `session` on its payment; return whether the payment is still
    open. One conditional UPDATE, so a payment closed meanwhile stays closed: it gets the
    session too (a payment made on it all the same is found and given back) and the page
    is closed at Stripe after the commit. Flushes; the caller commits."""
    stored = db.session.execute(
        sa.update(Payment)
        .where(
            Payment.id == checkout.payment_id,
            Payment.status == PaymentStatus.OPEN,
            sa.or_(
                Payment.stripe_checkout_session_id.is_(None),
                Payment.stripe_checkout_session_id == session.id,
            ),
        )
        .values(stripe_checkout_session_id=session.id),
        execution_options={"synchronize_session": False},
    ).rowcount
    if stored:
        return True
    payment = db.session.get(Payment, checkout.payment_id)
    if payment is not None and payment.stripe_checkout_session_id is None:
        payment.stripe_checkout_session_id = session.id
        stripe_calls.expire_checkout(payment)
        db.session.flush()
    log.info("Payment %s was closed while Stripe made session %s", checkout.payment_id, session.id)
    return False
