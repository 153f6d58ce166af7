"""One-off direct debits under a member's mandate: what joining costs (the plan's fee and
the required share) and shares bought later, collected with the machinery of the dues
(`services.dues`): a `Collection` whose `purpose` says what it pays, announced to the
member at once for the earliest debit date SEPA allows (SEPA_PRENOTIFICATION_DAYS from
today), and put in the open run of that date, so that it goes out in the next file the
admin makes on /admin/dues (own mandates) or the next submission to Stripe on that date
(Stripe mandates, `sepa_stripe.submit_due`). Paid, it settles exactly as a paid bank
transfer would (`dues.settle_paid`); failed, the member is told and pays another way.
Services flush; the caller commits.
"""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import (
    Collection,
    CollectionPurpose,
    CollectionRun,
    CollectionStatus,
    Membership,
    MembershipStatus,
    SepaMandate,
    SharePurchase,
    utcnow,
)
from ..refusals import Refused
from ..sepa_ids import end_to_end_id
from . import dues, sepa, shares
from . import membership as memberships


def collect_join(membership: Membership, now: datetime | None = None) -> Collection:
    """Debit what joining costs (`membership.amount_due`) under the member's mandate in
    force, announced now for the earliest debit date. Refuses a membership not waiting
    for its first payment, nothing owed, no mandate in force, and a join debit on its
    way already."""
    if membership.status != MembershipStatus.PENDING_PAYMENT:
        raise Refused(_l("This membership is not waiting for its first payment."))
    shares.lock_register(membership)  # a double click schedules one debit
    amount = memberships.amount_due(membership)
    if amount <= 0:
        raise Refused(_l("There is nothing to pay for your membership now."))
    pending = _pending(Collection.membership_id == membership.id, CollectionPurpose.JOIN)
    if pending is not None:
        raise Refused(_l("This payment will be debited already."))
    return _schedule(membership, _mandate(membership), amount, CollectionPurpose.JOIN, None, now)


def collect_purchase(purchase: SharePurchase, now: datetime | None = None) -> Collection:
    """Debit what a purchase of shares still owes under the member's mandate in force,
    announced now for the earliest debit date. Refuses nothing owed (or shares waiting
    for the board), no mandate in force, and a debit for it on its way already."""
    shares.lock_register(purchase.membership)  # a double click schedules one debit
    db.session.refresh(purchase)
    amount = shares.amount_owed(purchase)
    if amount <= 0:
        raise Refused(_l("There is nothing to pay for these shares."))
    if _pending(Collection.share_purchase_id == purchase.id, CollectionPurpose.SHARES):
        raise Refused(_l("This payment will be debited already."))
    membership = purchase.membership
    return _schedule(
        membership, _mandate(membership), amount, CollectionPurpose.SHARES, purchase, now
    )


def pending_for_purchases(purchase_ids: list[int]) -> dict[int, Collection]:
    """The debits on their way for these purchases, by purchase id (one query)."""
    if not purchase_ids:
        return {}
    return {
        collection.share_purchase_id: collection
        for collection in db.session.scalars(
            sa.select(Collection).where(
                Collection.share_purchase_id.in_(purchase_ids), dues.on_its_way()
            )
        )
    }


def _pending(condition, purpose: CollectionPurpose) -> Collection | None:
    return db.session.scalar(
        sa.select(Collection)
        .where(condition, Collection.purpose == purpose, dues.on_its_way())
        .limit(1)
    )


def _mandate(membership: Membership) -> SepaMandate:
    mandate = sepa.active_mandate(membership)
    if mandate is None:
        raise Refused(_l("Give a direct debit mandate first to pay this way."), "pay_by")
    return mandate


def open_run(debit_date, now: datetime) -> CollectionRun:
    """The run of `debit_date` whose file is not made yet (the next file), or a new one."""
    run = db.session.scalar(
        sa.select(CollectionRun)
        .where(CollectionRun.debit_date == debit_date, CollectionRun.file_xml.is_(None))
        .order_by(CollectionRun.id.desc())
        .limit(1)
    )
    if run is None:
        run = CollectionRun(debit_date=debit_date, created_at=now)
        db.session.add(run)
    return run


def _schedule(membership, mandate, amount, purpose, purchase, now) -> Collection:
    now = now or utcnow()
    debit_date = sepa.earliest_debit_date(now)
    first = dues.mandates_never_debited([mandate.id])
    collection = Collection(
        run=open_run(debit_date, now),
        membership=membership,
        mandate=mandate,
        purpose=purpose,
        share_purchase=purchase,
        amount_cents=amount,
        debit_date=debit_date,
        period_ends_at=None,
        status=CollectionStatus.SCHEDULED,
        end_to_end_id=f"new-{purpose}-{membership.id}-{now.timestamp()}",
        sequence_type="FRST" if mandate.id in first else "RCUR",
        prenotified_at=now,
    )
    db.session.add(collection)
    db.session.flush()
    collection.end_to_end_id = end_to_end_id(collection.id)
    db.session.flush()
    sepa.mail_member(membership, "debit_prenotification", collection=collection)
    return collection
