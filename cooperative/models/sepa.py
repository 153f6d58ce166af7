"""Dues by SEPA direct debit: a member's mandate, and the collections made under it.

A mandate is given either to the cooperative itself (the member's IBAN is kept here and
the collections go to the bank in a pain.008 file) or through Stripe (Stripe keeps the
IBAN and the mandate; we keep its ids and the last four digits). A collection is one
year's dues of one member, debited on one date, or a one-off payment under the mandate
(joining, or shares bought later: `purpose`); the collections of one run share a
`CollectionRun` and its debit date, whose pain.008 file is kept once it is made.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .pages import NOT_ON_PUBLIC_PAGES
from .types import StrEnumType, UTCDateTime, by_account, unique_where, utcnow


class MandateKind(enum.StrEnum):
    OWN = "own"  # the cooperative's own mandate: we send the bank a collection file
    STRIPE = "stripe"  # given through Stripe Checkout; Stripe debits


class MandateStatus(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class CollectionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # announced to the member, not yet sent to the bank or Stripe
    SUBMITTED = "submitted"  # in a collection file, or a payment intent at Stripe
    PAID = "paid"
    FAILED = "failed"
    REVERSED = "reversed"  # paid, then the member had their bank take it back
    CANCELLED = "cancelled"  # not sent: the mandate ended or nothing was owed any more


class CollectionPurpose(enum.StrEnum):
    """What a collection pays: a year's dues, or once, joining or shares bought later."""

    DUES = "dues"  # a year's dues of a member (the dues run)
    JOIN = "join"  # the plan's fee and the required share at joining
    SHARES = "shares"  # a purchase of shares after joining


class SepaMandate(db.Model):
    """A member's permission to debit their account for their dues."""

    __tablename__ = "sepa_mandates"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="CASCADE"), index=True
    )
    kind: so.Mapped[MandateKind] = so.mapped_column(StrEnumType(MandateKind))
    status: so.Mapped[MandateStatus] = so.mapped_column(
        StrEnumType(MandateStatus), default=MandateStatus.ACTIVE
    )
    # The mandate's reference (SEPA "mandate id", at most 35 characters), unique forever.
    reference: so.Mapped[str] = so.mapped_column(sa.String(35), unique=True)
    # The whole IBAN for our own mandate; empty for Stripe's, which keeps it.
    iban: so.Mapped[str] = so.mapped_column(sa.String(34), default="")
    iban_last4: so.Mapped[str] = so.mapped_column(sa.String(4), default="")
    account_holder: so.Mapped[str] = so.mapped_column(sa.String(70))
    signed_on: so.Mapped[date] = so.mapped_column(sa.Date)
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    stripe_checkout_session_id: so.Mapped[str | None] = so.mapped_column(
        sa.String(255), unique=True
    )
    stripe_customer_id: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    stripe_payment_method_id: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    stripe_mandate_id: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    membership: so.Mapped["Membership"] = so.relationship()  # noqa: F821

    __table_args__ = (
        # One active mandate per membership: a new one is given after the old one ends.
        unique_where(
            "uq_sepa_mandates_active_membership", "membership_id", where="status = 'active'"
        ),
        {"info": NOT_ON_PUBLIC_PAGES},
    )


class CollectionRun(db.Model):
    """One dues run: the collections it made for one debit date, and its pain.008 file."""

    __tablename__ = "collection_runs"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    debit_date: so.Mapped[date] = so.mapped_column(sa.Date)
    created_by_id: so.Mapped[int | None] = by_account()
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # The collection file for the bank (own mandates only), kept as it was sent.
    message_id: so.Mapped[str | None] = so.mapped_column(sa.String(35), unique=True)
    file_xml: so.Mapped[str | None] = so.mapped_column(sa.Text)
    file_made_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    collections: so.Mapped[list["Collection"]] = so.relationship(
        back_populates="run", order_by="Collection.id"
    )


class Collection(db.Model):
    """One member's yearly dues, or a one-off payment of theirs (`purpose`), debited under
    their mandate on the run's debit date."""

    __tablename__ = "collections"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    run_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collection_runs.id", ondelete="CASCADE"), index=True
    )
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="CASCADE"), index=True
    )
    mandate_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("sepa_mandates.id", ondelete="CASCADE"), index=True
    )
    # The payment that renewed the membership, once the money arrived.
    payment_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("payments.id", ondelete="SET NULL"), index=True
    )
    purpose: so.Mapped[CollectionPurpose] = so.mapped_column(
        StrEnumType(CollectionPurpose), default=CollectionPurpose.DUES
    )
    # The purchase a SHARES collection pays for.
    share_purchase_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("share_purchases.id", ondelete="CASCADE"), index=True
    )
    amount_cents: so.Mapped[int]
    debit_date: so.Mapped[date] = so.mapped_column(sa.Date)
    # The end of the membership year these dues renew: one collection per member and year
    # (None for a one-off payment, which renews nothing).
    period_ends_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    status: so.Mapped[CollectionStatus] = so.mapped_column(
        StrEnumType(CollectionStatus), default=CollectionStatus.SCHEDULED
    )
    reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    end_to_end_id: so.Mapped[str] = so.mapped_column(sa.String(35), unique=True)
    sequence_type: so.Mapped[str] = so.mapped_column(sa.String(4), default="RCUR")
    prenotified_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    submitted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    settled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    run: so.Mapped[CollectionRun] = so.relationship(back_populates="collections")
    membership: so.Mapped["Membership"] = so.relationship()  # noqa: F821
    mandate: so.Mapped[SepaMandate] = so.relationship()
    payment: so.Mapped["Payment | None"] = so.relationship()  # noqa: F821
    share_purchase: so.Mapped["SharePurchase | None"] = so.relationship()  # noqa: F821

    __table_args__ = (
        sa.UniqueConstraint(
            "membership_id", "period_ends_at", name="uq_collections_membership_period"
        ),
        sa.Index("ix_collections_status_debit_date", "status", "debit_date"),
        {"info": NOT_ON_PUBLIC_PAGES},
    )
