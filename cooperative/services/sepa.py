"""Yearly dues by SEPA direct debit: mandates, the dues run, and each collection's result.

A member gives a mandate: to the cooperative itself (IBAN and holder typed here; the
collections go to the bank in a pain.008 file, `services.sepa_file`) or, with Stripe
configured, through Stripe Checkout (`services.sepa_stripe`). The dues run makes one
collection per member with an active mandate whose yearly membership is up for renewal
on the debit date, and tells each member at least SEPA_PRENOTIFICATION_DAYS before it,
as SEPA asks. One collection per member and membership year: the year is named by the
end date it renews (a unique constraint is the last guard).

A paid collection renews the membership exactly as any paid renewal does
(`membership.payment_succeeded`). A failed one leaves the member to pay another way. A
reversal (the member's bank takes the money back, which SEPA allows for 8 weeks) puts
the membership back where it was before: to pay. Services flush; the caller commits.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..i18n import local_zone
from ..models import (
    Collection,
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
    User,
    utcnow,
)
from ..refusals import Refused
from ..sepa_ids import (
    InvalidIdentifier,
    checked_iban,
    end_to_end_id,
    mandate_reference,
)
from . import membership as memberships
from . import payments
from .mail import external_url, queue_mail

# How long a member's bank gives back an authorised debit on request (SEPA Core rulebook).
REVERSAL_PERIOD = timedelta(weeks=8)
# The states a member may give a mandate in: a member, or on their way to being one.
MANDATE_STATES = (
    MembershipStatus.ACTIVE,
    MembershipStatus.PENDING_PAYMENT,
    MembershipStatus.PENDING_APPROVAL,
)
# Collections that count for "already collected this year" and are still to settle.
OPEN_STATES = (CollectionStatus.SCHEDULED, CollectionStatus.SUBMITTED)


@dataclass(frozen=True)
class Creditor:
    """Who collects: named in the mandate text, the pre-notification and the file."""

    name: str
    creditor_id: str
    iban: str
    bic: str


def creditor() -> Creditor:
    """The cooperative as creditor, from the settings (empty strings where not set)."""
    config = current_app.config
    return Creditor(
        name=config["SEPA_CREDITOR_NAME"],
        creditor_id=config["SEPA_CREDITOR_ID"],
        iban=config["BANK_IBAN"],
        bic=config["SEPA_CREDITOR_BIC"],
    )


def route() -> MandateKind | None:
    """How a new mandate is given: through Stripe when it is configured, else the
    cooperative's own when a creditor identifier and IBAN are set; None: not offered."""
    if payments.online_payments_enabled():
        return MandateKind.STRIPE
    found = creditor()
    if found.creditor_id and found.iban:
        return MandateKind.OWN
    return None


def prenotification_days() -> int:
    """How many days before the debit date members are told at the latest."""
    return current_app.config["SEPA_PRENOTIFICATION_DAYS"]


def local_today(now: datetime | None = None) -> date:
    """Today in Amsterdam: debit dates are bank days there."""
    return (now or utcnow()).astimezone(local_zone()).date()


def earliest_debit_date(now: datetime | None = None) -> date:
    """The first debit date a dues run may choose now."""
    return local_today(now) + timedelta(days=prenotification_days())


def start_of(day: date) -> datetime:
    """The first moment of `day` in Amsterdam, as an aware datetime."""
    return datetime.combine(day, time(0, 0), local_zone())


# --- mandates -------------------------------------------------------------------------


def active_mandate(membership: Membership | None) -> SepaMandate | None:
    """The membership's mandate in force, or None."""
    if membership is None:
        return None
    return db.session.scalar(
        sa.select(SepaMandate).where(
            SepaMandate.membership_id == membership.id,
            SepaMandate.status == MandateStatus.ACTIVE,
        )
    )


def mandates_of(membership: Membership | None) -> list[SepaMandate]:
    """Every mandate of the membership, newest first."""
    if membership is None:
        return []
    return list(
        db.session.scalars(
            sa.select(SepaMandate)
            .where(SepaMandate.membership_id == membership.id)
            .order_by(SepaMandate.id.desc())
        )
    )


def check_may_give(membership: Membership | None) -> Membership:
    """Refuses a person who is not a member (nor on their way), or who has a mandate in
    force already; returns the membership."""
    if membership is None or membership.status not in MANDATE_STATES:
        raise Refused(_l("Only members can pay their dues by direct debit."))
    if active_mandate(membership) is not None:
        raise Refused(_l("You have a mandate already. End it first to give a new one."))
    return membership


def next_reference(membership: Membership) -> str:
    """The reference of the membership's next mandate (MEENT-000123-02 for its second)."""
    given = db.session.scalar(
        sa.select(sa.func.count(SepaMandate.id)).where(SepaMandate.membership_id == membership.id)
    )
    return mandate_reference(membership.id, given + 1)


def give_mandate(
    membership: Membership | None,
    iban: str,
    account_holder: str,
    consent: bool,
    now: datetime | None = None,
) -> SepaMandate:
    """The member gives the cooperative its own mandate, signed today, and is e-mailed a copy.

    Refuses when the cooperative takes no mandates of its own (Stripe takes them, or no
    creditor identifier is set), without consent, without a holder's name, with an IBAN
    whose country, length or check digits are wrong, and what `check_may_give` refuses.
    """
    now = now or utcnow()
    if route() != MandateKind.OWN:
        raise Refused(_l("Direct debit mandates are not given on this page now."))
    membership = check_may_give(membership)
    holder = " ".join((account_holder or "").split())
    if not holder:
        raise Refused(_l("Please give the name of the account holder."), "account_holder")
    if len(holder) > 70:
        raise Refused(_l("The name can be at most 70 characters."), "account_holder")
    try:
        compact = checked_iban(iban)
    except InvalidIdentifier:
        raise Refused(
            _l("This IBAN is not right: please check the country, length and digits."), "iban"
        ) from None
    if not consent:
        raise Refused(_l("Please tick the box to give the mandate."), "consent")
    mandate = SepaMandate(
        membership=membership,
        kind=MandateKind.OWN,
        status=MandateStatus.ACTIVE,
        reference=next_reference(membership),
        iban=compact,
        iban_last4=compact[-4:],
        account_holder=holder,
        signed_on=local_today(now),
    )
    db.session.add(mandate)
    db.session.flush()
    mail_member(membership, "mandate_given", mandate=mandate)
    return mandate


def end_mandate(mandate: SepaMandate, now: datetime | None = None) -> None:
    """End a mandate in force (the member's own wish): nothing more is collected under
    it; collections announced but not yet sent are cancelled. Refuses one ended already."""
    now = now or utcnow()
    if mandate.status != MandateStatus.ACTIVE:
        raise Refused(_l("This mandate has ended already."))
    mandate.status = MandateStatus.ENDED
    mandate.ended_at = now
    for collection in db.session.scalars(
        sa.select(Collection).where(
            Collection.mandate_id == mandate.id,
            Collection.status == CollectionStatus.SCHEDULED,
        )
    ):
        collection.status = CollectionStatus.CANCELLED
        collection.reason = "mandate ended"
    db.session.flush()


# --- the dues run ---------------------------------------------------------------------


def owing_on(debit_date: date, now: datetime | None = None) -> list[tuple[Membership, SepaMandate]]:
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

    Refuses a debit date less than SEPA_PRENOTIFICATION_DAYS from today (Amsterdam), and
    a run that would collect from nobody.
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
    owing = owing_on(debit_date, now)
    if not owing:
        raise Refused(_l("No member with a mandate owes dues by that date."), "debit_date")
    run = CollectionRun(debit_date=debit_date, created_by_id=admin.id if admin else None)
    db.session.add(run)
    first_under = _mandates_never_debited([mandate.id for _, mandate in owing])
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
    db.session.flush()
    for collection in run.collections:
        collection.end_to_end_id = end_to_end_id(collection.id)
        mail_member(collection.membership, "dues_prenotification", collection=collection)
    db.session.flush()
    return run


def _mandates_never_debited(mandate_ids: list[int]) -> set[int]:
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


def still_owed(collection: Collection) -> bool:
    """Whether a scheduled collection may still go out: its mandate is in force and the
    member still owes the year it renews (they did not pay another way meanwhile)."""
    membership = collection.membership
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
        payment = Payment(
            provider=PaymentProvider.SEPA_DEBIT,
            status=PaymentStatus.OPEN,
            amount_cents=collection.amount_cents,
            currency="EUR",
            description=f"Direct debit {collection.end_to_end_id}",
            membership=collection.membership,
        )
        db.session.add(payment)
        collection.payment = payment
        db.session.flush()
    memberships.payment_succeeded(payment, now)


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
    mail_member(collection.membership, "dues_failed", collection=collection)


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
    membership = collection.membership
    db.session.refresh(membership)
    collection.reason = reason.strip()[:500]
    payment = collection.payment
    if payment is not None:
        payments.count_refund(payment, payment.amount_cents - payment.refunded_cents)
    # Back to before the renewal: the year's end it paid for, owed again.
    membership.ends_at = collection.period_ends_at
    membership.renewal_reminded_at = None
    if (
        membership.status == MembershipStatus.ACTIVE
        and collection.period_ends_at + memberships.grace_period() <= now
    ):
        membership.status = MembershipStatus.LAPSED
        membership.left_at = now
    db.session.flush()
    mail_member(membership, "dues_reversed", collection=collection)


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


# --- mail -----------------------------------------------------------------------------

SUBJECTS = {
    "mandate_given": lambda: _l("Your direct debit mandate"),
    "dues_prenotification": lambda: _l("Your dues will be debited"),
    "dues_failed": lambda: _l("Your dues could not be debited"),
    "dues_reversed": lambda: _l("Your dues were returned by your bank"),
}


def mail_member(membership: Membership, template: str, **context) -> None:
    """E-mail the member, in their own language, about their mandate or dues."""
    user = membership.user
    queue_mail(
        user.email,
        SUBJECTS[template](),
        template,
        user.locale,
        user=user,
        membership=membership,
        creditor=creditor(),
        mandate_url=external_url("mandate.show"),
        account_url=external_url("account.index"),
        **context,
    )


def export_of(membership_ids: list[int]) -> dict:
    """A person's mandates and collections, for their data export (the whole IBAN too:
    it is their own)."""
    mandates = db.session.scalars(
        sa.select(SepaMandate)
        .where(SepaMandate.membership_id.in_(membership_ids))
        .order_by(SepaMandate.id)
    ).all()
    collections = db.session.scalars(
        sa.select(Collection)
        .where(Collection.membership_id.in_(membership_ids))
        .order_by(Collection.id)
    ).all()
    return {
        "mandates": [
            {
                "reference": mandate.reference,
                "kind": mandate.kind.value,
                "status": mandate.status.value,
                "iban": mandate.iban or f"…{mandate.iban_last4}",
                "account_holder": mandate.account_holder,
                "signed_on": mandate.signed_on.isoformat(),
                "ended_at": mandate.ended_at.isoformat() if mandate.ended_at else None,
            }
            for mandate in mandates
        ],
        "collections": [
            {
                "amount_cents": collection.amount_cents,
                "debit_date": collection.debit_date.isoformat(),
                "status": collection.status.value,
                "reason": collection.reason,
                "end_to_end_id": collection.end_to_end_id,
            }
            for collection in collections
        ],
    }
