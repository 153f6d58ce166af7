"""Refunds and closed Checkout pages, made at Stripe after the commit that decided them.

A cancellation decides to refund, or to close a Checkout page, while it holds the
event's lock (a membership's rejection, and a webhook whose amount is not ours, while
they hold a write). Calling Stripe there would keep every registration for the event (on
SQLite: every write on the site) waiting for as long as Stripe takes. So the decision
is recorded as a `StripeCall` row in the same transaction (`refund`, `expire_checkout`),
like a mail in the outbox, and made after the commit: by the same process right after
it commits (an `after_commit` hook, in a session of its own), and, when Stripe is away
then, by `coop send-stripe` later, with a growing delay between tries.

Each call is claimed, made and marked in separate commits. A crash between making and
marking leaves it to be made again after CLAIM_SECONDS: its idempotency key (the one
the code always sent) makes Stripe do it once.

The Stripe SDK is imported where it is called, as in `payments`.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from ..extensions import db
from ..models import (
    Payment,
    PaymentProvider,
    PaymentStatus,
    StripeCall,
    StripeCallKind,
    StripeCallStatus,
    utcnow,
)
from . import payments
from .queues import claim_due

if TYPE_CHECKING:
    import stripe

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# How long a claimed call is left to the process that claimed it before another tries.
CLAIM_SECONDS = 300
# The calls a session recorded, sent once it commits.
RECORDED = "stripe_calls_recorded"
# Stripe's answers worth trying again: it was away, busy, or the key was wrong.
RETRY_STATUSES = {401, 409, 429}


def refund(payment: Payment, amount_cents: int) -> StripeCall | None:
    """Give `amount_cents` of a paid online payment back, after the commit.

    The payment counts it as refunded now; the refund is made at Stripe once the
    caller's transaction commits (never while its lock is held). Nothing is recorded
    for nothing left to give back, nor for money not paid through Stripe.
    """
    amount_cents = payments.refundable_cents(payment, amount_cents)
    if amount_cents <= 0:
        return None
    call = None
    if payment.provider == PaymentProvider.STRIPE:
        call = _record(
            StripeCall(
                payment=payment,
                kind=StripeCallKind.REFUND,
                amount_cents=amount_cents,
                idempotency_key=payments.refund_key(payment),
            )
        )
    payments.count_refund(payment, amount_cents)
    return call


def refund_taken(payment: Payment, amount_cents: int, idempotency_key: str) -> StripeCall | None:
    """Give back all that Stripe took for `payment` (`amount_cents`, Stripe's own amount,
    which is not ours), after the commit; the payment counts as refunded in full."""
    call = None
    if amount_cents > 0:
        call = _record(
            StripeCall(
                payment=payment,
                kind=StripeCallKind.REFUND,
                amount_cents=amount_cents,
                idempotency_key=idempotency_key,
            )
        )
    payment.status = PaymentStatus.REFUNDED
    payment.refunded_cents = payment.amount_cents
    return call


def expire_checkout(payment: Payment) -> StripeCall | None:
    """Close `payment`'s Checkout page at Stripe after the commit (best effort: a page
    paid meanwhile is refunded when its payment arrives)."""
    if not payment.stripe_checkout_session_id:
        return None
    return _record(
        StripeCall(
            payment=payment,
            kind=StripeCallKind.EXPIRE_CHECKOUT,
            idempotency_key=f"expire-{payment.stripe_checkout_session_id}",
        )
    )


def close_pages(open_payments: Iterable[Payment]) -> None:
    """These open payments are not to be paid any more: they expire, and their Checkout
    pages are closed at Stripe after the commit (`expire_checkout`)."""
    for payment in open_payments:
        expire_checkout(payment)
        payment.status = PaymentStatus.EXPIRED


def debit(payment: Payment) -> StripeCall:
    """Debit `payment` (a collection: dues, what joining costs, or shares) under its
    mandate at Stripe, after the commit (`sepa_stripe.create_debit`)."""
    return _record(
        StripeCall(
            payment=payment,
            kind=StripeCallKind.SEPA_DEBIT,
            amount_cents=payment.amount_cents,
            idempotency_key=f"debit-{payment.id}",
        )
    )


def _record(call: StripeCall) -> StripeCall:
    db.session.add(call)
    db.session.info.setdefault(RECORDED, []).append(call)
    return call


def send_due(batch_size: int = 50) -> tuple[int, int]:
    """Make the calls that are due (for `coop send-stripe`); return (sent, failed) counts,
    failed counting those left for a later try too."""
    due = db.session.scalars(
        sa.select(StripeCall.id)
        .where(
            StripeCall.status == StripeCallStatus.PENDING, StripeCall.next_attempt_at <= utcnow()
        )
        .order_by(StripeCall.id)
        .limit(batch_size)
    ).all()
    db.session.commit()
    sent = failed = 0
    for call_id in due:
        done = send(db.session, call_id)
        sent += done is True
        failed += done is False
    return sent, failed


def send(session: so.Session, call_id: int) -> bool | None:
    """Claim, make and mark one call, each step committed in `session` (`db.session`).
    A SEPA debit Stripe refuses for good fails its collection (`sepa_stripe.debit_refused`).

    Returns True when Stripe took it, False when it failed (tried again later, or after
    MAX_ATTEMPTS or a refusal set aside for the treasurer, logged as an error), None when
    it is not due or another process has it.
    """
    import stripe

    claimed = claim_due(
        session, StripeCall, call_id, StripeCallStatus.PENDING, timedelta(seconds=CLAIM_SECONDS)
    )
    if not claimed:
        return None
    call = session.get(StripeCall, call_id)
    try:
        _make(call)
    except stripe.StripeError as error:
        _failed(call, error)
        session.commit()
        if call.status == StripeCallStatus.FAILED and call.kind == StripeCallKind.SEPA_DEBIT:
            from . import sepa_stripe

            sepa_stripe.debit_refused(call, error)
            session.commit()
        return False
    call.status = StripeCallStatus.SENT
    call.sent_at = utcnow()
    session.commit()
    return True


def _make(call: StripeCall) -> None:
    """The call itself. Raises stripe.StripeError; a page that cannot be closed because
    it is complete or expired already needs nothing more."""
    import stripe

    payment = call.payment
    if call.kind == StripeCallKind.SEPA_DEBIT:  # a collection under a mandate
        from . import sepa_stripe

        sepa_stripe.create_debit(call)
        return
    if call.kind == StripeCallKind.REFUND:
        payments.create_refund(payment, call.amount_cents, call.idempotency_key)
        return
    try:
        payments.close_checkout(payment.stripe_checkout_session_id, call.idempotency_key)
    except stripe.InvalidRequestError as error:
        log.info("Could not expire session %s: %s", payment.stripe_checkout_session_id, error)


def _failed(call: StripeCall, error: "stripe.StripeError") -> None:
    call.last_error = f"{type(error).__name__}: {error}"[:2000]
    status = error.http_status
    if (status is None or status >= 500 or status in RETRY_STATUSES) and (
        call.attempts < MAX_ATTEMPTS
    ):
        call.next_attempt_at = utcnow() + retry_delay(call.attempts)
        log.warning("Stripe call %s (%s) will be tried again: %s", call.id, call.kind, error)
        return
    call.status = StripeCallStatus.FAILED
    log.error(
        "Stripe call %s (%s of payment %s) failed for good, a person must look: %s",
        call.id,
        call.kind,
        call.payment_id,
        error,
    )


def retry_delay(attempts: int) -> timedelta:
    """Wait 1, 2, 4, ... minutes between tries, at most six hours."""
    return min(timedelta(minutes=2 ** (attempts - 1)), timedelta(hours=6))


def _send_committed(session: so.Session) -> None:
    """After a commit: make the calls it recorded, in a session of its own (this one can
    run no SQL now). Never raises: what is not sent now is sent by `coop send-stripe`.
    Calls recorded in a transaction rolled back meanwhile have no identity: skipped.
    A savepoint released (`begin_nested`) commits nothing yet: the calls wait for the
    transaction around it (sent now, they would wait for the write lock that
    transaction holds on SQLite, and on PostgreSQL find rows not committed)."""
    if session.in_nested_transaction():
        return
    recorded = session.info.pop(RECORDED, [])
    ids = [state.identity[0] for state in map(sa.inspect, recorded) if state.identity]
    if not ids:
        return
    try:
        # A new app context has a db.session of its own, so what a call's answer changes
        # (a debit Stripe refused fails its collection, the member is e-mailed) is done
        # by the same services, in `db.session`, as in `send_due`.
        with current_app.app_context():
            for call_id in ids:
                send(db.session, call_id)
    except Exception:  # the commit stands; the worker tries again
        log.exception("Stripe calls %s were not sent after the commit", ids)


def init_app(app) -> None:
    """Send the calls a transaction recorded once it commits."""
    if not sa.event.contains(db.session, "after_commit", _send_committed):
        sa.event.listen(db.session, "after_commit", _send_committed)
