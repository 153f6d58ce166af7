"""Online payments through Stripe Checkout, for anything we sell: a registration, a membership.

A `Payment` row is ours; a Checkout Session is Stripe's page where the person pays. We
believe only what we ask Stripe ourselves: a signed webhook is a prompt to ask, never the
answer (its payload could be old, or signed by someone who got hold of the secret), and so
is the person coming back from the Checkout page. Both fetch the session from Stripe and
arrive at `settle_session`, which checks amount and currency against our own row and then
lets the thing paid for settle it, once: whichever comes second finds it settled.
Pages are made in `checkout.py`; refunds and closed pages are sent after the commit by
`stripe_calls.py`: no call to Stripe is made while a transaction holds a write.

The Stripe SDK (with `requests` under it, some 5 MB) is imported in the functions that call
Stripe, not here: a web worker that takes no payment never loads it.
"""

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Payment, PaymentStatus, StripeEvent, utcnow

if TYPE_CHECKING:
    import stripe

log = logging.getLogger(__name__)

# Events that make us ask Stripe how a Checkout Session stands; others are acknowledged.
SESSION_EVENTS = "checkout.session."
PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
FAILED_EVENTS = {"checkout.session.expired", "checkout.session.async_payment_failed"}
# How far a webhook's signature time may lie from ours, in the past (Stripe's SDK checks
# that) and in the future (we do): five minutes, as the SDK's own default.
SIGNATURE_TOLERANCE_SECONDS = 300
# What `settle_session` did.
PAID = "paid"
FAILED = "failed"
WAITING = "waiting for an asynchronous payment"
STILL_OPEN = "the session is still open"
UNKNOWN = "a session we do not know"
MISMATCH = "refunded: Stripe's amount differs from ours"
# A payment intent in these states will not be paid: an asynchronous payment failed.
FAILED_INTENT_STATES = {"requires_payment_method", "canceled"}


class PaymentUnavailable(Exception):
    """Stripe could not be reached or refused the request; nothing was charged."""


class WebhookRefused(Exception):
    """A webhook without a valid signature, or with a body that is not a Stripe event."""


def online_payments_enabled() -> bool:
    """Whether Stripe is configured: a secret key and a webhook secret."""
    config = current_app.config
    return bool(config["STRIPE_SECRET_KEY"] and config["STRIPE_WEBHOOK_SECRET"])


def stripe_client() -> "stripe.StripeClient":
    import stripe

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


def close_checkout(session_id: str, idempotency_key: str | None = None) -> None:
    """Ask Stripe to expire Checkout Session `session_id`. Raises stripe.StripeError (also
    when the session is complete or expired already)."""
    options = {"idempotency_key": idempotency_key} if idempotency_key else {}
    stripe_client().v1.checkout.sessions.expire(session_id, options=options)


def fetch_session(session_id: str):
    """Stripe's own word on a Checkout Session (its payment intent expanded), or None when
    Stripe does not know it. Raises PaymentUnavailable when Stripe does not answer."""
    import stripe

    try:
        return stripe_client().v1.checkout.sessions.retrieve(
            session_id, params={"expand": ["payment_intent"]}
        )
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return None
        raise PaymentUnavailable(str(error)) from error
    except stripe.StripeError as error:
        log.warning("Could not read session %s: %s", session_id, error)
        raise PaymentUnavailable(str(error)) from error


def sync_checkout(payment: Payment) -> None:
    """Ask Stripe how `payment`'s session stands and act on it (for the return page).

    Stripe not answering is logged and changes nothing: its webhook settles it later.
    """
    if not payment.stripe_checkout_session_id or payment.status != PaymentStatus.OPEN:
        return
    try:
        session = fetch_session(payment.stripe_checkout_session_id)
    except PaymentUnavailable:
        return
    if session is not None:
        settle_session(session)


def record_paid(payment: Payment, now: datetime) -> bool:
    """Count `payment` paid at `now`, once: read afresh (the caller holds the lock of what
    it pays for), an open or expired payment becomes paid. False for one settled already
    (by the webhook or the return page): the caller leaves it be."""
    db.session.refresh(payment)
    if payment.status not in (PaymentStatus.OPEN, PaymentStatus.EXPIRED):
        return False
    payment.status = PaymentStatus.PAID
    payment.paid_at = now
    return True


def refundable_cents(payment: Payment, amount_cents: int) -> int:
    """At most what is left of `payment` to give back."""
    return min(amount_cents, payment.amount_cents - payment.refunded_cents)


def refund_key(payment: Payment) -> str:
    """The idempotency key of `payment`'s next refund: one per amount refunded before."""
    return f"refund-{payment.id}-{payment.refunded_cents}"


def count_refund(payment: Payment, amount_cents: int) -> None:
    """Note `amount_cents` of `payment` as given back; all of it makes it refunded."""
    payment.refunded_cents += amount_cents
    if payment.refunded_cents >= payment.amount_cents:
        payment.status = PaymentStatus.REFUNDED


def create_refund(payment: Payment, amount_cents: int, idempotency_key: str) -> None:
    """Ask Stripe to refund `amount_cents` of `payment`. Raises stripe.StripeError."""
    stripe_client().v1.refunds.create(
        params={
            "payment_intent": payment.stripe_payment_intent_id,
            "amount": amount_cents,
            "metadata": {"payment_id": str(payment.id)},
        },
        options={"idempotency_key": idempotency_key},
    )


def check_stripe_answers(payment: Payment) -> None:
    """Ask Stripe for `payment`'s payment intent; raises PaymentUnavailable when Stripe
    does not answer. Asked before a lock is taken to record a refund, so that nothing
    is cancelled while Stripe is away (the refund itself is made after the commit)."""
    import stripe

    try:
        stripe_client().v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    except stripe.StripeError as error:
        log.warning("Stripe does not answer before a refund of payment %s: %s", payment.id, error)
        raise PaymentUnavailable(str(error)) from error


def handle_webhook(payload: bytes, signature: str | None) -> str:
    """Verify a webhook, ask Stripe how its Checkout Session stands, and act on that once;
    return what was done (for the log).

    Raises WebhookRefused for a missing or wrong signature, or one made more than
    SIGNATURE_TOLERANCE_SECONDS before or after now; PaymentUnavailable when Stripe does
    not answer (nothing is recorded: Stripe delivers the event again later). The event's
    own account of the session is not believed: only the session fetched from Stripe. An
    event id seen before is acknowledged and not acted on again, also when two deliveries
    race: the second one waits for the first one's row and then finds it.
    """
    event = verified_event(payload, signature)
    if db.session.get(StripeEvent, event.id) is not None:
        return "duplicate"
    # Mandates given in setup mode, dues debited and disputed (sepa_stripe).
    from . import sepa_stripe

    if sepa_stripe.concerns(event):
        return sepa_stripe.handle_event(event)
    session = None
    if event.type.startswith(SESSION_EVENTS):
        # Asked before anything is locked: no lock waits on Stripe's answer.
        session_id = getattr(event.data.object, "id", None)
        session = fetch_session(session_id) if isinstance(session_id, str) else None
    try:
        with db.session.begin_nested():
            db.session.add(StripeEvent(id=event.id, type=event.type))
    except IntegrityError:
        return "duplicate"
    if not event.type.startswith(SESSION_EVENTS):
        return "ignored"
    if session is None:
        log.warning("Event %s names a session Stripe does not know", event.id)
        return UNKNOWN
    done = settle_session(session)
    if (done == PAID and event.type in PAID_EVENTS) or (
        done == FAILED and event.type in FAILED_EVENTS
    ):
        return event.type
    return done


def verified_event(payload: bytes, signature: str | None) -> "stripe.Event":
    """The Stripe event in `payload`, when `signature` is Stripe's for it and was made at
    most SIGNATURE_TOLERANCE_SECONDS from now. Raises WebhookRefused otherwise; Stripe's
    SDK checks only signatures from the past, so one from the future is refused here."""
    import stripe

    signature = signature or ""
    try:
        event = stripe.Webhook.construct_event(
            payload,
            signature,
            current_app.config["STRIPE_WEBHOOK_SECRET"],
            tolerance=SIGNATURE_TOLERANCE_SECONDS,
        )
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise WebhookRefused(str(error)) from error
    # Checked above: the header has a `t=` with a number.
    signed_at = int(dict(item.split("=", 1) for item in signature.split(",") if "=" in item)["t"])
    if signed_at > utcnow().timestamp() + SIGNATURE_TOLERANCE_SECONDS:
        raise WebhookRefused(f"signed in the future: t={signed_at}")
    return event


def settle_session(session) -> str:
    """Settle our payment as Stripe's `session` (fetched from Stripe) stands; return what
    was done: PAID, FAILED (the page expired or an asynchronous payment failed), WAITING,
    STILL_OPEN, UNKNOWN or MISMATCH.

    A paid session whose amount or currency differs from our row confirms nothing: the
    money goes back and the mismatch is logged. A row an earlier version marked failed on
    a webhook's word is settled like an open one.
    """
    payment = db.session.scalar(
        sa.select(Payment).where(Payment.stripe_checkout_session_id == session.id)
    )
    if payment is None:
        log.warning("A Stripe session we do not know: %s", session.id)
        return UNKNOWN
    outcome = _outcome(session)
    if outcome == FAILED:
        _settle(payment, paid=False)
    if outcome != PAID:
        return outcome
    if payment.status == PaymentStatus.FAILED:
        payment.status = PaymentStatus.OPEN
    intent = session.payment_intent
    payment.stripe_payment_intent_id = intent if isinstance(intent, str) else intent.id
    if session.amount_total != payment.amount_cents or (session.currency or "").upper() != (
        payment.currency
    ):
        _refund_mismatch(payment, session)
        return MISMATCH
    _settle(payment, paid=True)
    return PAID


def _outcome(session) -> str:
    """What Stripe's `session` says about the payment: PAID, FAILED, WAITING or STILL_OPEN."""
    if session.status == "expired":
        return FAILED
    if session.status != "complete":
        return STILL_OPEN
    if session.payment_status in ("paid", "no_payment_required"):
        return PAID
    intent = session.payment_intent
    if (
        intent is not None
        and not isinstance(intent, str)
        and intent.status in (FAILED_INTENT_STATES)
    ):
        return FAILED
    return WAITING


def _refund_mismatch(payment: Payment, session) -> None:
    """Give back everything Stripe took for a session whose amount or currency is not our
    row's (at Stripe after the commit, `stripe_calls`), and log it for the treasurer:
    nothing is confirmed for it. Once: a row already refunded is left alone."""
    # Imported here: stripe_calls uses this module.
    from . import stripe_calls

    log.error(
        "Payment %s: Stripe says %s %s for session %s, we expected %s %s; refunding it",
        payment.id,
        session.amount_total,
        session.currency,
        session.id,
        payment.amount_cents,
        payment.currency,
    )
    if payment.status == PaymentStatus.REFUNDED:
        return
    stripe_calls.refund_taken(payment, session.amount_total or 0, f"refund-mismatch-{session.id}")


def _settle(payment: Payment, paid: bool) -> None:
    """Let what was paid for act on the outcome (it locks, checks and records it once).
    A payment completed for nothing any more (what it paid for was taken away while its
    page was open) is refunded, once, after the commit."""
    # Imported here: registrations use payments, and payments report back to them.
    from . import collaboration_costs, membership, registration, share_payments

    outcomes = (
        (payment.membership_id, membership.payment_succeeded, _payment_failed),
        (payment.registration_id, registration.payment_succeeded, registration.payment_failed),
        (payment.share_purchase_id, share_payments.payment_succeeded, _payment_failed),
        (payment.cost_share_id, collaboration_costs.payment_succeeded, _payment_failed),
    )
    for paid_for, succeeded, failed in outcomes:
        if paid_for is not None:
            (succeeded if paid else failed)(payment)
    if paid and _pays_for_nothing(payment):
        _refund_for_nothing(payment)


def _payment_failed(payment: Payment) -> None:
    """A Checkout page for a membership fee, shares or a cost share closed unpaid: what
    it was for stays due, and can be paid again (a registration has its own rule)."""
    if payment.status == PaymentStatus.OPEN:
        payment.status = PaymentStatus.EXPIRED


def _pays_for_nothing(payment: Payment) -> bool:
    """Whether what `payment` was for is gone (a cost share taken away with its cost, a
    registration or membership deleted): no one settles it."""
    return (
        payment.membership_id is None
        and payment.registration_id is None
        and payment.share_purchase_id is None
        and payment.cost_share_id is None
    )


def _refund_for_nothing(payment: Payment) -> None:
    """Give back a Checkout payment that pays for nothing any more, after the commit
    (`stripe_calls`), and log it. Once: the row is claimed with one conditional UPDATE, so
    a second word from Stripe (the return page, a repeated event) finds it settled."""
    # Imported here: stripe_calls uses this module.
    from . import stripe_calls

    claimed = db.session.execute(
        sa.update(Payment)
        .where(
            Payment.id == payment.id,
            Payment.status.in_([PaymentStatus.OPEN, PaymentStatus.EXPIRED]),
        )
        .values(status=PaymentStatus.PAID, paid_at=utcnow()),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not claimed:
        return
    db.session.refresh(payment)
    log.warning("Payment %s pays for nothing any more; refunding it", payment.id)
    stripe_calls.refund(payment, payment.amount_cents)
