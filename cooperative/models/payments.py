"""Payments for registrations and memberships, the Stripe webhooks already seen, and the
calls to Stripe waiting to be made."""

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .pages import NOT_ON_PUBLIC_PAGES
from .types import StrEnumType, UTCDateTime, by_account, utcnow


class PaymentProvider(enum.StrEnum):
    STRIPE = "stripe"
    DOOR = "door"
    BANK_TRANSFER = "bank_transfer"
    SEPA_DEBIT = "sepa_debit"  # collected under our own mandate


class PaymentStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    FAILED = "failed"


class Payment(db.Model):
    """Money for one thing: a registration, a membership or a purchase of shares.
    Amounts in euro cents."""

    __tablename__ = "payments"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    registration_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("registrations.id", ondelete="SET NULL"), index=True
    )
    membership_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="SET NULL"), index=True
    )
    # Shares bought after joining; the join payment is the membership's.
    share_purchase_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("share_purchases.id", ondelete="SET NULL"), index=True
    )
    # A party's share of a collaboration's cost.
    cost_share_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("cost_shares.id", ondelete="SET NULL"), index=True
    )
    provider: so.Mapped[PaymentProvider] = so.mapped_column(StrEnumType(PaymentProvider))
    status: so.Mapped[PaymentStatus] = so.mapped_column(
        StrEnumType(PaymentStatus), default=PaymentStatus.OPEN
    )
    amount_cents: so.Mapped[int]
    refunded_cents: so.Mapped[int] = so.mapped_column(default=0)
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), default="EUR")
    description: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    stripe_checkout_session_id: so.Mapped[str | None] = so.mapped_column(
        sa.String(255), unique=True
    )
    stripe_payment_intent_id: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    paid_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    recorded_by_id: so.Mapped[int | None] = by_account()
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    registration: so.Mapped["Registration | None"] = so.relationship()  # noqa: F821
    membership: so.Mapped["Membership | None"] = so.relationship()  # noqa: F821
    share_purchase: so.Mapped["SharePurchase | None"] = so.relationship()  # noqa: F821
    cost_share: so.Mapped["CostShare | None"] = so.relationship()  # noqa: F821


class StripeEvent(db.Model):
    """A Stripe webhook event already processed: its id is the key, so it is handled once."""

    __tablename__ = "stripe_events"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[str] = so.mapped_column(sa.String(255), primary_key=True)
    type: so.Mapped[str] = so.mapped_column(sa.String(100))
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class StripeCallKind(enum.StrEnum):
    REFUND = "refund"
    EXPIRE_CHECKOUT = "expire_checkout"
    SEPA_DEBIT = "sepa_debit"  # a payment intent debiting a saved mandate


class StripeCallStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class StripeCall(db.Model):
    """A change to make at Stripe (a refund, closing a Checkout page), recorded in the
    transaction that decided it and made after its commit (services/stripe_calls.py).

    The idempotency key makes a call sent twice (a retry after a lost answer, two
    workers) happen once at Stripe. A refund's amount is already counted in the
    payment's `refunded_cents`.
    """

    __tablename__ = "stripe_calls"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    payment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    kind: so.Mapped[StripeCallKind] = so.mapped_column(StrEnumType(StripeCallKind))
    amount_cents: so.Mapped[int | None]
    idempotency_key: so.Mapped[str] = so.mapped_column(sa.String(255))
    status: so.Mapped[StripeCallStatus] = so.mapped_column(
        StrEnumType(StripeCallStatus), default=StripeCallStatus.PENDING
    )
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_error: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    payment: so.Mapped[Payment] = so.relationship()

    __table_args__ = (
        sa.Index("ix_stripe_calls_status_next_attempt_at", "status", "next_attempt_at"),
        {"info": NOT_ON_PUBLIC_PAGES},
    )
