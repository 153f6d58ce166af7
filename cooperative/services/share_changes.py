"""Changes to issued shares that the board records: repayment (a bank transfer, or a Stripe
refund within SHARE_REFUND_WINDOW_DAYS of an online payment) and transfer to another
member (asked for, then approved or refused); and those that follow from the membership:
repaid with a refused application's refund, held again when a lapsed member comes back.
Each is a line in the share's history.
Services flush; the caller commits.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..i18n import local_zone, long_date
from ..models import (
    Membership,
    MembershipStatus,
    PaymentProvider,
    PaymentStatus,
    Share,
    ShareEventKind,
    ShareTransfer,
    TransferStatus,
    User,
    utcnow,
)
from ..refusals import Refused
from . import share_mail, stripe_calls
from .shares import (
    check_decider,
    check_holder,
    check_maximum,
    held_by,
    lock_register,
    record_history,
)

BANK_TRANSFER = "bank_transfer"
STRIPE_REFUND = "stripe_refund"


def stripe_refund_possible(share: Share, now: datetime | None = None) -> bool:
    """Whether `share` can be repaid as a Stripe refund: paid online by its holder (never
    transferred) within SHARE_REFUND_WINDOW_DAYS, and that payment has that much left."""
    now = now or utcnow()
    payment = share.payment
    if payment is None or payment.provider != PaymentProvider.STRIPE or share.paid_at is None:
        return False
    if any(event.kind == ShareEventKind.TRANSFERRED for event in share.history):
        return False
    window = timedelta(days=current_app.config["SHARE_REFUND_WINDOW_DAYS"])
    if now > share.paid_at + window:
        return False
    return payment.amount_cents - payment.refunded_cents >= share.amount_cents


def record_repayment(
    share: Share,
    admin: User,
    method: str = BANK_TRANSFER,
    note: str = "",
    now: datetime | None = None,
) -> None:
    """Record that a share marked for repayment was repaid: by bank transfer (the admin
    made it), or as a Stripe refund (made after the commit). A share never paid is
    closed with nothing repaid.

    Refuses a share not marked for repayment, one repaid already, one whose date has not
    come yet, and a Stripe refund `stripe_refund_possible` does not allow."""
    now = now or utcnow()
    lock_register(share.membership)
    db.session.refresh(share)
    if share.repaid_at is not None:
        raise Refused(_l("This share was repaid already."))
    if share.repayment_due_on is None:
        raise Refused(_l("This share is not marked for repayment."))
    if now.astimezone(local_zone()).date() < share.repayment_due_on:
        raise Refused(
            _l("This share is repaid after %(day)s.", day=long_date(share.repayment_due_on))
        )
    if method not in (BANK_TRANSFER, STRIPE_REFUND):
        raise Refused(_l("Please choose how the money goes back."), "method")
    amount = share.amount_cents if share.paid_at is not None else 0
    if method == STRIPE_REFUND:
        if not stripe_refund_possible(share, now):
            raise Refused(_l("A refund through Stripe is not possible for this share."), "method")
        stripe_calls.refund(share.payment, amount)
    share.repaid_at = now
    share.repaid_cents = amount
    written = (note or "").strip()
    record_history(share, ShareEventKind.REPAID, admin, now, note=f"{method} {written}".strip())
    db.session.flush()


def request_transfer(
    share: Share,
    to_membership: Membership,
    by: User,
    note: str = "",
    now: datetime | None = None,
) -> ShareTransfer:
    """Ask the board to move `share` to another member.

    Refuses a share not paid, repaid or marked for repayment, one with a transfer
    waiting already, a transfer to its own holder or to someone who is not an active
    member, and a share of a class for legal persons to a person's membership."""
    now = now or utcnow()
    if share.paid_at is None:
        raise Refused(_l("Only a paid share can be transferred."))
    if share.repaid_at is not None or share.repayment_due_on is not None:
        raise Refused(_l("This share is being repaid and cannot be transferred."))
    if to_membership.id == share.membership_id:
        raise Refused(_l("The share already belongs to this member."), "member_number")
    if to_membership.status != MembershipStatus.ACTIVE:
        raise Refused(_l("Shares go only to active members."), "member_number")
    try:
        check_holder(to_membership, share.share_class)
    except Refused as refusal:
        raise Refused(refusal.message, "member_number") from None
    waiting = db.session.scalar(
        sa.select(ShareTransfer.id).where(
            ShareTransfer.share_id == share.id, ShareTransfer.status == TransferStatus.PENDING
        )
    )
    if waiting is not None:
        raise Refused(_l("A transfer of this share already waits for the board."))
    transfer = ShareTransfer(
        share=share,
        from_membership_id=share.membership_id,
        to_membership_id=to_membership.id,
        note=note.strip(),
        requested_at=now,
        requested_by_id=by.id,
    )
    db.session.add(transfer)
    db.session.flush()
    return transfer


def _lock_pending(transfer: ShareTransfer) -> None:
    """Take the register's lock and read the transfer again under it: of two admins
    deciding at once, the second finds it decided. Refuses one not waiting."""
    lock_register(transfer.share.membership)
    db.session.refresh(transfer)
    if transfer.status != TransferStatus.PENDING:
        raise Refused(_l("This transfer is not waiting for the board."))


def approve_transfer(transfer: ShareTransfer, admin: User, now: datetime | None = None) -> None:
    """The board approves a transfer: the share changes hands, its history says so, and
    both members are e-mailed.

    Refuses one not waiting, one either side of which is the admin's own membership,
    one whose share changed since, and one the receiver's class maximum does not allow."""
    now = now or utcnow()
    _lock_pending(transfer)
    check_decider([transfer.from_membership_id, transfer.to_membership_id], admin)
    share = transfer.share
    db.session.refresh(share)
    if share.membership_id != transfer.from_membership_id or share.state != "paid":
        raise Refused(_l("The share changed since the transfer was asked for."))
    if transfer.to_membership.status != MembershipStatus.ACTIVE:
        raise Refused(_l("Shares go only to active members."))
    check_holder(transfer.to_membership, share.share_class)
    check_maximum(transfer.to_membership, share.share_class, 1)
    share.membership_id = transfer.to_membership_id
    transfer.status = TransferStatus.APPROVED
    transfer.decided_at = now
    transfer.decided_by_id = admin.id
    record_history(
        share,
        ShareEventKind.TRANSFERRED,
        admin,
        now,
        from_membership_id=transfer.from_membership_id,
        to_membership_id=transfer.to_membership_id,
        note=transfer.note,
    )
    db.session.flush()
    db.session.expire(share, ["membership"])
    share_mail.transfer_decided(transfer)


def refuse_transfer(transfer: ShareTransfer, admin: User, now: datetime | None = None) -> None:
    """The board turns down a transfer; the share stays where it is; both members are
    e-mailed."""
    _lock_pending(transfer)
    check_decider([transfer.from_membership_id, transfer.to_membership_id], admin)
    transfer.status = TransferStatus.REFUSED
    transfer.decided_at = now or utcnow()
    transfer.decided_by_id = admin.id
    db.session.flush()
    share_mail.transfer_decided(transfer)


def application_refused(membership: Membership, now: datetime | None = None) -> None:
    """A membership was turned down and its payments refunded: the shares those payments
    paid are repaid (the register keeps them, with that in their history)."""
    now = now or utcnow()
    for share in db.session.scalars(sa.select(Share).where(held_by(membership))):
        if share.payment is not None and share.payment.status == PaymentStatus.REFUNDED:
            share.repaid_at = now
            share.repaid_cents = share.amount_cents
            record_history(share, ShareEventKind.REPAID, None, now, note="application refused")
    db.session.flush()


def keep_after_return(membership: Membership, now: datetime) -> list[Share]:
    """A lapsed member came back before their shares were repaid: the shares marked for
    repayment are held again (a line in each one's history). Returns them."""
    lock_register(membership)
    kept = list(
        db.session.scalars(
            sa.select(Share).where(held_by(membership), Share.repayment_due_on.is_not(None))
        )
    )
    for share in kept:
        share.repayment_due_on = None
        record_history(share, ShareEventKind.KEPT, None, now, note="membership renewed")
    db.session.flush()
    return kept
