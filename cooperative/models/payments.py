"""Payments for registrations and memberships, and the Stripe webhooks already seen."""

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .pages import NOT_ON_PUBLIC_PAGES
from .types import StrEnumType, UTCDateTime, utcnow


class PaymentProvider(enum.StrEnum):
    STRIPE = "stripe"
    DOOR = "door"
    BANK_TRANSFER = "bank_transfer"


class PaymentStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    FAILED = "failed"


class Payment(db.Model):
    """Money for one thing: a registration or a membership. Amounts in euro cents."""

    __tablename__ = "payments"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    registration_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("registrations.id", ondelete="SET NULL"), index=True
    )
    membership_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="SET NULL"), index=True
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
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    registration: so.Mapped["Registration | None"] = so.relationship()  # noqa: F821
    membership: so.Mapped["Membership | None"] = so.relationship()  # noqa: F821


class StripeEvent(db.Model):
    """A Stripe webhook event already processed: its id is the key, so it is handled once."""

    __tablename__ = "stripe_events"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[str] = so.mapped_column(sa.String(255), primary_key=True)
    type: so.Mapped[str] = so.mapped_column(sa.String(100))
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
