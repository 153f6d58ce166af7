"""Paying for shares bought after joining: online through Stripe Checkout (the payment is
linked to the purchase; `services.payments` settles it here), or by bank transfer with
the purchase's own reference, which an admin records. The shares of a purchase are paid
together, once. Services flush; the caller commits.
"""

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import (
    Payment,
    PaymentProvider,
    PaymentStatus,
    Share,
    ShareEventKind,
    SharePurchase,
    User,
    utcnow,
)
from ..refusals import Refused
from . import checkout, payments, stripe_calls
from .bank_transfers import record_transfer
from .mail import external_url
from .shares import amount_owed, lock_register, mark_paid, record_history, unpaid_shares

log = logging.getLogger(__name__)


def start_payment(purchase: SharePurchase, now: datetime | None = None) -> checkout.Checkout:
    """The Checkout page for what the purchase still owes, to be made once the pending
    payment is committed (see `services/checkout.py`).

    Refuses when nothing is owed; raises payments.PaymentUnavailable when Stripe does
    not answer about an open page. Flushes."""
    now = now or utcnow()
    owed = unpaid_shares(purchase)
    amount = sum(share.amount_cents for share in owed)
    if amount <= 0:
        raise Refused(_l("There is nothing to pay for these shares."))
    _refuse_if_debited(purchase)
    user = purchase.membership.user
    with force_locale(user.locale):
        name = str(_l("Share: %(name)s", name=purchase.share_class.name(user.locale)))
    return checkout.prepare(
        _payments(purchase, PaymentStatus.OPEN),
        amount,
        [checkout.LineItem(name, purchase.unit_amount_cents, len(owed))],
        description=name,
        customer_email=user.email,
        locale=user.locale,
        **checkout.return_urls(external_url("shares.index")),
        pay_before=now + timedelta(hours=23),
        now=now,
        share_purchase=purchase,
    )


def _refuse_if_debited(purchase: SharePurchase) -> None:
    """Shares with a direct debit on its way are not paid another way as well."""
    from .debits import pending_for_purchases  # debits builds on this module

    if pending_for_purchases([purchase.id]):
        raise Refused(_l("These shares will be paid by direct debit already."), "amount")


def _payments(purchase: SharePurchase, status: PaymentStatus) -> list[Payment]:
    return list(
        db.session.scalars(
            sa.select(Payment)
            .where(Payment.share_purchase_id == purchase.id, Payment.status == status)
            .order_by(Payment.id)
        )
    )


def payment_succeeded(payment: Payment, now: datetime | None = None) -> None:
    """An online payment for a purchase arrived: its shares are paid, once. Money that
    pays for nothing any more (the shares were paid by bank meanwhile) goes back."""
    now = now or utcnow()
    purchase = payment.share_purchase
    lock_register(purchase.membership)
    if not payments.record_paid(payment, now):
        return
    db.session.refresh(purchase)
    owed = unpaid_shares(purchase)
    if sum(share.amount_cents for share in owed) == payment.amount_cents:
        mark_paid(owed, payment, None, now)
    elif payment.provider == PaymentProvider.STRIPE:
        stripe_calls.refund(payment, payment.amount_cents)
    else:
        # A direct debit arrived for shares paid meanwhile: only a person can pay it back.
        log.error(
            "Payment %s (%s) of purchase %s pays for nothing: the treasurer must repay it",
            payment.id,
            payment.provider,
            purchase.id,
        )
    stripe_calls.close_pages(_payments(purchase, PaymentStatus.OPEN))
    db.session.flush()


def record_payment(
    purchase: SharePurchase, amount_cents: int, admin: User, now: datetime | None = None
) -> Payment:
    """An admin saw the money for a purchase arrive by bank transfer: its shares are paid.

    Refuses when nothing is owed or the amount is not what is owed."""
    now = now or utcnow()
    lock_register(purchase.membership)
    db.session.refresh(purchase)
    _refuse_if_debited(purchase)
    payment = record_transfer(
        amount_owed(purchase),
        amount_cents,
        _l("Nothing is owed for these shares."),
        admin,
        status=PaymentStatus.PAID,
        description=f"Bank transfer: shares {purchase.share_class.slug}",
        share_purchase=purchase,
        paid_at=now,
    )
    mark_paid(unpaid_shares(purchase), payment, admin, now)
    stripe_calls.close_pages(_payments(purchase, PaymentStatus.OPEN))
    db.session.flush()
    return payment


def payment_reference(purchase: SharePurchase) -> str:
    """The reference a member mentions when transferring the money for a purchase."""
    return f"MEENTCOOP-A{purchase.id:05d}"


def payment_taken_back(payment: Payment, now: datetime) -> list[Share]:
    """The bank took `payment` back (a reversed direct debit): the shares it paid, not
    repaid since, are unpaid again, with that in their history. Returns them."""
    taken_back = db.session.scalars(
        sa.select(Share).where(Share.payment_id == payment.id, Share.repaid_at.is_(None))
    ).all()
    for share in taken_back:
        share.paid_at = None
        share.payment = None
        record_history(share, ShareEventKind.UNPAID, None, now, note=payment.provider.value)
    return taken_back
