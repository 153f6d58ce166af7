"""The share register: the classes of shares, each share with its number and owner, its
history, the purchases members make and the transfers the board decides on.

A share is never deleted and its number is never given again: the rows are the register.
Amounts are integer euro cents, copied from the class when the share is issued.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .pages import NOT_ON_PUBLIC_PAGES
from .types import NamedInTwoLanguages, StrEnumType, UTCDateTime, by_account, utcnow


class ShareHolders(enum.StrEnum):
    """Who may hold shares of a class: natural persons or legal persons (a collective,
    a small business that joins as a member)."""

    PERSONS = "persons"
    LEGAL_PERSONS = "legal_persons"


class ShareClass(NamedInTwoLanguages, db.Model):
    """A kind of share: its price, whether a member must hold one, how many a member may
    hold, whether it is open for purchases and whether the board approves each purchase."""

    __tablename__ = "share_classes"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name_nl: so.Mapped[str] = so.mapped_column(sa.String(120))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(120))
    amount_cents: so.Mapped[int]
    # One share of a required class is part of joining (and of the join payment).
    required: so.Mapped[bool] = so.mapped_column(default=False)
    max_per_member: so.Mapped[int | None]
    is_open: so.Mapped[bool] = so.mapped_column(default=True)
    holders: so.Mapped[ShareHolders] = so.mapped_column(
        StrEnumType(ShareHolders), default=ShareHolders.PERSONS
    )
    needs_approval: so.Mapped[bool] = so.mapped_column(default=False)
    position: so.Mapped[int] = so.mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<ShareClass {self.slug}>"


class PurchaseStatus(enum.StrEnum):
    PENDING_APPROVAL = "pending_approval"
    ISSUED = "issued"
    REFUSED = "refused"


class SharePurchase(db.Model):
    """A member's request for shares of one class: decided by the board when the class
    asks for it, then issued (numbered) and paid online or by bank transfer."""

    __tablename__ = "share_purchases"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="RESTRICT"), index=True
    )
    share_class_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("share_classes.id"))
    quantity: so.Mapped[int]
    # The class's price when the purchase was made: what each share costs.
    unit_amount_cents: so.Mapped[int]
    status: so.Mapped[PurchaseStatus] = so.mapped_column(StrEnumType(PurchaseStatus))
    requested_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    decided_by_id: so.Mapped[int | None] = by_account()
    decision_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    membership: so.Mapped["Membership"] = so.relationship()  # noqa: F821
    share_class: so.Mapped[ShareClass] = so.relationship()
    shares: so.Mapped[list["Share"]] = so.relationship(
        back_populates="purchase", order_by="Share.number"
    )

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_amount_cents


class Share(db.Model):
    """One share: its number (unique, never reused), class, owner, amount and dates."""

    __tablename__ = "shares"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    number: so.Mapped[int] = so.mapped_column(unique=True)
    share_class_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("share_classes.id"), index=True)
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="RESTRICT"), index=True
    )
    purchase_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("share_purchases.id", ondelete="SET NULL"), index=True
    )
    amount_cents: so.Mapped[int]
    issued_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    paid_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The payment that paid it: an online one may be refunded within the refund window.
    payment_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("payments.id", ondelete="SET NULL")
    )
    repayment_due_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    repaid_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # How much went back (0 for a share that was never paid).
    repaid_cents: so.Mapped[int | None]

    share_class: so.Mapped[ShareClass] = so.relationship()
    membership: so.Mapped["Membership"] = so.relationship()  # noqa: F821
    purchase: so.Mapped[SharePurchase | None] = so.relationship(back_populates="shares")
    payment: so.Mapped["Payment | None"] = so.relationship()  # noqa: F821
    history: so.Mapped[list["ShareEvent"]] = so.relationship(
        back_populates="share", order_by="ShareEvent.id"
    )

    @property
    def state(self) -> str:
        """unpaid, paid, to_repay or repaid."""
        if self.repaid_at is not None:
            return "repaid"
        if self.repayment_due_on is not None:
            return "to_repay"
        return "paid" if self.paid_at is not None else "unpaid"


class ShareEventKind(enum.StrEnum):
    ISSUED = "issued"
    PAID = "paid"
    UNPAID = "unpaid"  # the bank took the payment back (a reversed direct debit)
    TRANSFERRED = "transferred"
    MARKED_FOR_REPAYMENT = "to_repay"
    KEPT = "kept"  # a lapsed member came back before the repayment: held again
    REPAID = "repaid"


class ShareEvent(db.Model):
    """One line of a share's history: what happened, when, who recorded it and why."""

    __tablename__ = "share_events"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    share_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("shares.id", ondelete="RESTRICT"), index=True
    )
    kind: so.Mapped[ShareEventKind] = so.mapped_column(StrEnumType(ShareEventKind))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: so.Mapped[int | None] = by_account()
    from_membership_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="SET NULL")
    )
    to_membership_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="SET NULL")
    )
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    share: so.Mapped[Share] = so.relationship(back_populates="history")
    recorded_by: so.Mapped["User | None"] = so.relationship()  # noqa: F821
    from_membership: so.Mapped["Membership | None"] = so.relationship(  # noqa: F821
        foreign_keys=[from_membership_id]
    )
    to_membership: so.Mapped["Membership | None"] = so.relationship(  # noqa: F821
        foreign_keys=[to_membership_id]
    )


class TransferStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class ShareTransfer(db.Model):
    """A request to move one share to another member, waiting for the board."""

    __tablename__ = "share_transfers"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    share_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("shares.id", ondelete="RESTRICT"), index=True
    )
    from_membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="RESTRICT")
    )
    to_membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="RESTRICT")
    )
    status: so.Mapped[TransferStatus] = so.mapped_column(
        StrEnumType(TransferStatus), default=TransferStatus.PENDING
    )
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    requested_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: so.Mapped[int | None] = by_account()
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    decided_by_id: so.Mapped[int | None] = by_account()

    share: so.Mapped[Share] = so.relationship()
    from_membership: so.Mapped["Membership"] = so.relationship(  # noqa: F821
        foreign_keys=[from_membership_id]
    )
    to_membership: so.Mapped["Membership"] = so.relationship(  # noqa: F821
        foreign_keys=[to_membership_id]
    )
