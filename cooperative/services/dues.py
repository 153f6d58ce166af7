"""The yearly dues run and each collection's result (the mandates and the creditor are
in `services.sepa`, the bank's file in `services.sepa_file`, Stripe in `sepa_stripe`).

The run makes one collection per member with an active mandate whose yearly membership is
up for renewal on the debit date (`membership.renewal_due` on that day), and tells each
member at least SEPA_PRENOTIFICATION_DAYS before it. One collection per member and
membership year: the year is named by the end date it renews, and a unique constraint is
the last guard. Runs are made one at a time (a lock), so two admins pressing the button
at once make one run.

A paid collection renews the membership exactly as any paid renewal does
(`membership.payment_succeeded`). A failed one leaves the member to pay another way. A
reversal (the member's bank takes the money back, which SEPA allows for 8 weeks) puts
the membership back where it was before: to pay. Services flush; the caller commits.

The same machinery collects one-off payments (`services.debits`): what joining costs,
settled as a paid join payment is (the share issued paid, admission as the statutes
order it), and shares bought later (`share_payments.payment_succeeded`). A collection's
`purpose` says which; its results go through the functions below.
"""

import logging
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    Collection,
    CollectionPurpose,
    CollectionRun,
    CollectionStatus,
    MandateKind,
    MandateStatus,
    Membership,
    MembershipPlan,
    MembershipStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
    PlanPeriod,
    SepaMandate,
    SharePurchase,
    User,
    utcnow,
)
from ..refusals import Refused
from ..sepa_ids import end_to_end_id
from . import membership as memberships
from . import payments, register, share_payments, shares
from .sepa import (
    check_target_day,
    earliest_debit_date,
    local_today,
    mail_member,
    prenotification_days,
    start_of,
)

log = logging.getLogger(__name__)

# How long a member's bank gives back an authorised debit on request (SEPA Core rulebook).
REVERSAL_PERIOD = timedelta(weeks=8)
# Any fixed number: the key of the advisory lock dues runs are made under (PostgreSQL).
RUN_LOCK_KEY = 0x44554553


def owing_on(debit_date: date) -> list[tuple[Membership, SepaMandate]]:
    """Active members with a mandate in force whose yearly dues are due by `debit_date` and
    not collected for that year yet, with their mandate (a fixed number of queries)."""
    moment = start_of(debit_date)
    rows = db.session.execute(
        sa.select(Membership, SepaMandate)
        .join(SepaMandate, SepaMandate.membership_id == Membership.id)
        .join(Membership.plan)
        .where(
            SepaMandate.status == MandateStatus.ACTIVE,
            Membership.status == MembershipStatus.ACTIVE,
            MembershipPlan.period == PlanPeriod.YEARLY,
            MembershipPlan.fee_cents > 0,
            Membership.ends_at.is_not(None),
        )
        .options(sa.orm.contains_eager(Membership.plan), sa.orm.joinedload(Membership.user))
        .order_by(Membership.id)
    ).all()
    due = [(m, mandate) for m, mandate in rows if memberships.renewal_due(m, moment)]
    if not due:
        return []
    collected = set(
        db.session.execute(
            sa.select(Collection.membership_id, Collection.period_ends_at).where(
                Collection.membership_id.in_([m.id for m, _ in due])
            )
        ).all()
    )
    return [(m, mandate) for m, mandate in due if (m.id, m.ends_at) not in collected]


def run_dues(debit_date: date, admin: User | None = None, now: datetime | None = None):
    """Make the collections of one dues run, debited on `debit_date`, and pre-notify
    each member by e-mail (sent after the commit). Returns the run.

    Refuses a debit date less than SEPA_PRENOTIFICATION_DAYS from today (Amsterdam), one
    on which banks do not debit (a weekend, a TARGET holiday), and a run that would
    collect from nobody.
    """
    now = now or utcnow()
    earliest = earliest_debit_date(now)
    if debit_date < earliest:
        raise Refused(
            _l(
                "Members must be told %(days)s days ahead: the earliest debit date is %(date)s.",
                days=prenotification_days(),
                date=earliest.isoformat(),
            ),
            "debit_date",
        )
    check_target_day(debit_date)
    _one_run_at_a_time()
    owing = owing_on(debit_date)
    if not owing:
        raise Refused(_l("No member with a mandate owes dues by that date."), "debit_date")
    try:
        with db.session.begin_nested():
            run = _make_run(debit_date, owing, admin, now)
    except IntegrityError:  # the constraint, the last guard: never two for one year
        raise Refused(_l("These dues are being collected already."), "debit_date") from None
    for collection in run.collections:
        collection.end_to_end_id = end_to_end_id(collection.id)
        mail_member(collection.membership, "dues_prenotification", collection=collection)
    db.session.flush()
    return run


def _one_run_at_a_time() -> None:
    """Wait for any other dues run to commit, so this one sees its collections."""
    if db.session.get_bind().dialect.name == "sqlite":
        # A write first: it takes the database's write lock before anything is read.
        db.session.execute(
            sa.update(CollectionRun).where(sa.false()).values(id=CollectionRun.id),
            execution_options={"synchronize_session": False},
        )
    else:
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(RUN_LOCK_KEY)))


def _make_run(debit_date: date, owing, admin: User | None, now: datetime) -> CollectionRun:
    run = CollectionRun(debit_date=debit_date, created_by_id=admin.id if admin else None)
    db.session.add(run)
    first_under = mandates_never_debited([mandate.id for _, mandate in owing])
    for membership, mandate in owing:
        collection = Collection(
            run=run,
            membership=membership,
            mandate=mandate,
            amount_cents=membership.plan.fee_cents,
            debit_date=debit_date,
            period_ends_at=membership.ends_at,
            status=CollectionStatus.SCHEDULED,
            # A placeholder until the id is known: unique like the real one.
            end_to_end_id=f"new-{membership.id}-{debit_date.isoformat()}",
            sequence_type="FRST" if mandate.id in first_under else "RCUR",
            prenotified_at=now,
        )
        db.session.add(collection)
        # The pre-notification is this year's reminder: no "pay here" e-mail beside it.
        membership.renewal_reminded_at = now
    db.session.flush()
    return run


def mandates_never_debited(mandate_ids: list[int]) -> set[int]:
    """Of these mandates, those no collection went out under yet (SEPA's "first")."""
    used = set(
        db.session.scalars(
            sa.select(Collection.mandate_id).where(
                Collection.mandate_id.in_(mandate_ids),
                Collection.status.not_in((CollectionStatus.SCHEDULED, CollectionStatus.CANCELLED)),
            )
        )
    )
    return set(mandate_ids) - used


def on_its_way(today: date | None = None) -> sa.ColumnElement[bool]:
    """Collections still going out: sent, or announced and not stale (an own mandate's
    goes in a file made before its debit date; Stripe's is sent on or after it). An own
    one whose date passed without a file will not go out: the member pays another way."""
    today = today or local_today()
    stripe_mandates = sa.select(SepaMandate.id).where(SepaMandate.kind == MandateKind.STRIPE)
    return sa.or_(
        Collection.status == CollectionStatus.SUBMITTED,
        sa.and_(
            Collection.status == CollectionStatus.SCHEDULED,
            sa.or_(Collection.debit_date >= today, Collection.mandate_id.in_(stripe_mandates)),
        ),
    )


def pending_debit(membership: Membership | None) -> Collection | None:
    """The membership's collection announced or sent and not yet settled, if any: its
    dues are on their way, so the member is not asked to pay them another way."""
    if membership is None:
        return None
    if membership.status == MembershipStatus.PENDING_PAYMENT:  # joining, by debit
        what = Collection.purpose == CollectionPurpose.JOIN
    else:
        what = sa.and_(
            Collection.purpose == CollectionPurpose.DUES,
            Collection.period_ends_at == membership.ends_at,
        )
    return db.session.scalar(
        sa.select(Collection)
        .where(
            Collection.membership_id == membership.id,
            on_its_way(),
            what,
        )
        .limit(1)
    )


def still_owed(collection: Collection) -> bool:
    """Whether a scheduled collection may still go out: its mandate is in force and the
    member still owes the year it renews, or what joining costs, or the shares (they did
    not pay another way meanwhile)."""
    membership = collection.membership
    if collection.mandate.status != MandateStatus.ACTIVE:
        return False
    if collection.purpose == CollectionPurpose.JOIN:
        return (
            membership.status == MembershipStatus.PENDING_PAYMENT
            and memberships.amount_due(membership) == collection.amount_cents
        )
    if collection.purpose == CollectionPurpose.SHARES:
        return shares.amount_owed(collection.share_purchase) == collection.amount_cents
    return (
        collection.mandate.status == MandateStatus.ACTIVE
        and membership.status in (MembershipStatus.ACTIVE, MembershipStatus.LAPSED)
        and membership.ends_at == collection.period_ends_at
        and memberships.renewal_due(membership, start_of(collection.debit_date))
    )


def cancel(collection: Collection, reason: str) -> None:
    """A scheduled collection that will not go out."""
    collection.status = CollectionStatus.CANCELLED
    collection.reason = reason


def runs() -> list[CollectionRun]:
    """Every dues run, newest first."""
    return list(db.session.scalars(sa.select(CollectionRun).order_by(CollectionRun.id.desc())))


def run_totals() -> dict[int, dict[str, tuple[int, int]]]:
    """Per run, per collection status: (count, cents), in one query."""
    totals: dict[int, dict[str, tuple[int, int]]] = {}
    for run_id, status, count, cents in db.session.execute(
        sa.select(
            Collection.run_id,
            Collection.status,
            sa.func.count(Collection.id),
            sa.func.sum(Collection.amount_cents),
        ).group_by(Collection.run_id, Collection.status)
    ):
        totals.setdefault(run_id, {})[str(status)] = (count, cents or 0)
    return totals


def collections_of(run: CollectionRun) -> list[Collection]:
    """The run's collections with their member and mandate (a fixed number of queries)."""
    return list(
        db.session.scalars(
            sa.select(Collection)
            .where(Collection.run_id == run.id)
            .options(
                sa.orm.joinedload(Collection.membership).joinedload(Membership.user),
                sa.orm.joinedload(Collection.mandate),
                # A one-off debit for shares checks what its purchase still owes.
                sa.orm.selectinload(Collection.share_purchase).selectinload(SharePurchase.shares),
            )
            .order_by(Collection.id)
        )
    )


# --- results --------------------------------------------------------------------------


def record_paid(collection: Collection, now: datetime | None = None) -> None:
    """The money of a submitted collection arrived: it renews the membership as any paid
    renewal does. Refuses before the debit date and for a collection not submitted."""
    now = now or utcnow()
    if collection.status != CollectionStatus.SUBMITTED:
        raise Refused(_l("Only a collection sent to the bank can be marked paid."), "result")
    if local_today(now) < collection.debit_date:
        raise Refused(_l("The debit date has not come yet."), "result")
    settle_paid(collection, now)


def settle_paid(collection: Collection, now: datetime) -> None:
    """Record the money of a submitted collection (as the bank or Stripe reported it)
    and renew the membership through `membership.payment_succeeded`; once."""
    if not _move(collection, CollectionStatus.SUBMITTED, CollectionStatus.PAID, now):
        return  # recorded already, by another request or the webhook
    payment = collection.payment
    if payment is None:
        payment = new_payment(collection, PaymentProvider.SEPA_DEBIT)
    if collection.purpose == CollectionPurpose.SHARES:
        share_payments.payment_succeeded(payment, now)
    else:  # dues renew; a join payment issues the share and admits as the statutes say
        memberships.payment_succeeded(payment, now)


def new_payment(collection: Collection, provider: PaymentProvider) -> Payment:
    """The open payment of a collection: the membership's, or the purchase's for shares."""
    shares_bought = collection.purpose == CollectionPurpose.SHARES
    payment = Payment(
        provider=provider,
        status=PaymentStatus.OPEN,
        amount_cents=collection.amount_cents,
        currency="EUR",
        description=f"Direct debit {collection.end_to_end_id}",
        membership=None if shares_bought else collection.membership,
        share_purchase=collection.share_purchase if shares_bought else None,
    )
    db.session.add(payment)
    collection.payment = payment
    db.session.flush()
    return payment


def record_failed(collection: Collection, reason: str, now: datetime | None = None) -> None:
    """A submitted collection was not paid (the bank refused it: closed account, no
    funds...): the member is told, kindly, and pays another way. Refuses one not
    submitted."""
    now = now or utcnow()
    if collection.status != CollectionStatus.SUBMITTED:
        raise Refused(_l("Only a collection sent to the bank can fail."), "result")
    if not _move(collection, CollectionStatus.SUBMITTED, CollectionStatus.FAILED, now):
        return
    collection.reason = reason.strip()[:500]
    if collection.payment is not None and collection.payment.status == PaymentStatus.OPEN:
        collection.payment.status = PaymentStatus.FAILED
    db.session.flush()
    template = "dues_failed" if collection.purpose == CollectionPurpose.DUES else "debit_failed"
    mail_member(collection.membership, template, collection=collection)


def record_reversal(collection: Collection, reason: str, now: datetime | None = None) -> None:
    """The member's bank took a paid collection back (within 8 weeks of the debit date):
    the year it paid for is owed again, the member is told kindly how to pay. Refuses a
    collection not paid, or a reversal more than 8 weeks after the debit date."""
    now = now or utcnow()
    if collection.status != CollectionStatus.PAID:
        raise Refused(_l("Only a paid collection can be reversed."), "result")
    if local_today(now) > collection.debit_date + REVERSAL_PERIOD:
        raise Refused(_l("A reversal comes at most 8 weeks after the debit date."), "result")
    if not _move(collection, CollectionStatus.PAID, CollectionStatus.REVERSED, now):
        return
    if collection.purpose != CollectionPurpose.DUES:
        _reverse_one_off(collection, reason, now)
        return
    membership = collection.membership
    db.session.refresh(membership)
    collection.reason = reason.strip()[:500]
    payment = collection.payment
    if payment is not None:
        payments.count_refund(payment, payment.amount_cents - payment.refunded_cents)
    # Back to before the renewal: the year's end it paid for, owed again.
    membership.ends_at = collection.period_ends_at
    # The friendly message below is the member's reminder (no second one with it).
    membership.renewal_reminded_at = now
    if (
        membership.status == MembershipStatus.ACTIVE
        and collection.period_ends_at + memberships.grace_period() <= now
    ):
        register.lapse(membership, now)
    db.session.flush()
    mail_member(membership, "dues_reversed", collection=collection)


def _reverse_one_off(collection: Collection, reason: str, now: datetime) -> None:
    """A one-off debit (joining, shares) taken back: the money counts as given back, the
    shares it paid are unpaid again (the register and its totals say so), and the
    treasurer follows the member up by hand."""
    collection.reason = reason.strip()[:500]
    if collection.payment is not None:
        payments.count_refund(
            collection.payment, collection.payment.amount_cents - collection.payment.refunded_cents
        )
        share_payments.payment_taken_back(collection.payment, now)
    log.warning("Direct debit %s (%s) reversed: %s", collection.id, collection.purpose, reason)
    db.session.flush()


def _move(collection: Collection, before, after, now: datetime) -> bool:
    """Change the collection's status from `before` to `after` in one conditional UPDATE:
    of two requests recording a result at once, one does it and the other finds it done."""
    moved = db.session.execute(
        sa.update(Collection)
        .where(Collection.id == collection.id, Collection.status == before)
        .values(status=after, settled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(collection)
    return moved == 1


def record_result(collection: Collection, result: str, reason: str = "", now=None) -> None:
    """An admin records what the bank reported for one collection: paid, failed, reversed."""
    if result == "paid":
        record_paid(collection, now)
    elif result == "failed":
        record_failed(collection, reason, now)
    elif result == "reversed":
        record_reversal(collection, reason, now)
    else:
        raise Refused(_l("Choose what the bank reported."), "result")


def record_all_paid(run: CollectionRun, now: datetime | None = None) -> list[Collection]:
    """Every submitted collection of the run's file was paid; returns them. Refuses
    before the debit date."""
    now = now or utcnow()
    if local_today(now) < run.debit_date:
        raise Refused(_l("The debit date has not come yet."))
    paid = [
        collection
        for collection in collections_of(run)
        if collection.status == CollectionStatus.SUBMITTED
        and collection.mandate.kind == MandateKind.OWN
    ]
    for collection in paid:
        record_paid(collection, now)
    return paid
