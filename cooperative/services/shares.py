"""The share register: buying shares, numbering them, joining's share, marking a leaving
member's shares for repayment. Paying is in `share_payments`; transfers and repayments
in `share_changes`; the totals in `share_totals`.

A member buys shares of a class; the price is the class's at that moment. When the class
asks for it the board approves the purchase first. Shares are issued (numbered) when the
purchase is approved, or at once, and are paid online (Stripe Checkout) or by bank
transfer, which an admin records (`share_payments`). The required share of joining is
issued and paid with the join payment (`issue_join_shares`, from `services.membership`).

Share numbers are sequential and never given twice: a number is the highest one so far
plus one, taken under a lock every number-giver waits for (PostgreSQL: a transaction-level
advisory lock; SQLite: the database's write lock), and shares are never deleted, so a
number once given stays taken. The unique constraint on the column is the last guard.
The same lock serialises a member's purchases, so two at once never pass the class's
maximum together.

A leaving member's shares are marked for repayment on the last day of the financial year
(FINANCIAL_YEAR_END); the admin records the repayment (`share_changes`) by bank transfer,
or as a Stripe refund when paid online within SHARE_REFUND_WINDOW_DAYS. Every change is a
line in the share's history. Services flush; the caller commits.
"""

from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..i18n import local_zone
from ..locking import lock_numbers
from ..models import (
    Membership,
    MembershipStatus,
    Payment,
    PurchaseStatus,
    Share,
    ShareClass,
    ShareEvent,
    ShareEventKind,
    ShareHolders,
    SharePurchase,
    ShareTransfer,
    TransferStatus,
    User,
    utcnow,
)
from ..refusals import Refused
from . import share_mail

# Any fixed number: the key of the advisory lock that share numbers are given under.
NUMBER_LOCK_KEY = 0x53484152
# The most shares one purchase may ask for, whatever the class allows.
MAX_QUANTITY = 1000


def open_classes(holders: ShareHolders | None = ShareHolders.PERSONS) -> list[ShareClass]:
    """The classes open for purchases (for `holders`, or all), in the admin's order."""
    query = sa.select(ShareClass).where(ShareClass.is_open)
    if holders is not None:
        query = query.where(ShareClass.holders == holders)
    return list(db.session.scalars(query.order_by(ShareClass.position, ShareClass.id)))


def classes_for(membership: Membership | None) -> list[ShareClass]:
    """The open classes `membership` may buy: those for persons, and for a legal
    person's membership also those for legal persons."""
    if membership is not None and membership.is_legal_person:
        return open_classes(None)
    return open_classes()


def check_holder(membership: Membership, share_class: ShareClass) -> None:
    """Refuses a class for legal persons to a person's membership."""
    if share_class.holders == ShareHolders.LEGAL_PERSONS and not membership.is_legal_person:
        raise Refused(_l("This class is for legal persons: please ask the board."), "share_class")


def holds_legal_person_shares(membership: Membership) -> bool:
    """Whether `membership` holds (or waits for) shares of a class for legal persons."""
    legal = sa.select(ShareClass.id).where(ShareClass.holders == ShareHolders.LEGAL_PERSONS)
    held = sa.select(Share.id).where(held_by(membership), Share.share_class_id.in_(legal))
    waiting = sa.select(SharePurchase.id).where(
        SharePurchase.membership_id == membership.id,
        SharePurchase.status == PurchaseStatus.PENDING_APPROVAL,
        SharePurchase.share_class_id.in_(legal),
    )
    return db.session.scalar(sa.select(sa.or_(sa.exists(held), sa.exists(waiting))))


def required_classes() -> list[ShareClass]:
    """The open classes of which a person who joins takes one share."""
    with db.session.no_autoflush:
        return [share_class for share_class in open_classes() if share_class.required]


def held_by(membership: Membership) -> sa.ColumnElement[bool]:
    """The condition for the shares `membership` holds (not repaid)."""
    return sa.and_(Share.membership_id == membership.id, Share.repaid_at.is_(None))


def join_shares_due(membership: Membership) -> list[ShareClass]:
    """The required classes of which `membership` holds no share yet (none for a
    membership whose required shares were issued already)."""
    required = required_classes()
    if not required or membership.id is None:
        return required
    held = set(
        db.session.scalars(
            sa.select(Share.share_class_id).where(
                held_by(membership), Share.share_class_id.in_([c.id for c in required])
            )
        )
    )
    return [share_class for share_class in required if share_class.id not in held]


def join_shares_cents(membership: Membership) -> int:
    """What the required shares of joining cost `membership` now (0 when held already)."""
    return sum(share_class.amount_cents for share_class in join_shares_due(membership))


def shares_of(membership: Membership) -> list[Share]:
    """Every share `membership` holds or held, by number, with its class and history."""
    return list(
        db.session.scalars(
            sa.select(Share)
            .where(Share.membership_id == membership.id)
            .options(
                sa.orm.joinedload(Share.share_class),
                sa.orm.selectinload(Share.history),
            )
            .order_by(Share.number)
        )
    )


def purchases_of(membership: Membership) -> list[SharePurchase]:
    """The member's purchases, newest first, with their class and shares."""
    return list(
        db.session.scalars(
            sa.select(SharePurchase)
            .where(SharePurchase.membership_id == membership.id)
            .options(
                sa.orm.joinedload(SharePurchase.share_class),
                sa.orm.selectinload(SharePurchase.shares),
            )
            .order_by(SharePurchase.id.desc())
        )
    )


def count_held(membership: Membership, share_class: ShareClass) -> int:
    """Shares of `share_class` the member holds (not repaid) or has asked for and awaits
    the board's decision on: what the class's maximum counts."""
    held = db.session.scalar(
        sa.select(sa.func.count(Share.id)).where(
            held_by(membership), Share.share_class_id == share_class.id
        )
    )
    waiting = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(SharePurchase.quantity), 0)).where(
            SharePurchase.membership_id == membership.id,
            SharePurchase.share_class_id == share_class.id,
            SharePurchase.status == PurchaseStatus.PENDING_APPROVAL,
        )
    )
    return held + waiting


def check_maximum(membership: Membership, share_class: ShareClass, adding: int) -> None:
    if share_class.max_per_member is None:
        return
    room = share_class.max_per_member - count_held(membership, share_class)
    if adding > room:
        raise Refused(
            _l(
                "A member may hold at most %(max)d shares of this class; "
                "%(room)d more are possible.",
                max=share_class.max_per_member,
                room=max(room, 0),
            ),
            "quantity",
        )


def lock_register(membership: Membership) -> None:
    """Hold the lock every number-giver and every purchase waits for, until the commit."""
    lock_numbers(NUMBER_LOCK_KEY, membership)


def _next_number() -> int:
    """The next share number (call under `lock_register`)."""
    highest = db.session.scalar(sa.select(sa.func.max(Share.number)))
    return (highest or 0) + 1


def record_history(
    share: Share, kind: ShareEventKind, by: User | None, now: datetime, **kw
) -> None:
    db.session.add(
        ShareEvent(share=share, kind=kind, at=now, recorded_by_id=by.id if by else None, **kw)
    )


def buy(
    membership: Membership,
    share_class: ShareClass,
    quantity: int,
    by: User | None = None,
    now: datetime | None = None,
) -> SharePurchase:
    """A member asks for `quantity` shares of `share_class` at its price now.

    Without approval the shares are issued at once (unpaid); with approval the purchase
    waits for the board. Refuses a quantity below 1 or above MAX_QUANTITY, a closed
    class, a class for legal persons to a person's membership, a membership that is not
    active, and more shares than the class's maximum per member (counting those held
    and those asked for).
    """
    now = now or utcnow()
    if quantity < 1 or quantity > MAX_QUANTITY:
        raise Refused(_l("Please choose at least one share."), "quantity")
    if not share_class.is_open:
        raise Refused(_l("This class of shares is closed for purchases."), "share_class")
    check_holder(membership, share_class)
    if membership.status != MembershipStatus.ACTIVE:
        raise Refused(_l("Only members can buy more shares."))
    purchase = _purchase(membership, share_class, quantity, now)
    if not share_class.needs_approval:
        _issue(purchase, by, now)
    return purchase


def _purchase(
    membership: Membership, share_class: ShareClass, quantity: int, now: datetime
) -> SharePurchase:
    """A purchase at the class's price now, within its maximum (under the lock)."""
    lock_register(membership)
    check_maximum(membership, share_class, quantity)
    purchase = SharePurchase(
        membership=membership,
        share_class=share_class,
        quantity=quantity,
        unit_amount_cents=share_class.amount_cents,
        requested_at=now,
        status=PurchaseStatus.PENDING_APPROVAL,
    )
    db.session.add(purchase)
    db.session.flush()
    return purchase


def issue_by_board(
    membership: Membership,
    share_class: ShareClass,
    quantity: int,
    admin: User,
    now: datetime | None = None,
) -> SharePurchase:
    """The board issues `quantity` shares of `share_class` to a member (a legal person's
    shares, say, agreed on outside the site): numbered at once under the register's
    lock, at the class's price, unpaid until the payment is recorded.

    Refuses what `buy` refuses (a quantity out of range, a closed class, a class for
    legal persons to a person, a membership not active, more than the class's maximum)
    and shares for the admin's own membership."""
    now = now or utcnow()
    if quantity < 1 or quantity > MAX_QUANTITY:
        raise Refused(_l("Please choose at least one share."), "quantity")
    if not share_class.is_open:
        raise Refused(_l("This class of shares is closed for purchases."), "share_class")
    check_holder(membership, share_class)
    if membership.status != MembershipStatus.ACTIVE:
        raise Refused(_l("Shares go only to active members."), "member_number")
    check_decider([membership.id], admin)
    purchase = _purchase(membership, share_class, quantity, now)
    purchase.decided_at = now
    purchase.decided_by_id = admin.id
    _issue(purchase, admin, now)
    return purchase


def _issue(purchase: SharePurchase, by: User | None, now: datetime) -> list[Share]:
    """Number and issue the purchase's shares (under the register's lock)."""
    lock_register(purchase.membership)
    first = _next_number()
    issued = []
    for offset in range(purchase.quantity):
        share = Share(
            number=first + offset,
            share_class_id=purchase.share_class_id,
            membership_id=purchase.membership_id,
            purchase=purchase,
            amount_cents=purchase.unit_amount_cents,
            issued_at=now,
        )
        db.session.add(share)
        record_history(
            share, ShareEventKind.ISSUED, by, now, to_membership_id=purchase.membership_id
        )
        issued.append(share)
    purchase.status = PurchaseStatus.ISSUED
    db.session.flush()
    return issued


def check_decider(membership_ids: list[int], admin: User) -> None:
    owners = db.session.scalars(
        sa.select(Membership.user_id).where(Membership.id.in_(membership_ids))
    )
    if admin.id in set(owners):
        raise Refused(_l("Nobody decides on their own shares."))


def _lock_pending(purchase: SharePurchase) -> None:
    """Take the register's lock and read the purchase again under it: of two admins
    deciding at once, the second finds it decided. Refuses one not waiting."""
    lock_register(purchase.membership)
    db.session.refresh(purchase)
    if purchase.status != PurchaseStatus.PENDING_APPROVAL:
        raise Refused(_l("This purchase is not waiting for approval."))


def approve_purchase(purchase: SharePurchase, admin: User, now: datetime | None = None) -> None:
    """The board approves a purchase waiting for it: its shares are issued, and the
    member is e-mailed their numbers.

    Refuses one not waiting, one of the admin's own membership, and one the class's
    maximum no longer allows (counting it as well)."""
    now = now or utcnow()
    _lock_pending(purchase)
    check_decider([purchase.membership_id], admin)
    check_maximum(purchase.membership, purchase.share_class, 0)
    purchase.decided_at = now
    purchase.decided_by_id = admin.id
    _issue(purchase, admin, now)
    share_mail.purchase_decided(purchase)


def refuse_purchase(purchase: SharePurchase, admin: User, reason: str) -> None:
    """The board turns down a purchase waiting for approval, with a reason the member
    is e-mailed.

    Refuses without a reason, one not waiting, and one of the admin's own membership."""
    if not reason.strip():
        raise Refused(_l("Please give a reason: the member will read it."), "reason")
    _lock_pending(purchase)
    check_decider([purchase.membership_id], admin)
    purchase.status = PurchaseStatus.REFUSED
    purchase.decided_at = utcnow()
    purchase.decided_by_id = admin.id
    purchase.decision_note = reason.strip()
    db.session.flush()
    share_mail.purchase_decided(purchase)


def unpaid_shares(purchase: SharePurchase) -> list[Share]:
    return [s for s in purchase.shares if s.paid_at is None and s.repaid_at is None]


def amount_owed(purchase: SharePurchase) -> int:
    """What is still to pay for the purchase's issued shares."""
    return sum(share.amount_cents for share in unpaid_shares(purchase))


def mark_paid(shares: list[Share], payment: Payment, by: User | None, now: datetime) -> None:
    for share in shares:
        share.paid_at = now
        share.payment = payment
        record_history(share, ShareEventKind.PAID, by, now, note=payment.provider.value)


def issue_join_shares(membership: Membership, payment: Payment, now: datetime) -> list[Share]:
    """The join payment arrived: issue the required shares it paid for, paid with it.

    Called by `services.membership` under its lock, for a membership waiting for its
    first payment; shares already held are not issued again."""
    issued = []
    for share_class in join_shares_due(membership):
        purchase = SharePurchase(
            membership=membership,
            share_class=share_class,
            quantity=1,
            unit_amount_cents=share_class.amount_cents,
            requested_at=now,
            status=PurchaseStatus.PENDING_APPROVAL,
        )
        db.session.add(purchase)
        db.session.flush()
        shares = _issue(purchase, None, now)
        mark_paid(shares, payment, None, now)
        issued.extend(shares)
    db.session.flush()
    return issued


def financial_year_end_on_or_after(day: date) -> date:
    """The last day of the financial year that `day` falls in (FINANCIAL_YEAR_END)."""
    month, day_of_month = (
        int(part) for part in current_app.config["FINANCIAL_YEAR_END"].split("-")
    )
    end = date(day.year, month, day_of_month)
    return end if end >= day else date(day.year + 1, month, day_of_month)


def mark_for_repayment(
    membership: Membership,
    now: datetime | None = None,
    by: User | None = None,
    *,
    leaves_on: date | None = None,
) -> list[Share]:
    """A member leaves: every share they hold is to be repaid on the last day of the
    financial year they leave in (the year of `leaves_on`, when the membership ends
    later than today). Pending purchases and transfers of theirs are refused. Shares
    marked already keep their date. Returns the shares marked now."""
    now = now or utcnow()
    today = now.astimezone(local_zone()).date()
    due = financial_year_end_on_or_after(max(leaves_on or today, today))
    lock_register(membership)
    marked = []
    for share in db.session.scalars(
        sa.select(Share).where(held_by(membership), Share.repayment_due_on.is_(None))
    ):
        share.repayment_due_on = due
        record_history(share, ShareEventKind.MARKED_FOR_REPAYMENT, by, now, note=due.isoformat())
        marked.append(share)
    for purchase in db.session.scalars(
        sa.select(SharePurchase).where(
            SharePurchase.membership_id == membership.id,
            SharePurchase.status == PurchaseStatus.PENDING_APPROVAL,
        )
    ):
        purchase.status = PurchaseStatus.REFUSED
        purchase.decided_at = now
    for transfer in db.session.scalars(
        sa.select(ShareTransfer).where(
            ShareTransfer.status == TransferStatus.PENDING,
            sa.or_(
                ShareTransfer.from_membership_id == membership.id,
                ShareTransfer.to_membership_id == membership.id,
            ),
        )
    ):
        transfer.status = TransferStatus.REFUSED
        transfer.decided_at = now
    db.session.flush()
    return marked


def purchase_of(membership: Membership, purchase_id: int) -> SharePurchase | None:
    """The member's own purchase `purchase_id`, or None (also for someone else's)."""
    return db.session.scalar(
        sa.select(SharePurchase).where(
            SharePurchase.id == purchase_id, SharePurchase.membership_id == membership.id
        )
    )


def open_application_holds_shares(user: User) -> bool:
    """Whether an application of `user` nobody decided on yet holds shares (paid before
    the board's decision): deleting the account would delete it, and the register keeps
    every share."""
    return (
        db.session.scalar(
            sa.select(Share.id)
            .join(Membership, Share.membership_id == Membership.id)
            .where(
                Membership.user_id == user.id,
                Membership.number.is_(None),
                Membership.status.in_(
                    (MembershipStatus.PENDING_PAYMENT, MembershipStatus.PENDING_APPROVAL)
                ),
                Share.repaid_at.is_(None),
            )
            .limit(1)
        )
        is not None
    )


def holder_name(membership: Membership) -> str:
    """The holder's name as the register has it (also after the account is deleted): a
    legal person's own name."""
    if membership.organisation_name:
        return membership.organisation_name
    if membership.registered_name:
        return membership.registered_name
    return membership.user.name if membership.user is not None else ""
