"""Online payments through Stripe Checkout, for anything we sell: a registration, a membership.

A `Payment` row is ours; a Checkout Session is Stripe's page where the person pays. We
believe Stripe about a payment in two ways only: a webhook whose signature checks out, or
a session we ask Stripe for ourselves (when the person comes back before the webhook).
Both arrive at `apply_session`, which checks amount and currency against our own row and
then lets the thing paid for settle it, once: whichever comes second finds it settled.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import stripe
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Payment, PaymentProvider, PaymentStatus, StripeEvent, utcnow

log = logging.getLogger(__name__)

# Stripe takes Checkout Sessions that expire between 30 minutes and 24 hours from now.
SESSION_MIN = timedelta(minutes=30, seconds=30)
SESSION_MAX = timedelta(hours=23, minutes=59)
# Events we act on; others are acknowledged and ignored.
PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
FAILED_EVENTS = {"checkout.session.expired", "checkout.session.async_payment_failed"}


class PaymentUnavailable(Exception):
    """Stripe could not be reached or refused the request; nothing was charged."""


class WebhookRefused(Exception):
    """A webhook without a valid signature, or with a body that is not a Stripe event."""


@dataclass
class LineItem:
    """One line on the Checkout page: "2 × Diner vanaf 17:30, € 5,00"."""

    name: str
    unit_amount_cents: int
    quantity: int = 1


def online_payments_enabled() -> bool:
    """Whether Stripe is configured: a secret key and a webhook secret."""
    config = current_app.config
    return bool(config["STRIPE_SECRET_KEY"] and config["STRIPE_WEBHOOK_SECRET"])


def stripe_client() -> stripe.StripeClient:
    config = current_app.config
    options = {}
    if config["STRIPE_API_BASE"]:
        options["base_addresses"] = {"api": config["STRIPE_API_BASE"]}
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        max_network_retries=1,
        http_client=stripe.RequestsClient(timeout=config["STRIPE_TIMEOUT_SECONDS"]),
        **options,
    )


def new_payment(amount_cents: int, description: str, **paid_for) -> Payment:
    """An open online payment of `amount_cents` for a registration or a membership."""
    payment = Payment(
        provider=PaymentProvider.STRIPE,
        status=PaymentStatus.OPEN,
        amount_cents=amount_cents,
        currency="EUR",
        description=description[:300],
        **paid_for,
    )
    db.session.add(payment)
    db.session.flush()
    return payment


def start_checkout(
    payment: Payment,
    line_items: list[LineItem],
    *,
    customer_email: str,
    locale: str,
    success_url: str,
    cancel_url: str,
    pay_before: datetime,
) -> str:
    """Create the Checkout Session for `payment` and return the address of its page.

    The session expires at `pay_before` (kept within Stripe's limits). Raises
    PaymentUnavailable when Stripe does not answer or refuses; nothing is charged then.
    """
    total = sum(item.unit_amount_cents * item.quantity for item in line_items)
    if total != payment.amount_cents:
        raise ValueError(f"line items add up to {total}, the payment is {payment.amount_cents}")
    now = utcnow()
    expires_at = min(max(pay_before, now + SESSION_MIN), now + SESSION_MAX)
    metadata = {"payment_id": str(payment.id)}
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params={
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
                "expires_at": int(expires_at.timestamp()),
            },
            options={"idempotency_key": f"payment-{payment.id}-{int(now.timestamp())}"},
        )
    except stripe.StripeError as error:
        log.warning("Stripe refused or did not answer a Checkout Session: %s", error)
        raise PaymentUnavailable(str(error)) from error
    payment.stripe_checkout_session_id = session.id
    payment.expires_at = expires_at
    return session.url


def checkout_url(payment: Payment) -> str | None:
    """The page of `payment`'s session while it can still be paid, else None."""
    if not payment.stripe_checkout_session_id:
        return None
    try:
        session = stripe_client().v1.checkout.sessions.retrieve(payment.stripe_checkout_session_id)
    except stripe.StripeError as error:
        raise PaymentUnavailable(str(error)) from error
    return session.url if session.status == "open" else None


def expire_checkout(payment: Payment) -> None:
    """Close `payment`'s session at Stripe so it can no longer be paid (best effort)."""
    if not payment.stripe_checkout_session_id:
        return
    try:
        stripe_client().v1.checkout.sessions.expire(payment.stripe_checkout_session_id)
    except stripe.StripeError as error:
        # Already complete or expired; a payment that still arrives is refunded.
        log.info("Could not expire session %s: %s", payment.stripe_checkout_session_id, error)


def sync_checkout(payment: Payment) -> None:
    """Ask Stripe how `payment`'s session stands and act on it (for the return page)."""
    if not payment.stripe_checkout_session_id or payment.status != PaymentStatus.OPEN:
        return
    try:
        session = stripe_client().v1.checkout.sessions.retrieve(payment.stripe_checkout_session_id)
    except stripe.StripeError as error:
        log.warning("Could not read session %s: %s", payment.stripe_checkout_session_id, error)
        return
    if session.status == "complete" and session.payment_status == "paid":
        apply_session(session, paid=True)
    elif session.status == "expired":
        apply_session(session, paid=False)


def refund(payment: Payment, amount_cents: int) -> None:
    """Give `amount_cents` of a paid online payment back. Raises PaymentUnavailable."""
    amount_cents = min(amount_cents, payment.amount_cents - payment.refunded_cents)
    if amount_cents <= 0:
        return
    if payment.provider == PaymentProvider.STRIPE:
        try:
            stripe_client().v1.refunds.create(
                params={
                    "payment_intent": payment.stripe_payment_intent_id,
                    "amount": amount_cents,
                    "metadata": {"payment_id": str(payment.id)},
                },
                options={"idempotency_key": f"refund-{payment.id}-{payment.refunded_cents}"},
            )
        except stripe.StripeError as error:
            log.warning("Stripe refused a refund of payment %s: %s", payment.id, error)
            raise PaymentUnavailable(str(error)) from error
    payment.refunded_cents += amount_cents
    if payment.refunded_cents >= payment.amount_cents:
        payment.status = PaymentStatus.REFUNDED


def handle_webhook(payload: bytes, signature: str | None) -> str:
    """Verify a webhook and act on it once; return what was done (for the log).

    Raises WebhookRefused for a missing or wrong signature. An event id seen before is
    acknowledged and not acted on again, also when two deliveries race: the second one
    waits for the first one's row and then finds it.
    """
    try:
        event = stripe.Webhook.construct_event(
            payload, signature or "", current_app.config["STRIPE_WEBHOOK_SECRET"]
        )
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise WebhookRefused(str(error)) from error
    try:
        with db.session.begin_nested():
            db.session.add(StripeEvent(id=event.id, type=event.type))
    except IntegrityError:
        return "duplicate"
    if event.type in PAID_EVENTS | FAILED_EVENTS:
        session = event.data.object
        if event.type == "checkout.session.completed" and session.payment_status != "paid":
            return "waiting for an asynchronous payment"
        apply_session(session, paid=event.type in PAID_EVENTS)
        return event.type
    return "ignored"


def apply_session(session, paid: bool) -> None:
    """Settle our payment for a Stripe session that was paid, or that expired or failed.

    A paid session whose amount or currency differs from our row is not believed: the
    payment is marked failed and logged, and nothing is confirmed.
    """
    payment = db.session.scalar(
        sa.select(Payment).where(Payment.stripe_checkout_session_id == session.id)
    )
    if payment is None:
        log.warning("A Stripe session we do not know: %s", session.id)
        return
    if not paid:
        _settle(payment, paid=False)
        return
    if session.amount_total != payment.amount_cents or (session.currency or "").upper() != (
        payment.currency
    ):
        log.error(
            "Payment %s: Stripe says %s %s, we expected %s %s",
            payment.id,
            session.amount_total,
            session.currency,
            payment.amount_cents,
            payment.currency,
        )
        payment.status = PaymentStatus.FAILED
        return
    payment.stripe_payment_intent_id = session.payment_intent
    _settle(payment, paid=True)


def _settle(payment: Payment, paid: bool) -> None:
    """Let what was paid for act on the outcome (it locks, checks and records it once)."""
    # Imported here: registrations use payments, and payments report back to them.
    from . import membership, registration

    if payment.membership_id is not None:
        if paid:
            membership.payment_succeeded(payment)
        else:
            membership.payment_failed(payment)
    if payment.registration_id is not None:
        if paid:
            registration.payment_succeeded(payment)
        else:
            registration.payment_failed(payment)
